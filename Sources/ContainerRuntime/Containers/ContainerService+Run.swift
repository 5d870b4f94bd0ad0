import Foundation
import Glibc
import NIOCore
import Platform
import PortForwarding

extension ContainerService {
    /// `docker start`. Returns false when the container already runs (HTTP 304). A process
    /// that cannot start throws `ContainerStartFailure` (Docker's OCI error wording).
    public func start(_ reference: String) async throws -> Bool {
        let container = try find(reference)
        return try await container.operations.withSlot {
            try await self.startLocked(container)
        }
    }

    func startLocked(_ container: ManagedContainer) async throws -> Bool {
        if container.run != nil { return false }
        expectStarts()
        let record = container.record
        guard record.state.status != .removing else {
            throw OnekubeError(.conflict, "container \(record.id) is marked for removal and cannot be started")
        }
        let config = record.config
        let directory = container.directory
        let cgroupName = record.id

        var attachment: NetworkAttachment?
        var forwarders: [PortForwarder] = []
        var io: ProcessIO?
        var cgroupCreated = false
        func undo() async {
            await unpublish(forwarders, config.portBindings)
            if let attachment { network.release(attachment) }
            if cgroupCreated { try? cgroups.destroy(cgroupName) }
            io?.closeChildEnds()
            io?.shutdown()
        }
        do {
            let clock = ContinuousClock()
            let begun = clock.now
            var sandbox: SandboxInfo?
            if let sandboxID = config.sandboxID {
                guard let info = self.sandbox(sandboxID) else { throw OnekubeError(.notFound, "No such sandbox: \(sandboxID)") }
                sandbox = info
            } else if !config.networkDisabled {
                attachment = try network.attachment(for: record.id)
            }
            let address = sandbox?.address ?? attachment?.address
            forwarders = try await publish(config.portBindings, to: address, record: record)
            try writeEtcFiles(directory: directory, hostname: config.hostname, address: address, resolvConf: config.resolvConf,
                              extraHosts: config.extraHosts ?? [])
            // As `docker run -v` does, a missing host directory is made.
            for bind in config.binds ?? [] where !FileSystem.exists(bind.source) {
                try FileSystem.createDirectory(bind.source, mode: 0o755)
            }
            let plan = try cgroups.create(cgroupName, limits: config.resources)
            cgroupCreated = true
            let processIO = try ProcessIO(ProcessIO.Options(tty: config.tty, openStdin: config.openStdin), hub: container.hub)
            io = processIO
            let spec = InitSpec(
                containerID: record.id, sandboxPID: sandbox?.pid, hostname: config.hostname, network: attachment,
                rootfs: RootfsPlan.container(layers: config.layers, containerDirectory: directory, etc: .init(
                    hostname: directory + "/hostname", hosts: directory + "/hosts", resolvConf: directory + "/resolv.conf"),
                    binds: config.binds ?? []),
                cgroupProcsFiles: plan.procsFiles,
                process: ProcessSpec(args: config.args, env: processEnvironment(config), workingDir: config.workingDir,
                                     user: config.user, tty: config.tty,
                                     rows: UInt16(clamping: config.consoleSize.first ?? 0),
                                     columns: UInt16(clamping: config.consoleSize.dropFirst().first ?? 0)))
            try container.hub.beginRun()
            let prepared = clock.now
            let run = ActiveRun(io: processIO, attachment: attachment, forwarders: forwarders, portBindings: config.portBindings,
                                cgroupName: cgroupName)
            container.state.withLock { inner in
                // Input that came before the start (`docker run -i` attaches first) goes first.
                inner.run = run
                processIO.writeInput(inner.pendingStdin)
                if inner.stdinClosed { processIO.closeInput() }
                inner.pendingStdin = []
                inner.stdinClosed = false
            }
            let spawned: HelperLauncher.Spawned
            do {
                spawned = try await HelperLauncher.spawn(
                    .container, id: record.id, spec: spec, stdio: processIO.childStdio, consoleSocket: processIO.consoleSocket,
                    zygote: zygote) { [weak self] status in
                        Task { await self?.runEnded(container, run: run, status: status) }
                    }
            } catch {
                container.state.withLock { $0.run = nil }
                throw error
            }
            processIO.closeChildEnds()
            do {
                try await processIO.start()
                run.ioReady.complete(true)
            } catch {
                run.ioReady.complete(false)
                throw error
            }
            let report = try await onDedicatedThread(name: "onekube-start") { HelperLauncher.readReport(spawned.statusFD) }
            logger.debug("container process started", metadata: [
                "id": "\(record.shortID)", "prepare": "\(prepared - begun)", "helper": "\(clock.now - prepared)",
            ])
            switch report {
            case .started(let pid):
                run.setInit(pid: pid)
                let updated = container.update { record in
                    record.state.status = .running
                    record.state.pid = pid
                    record.state.exitCode = 0
                    record.state.error = ""
                    record.state.oomKilled = false
                    record.state.startedAt = .now()
                    record.state.finishedAt = nil
                    record.state.ipAddress = address?.description
                    record.state.gateway = (sandbox?.gateway ?? attachment?.gateway)?.description
                    record.state.prefixLength = sandbox?.prefixLength ?? attachment?.prefixLength
                    record.state.publishedPorts = zip(config.portBindings, forwarders).map { binding, forwarder in
                        var bound = binding
                        bound.hostPort = forwarder.localAddress.port ?? binding.hostPort
                        return bound
                    }
                }
                saveQuietly(updated)
                return true
            case .failed(let exitCode, let message):
                run.startFailure.withLock { $0 = message }
                // The helper exits with the same code; `runEnded` cleans up (and auto-removes).
                _ = container.update { record in
                    record.state.exitCode = exitCode
                    record.state.error = ContainerStartFailure.ociMessage(message)
                }
                throw ContainerStartFailure(message: message, exitCode: exitCode)
            }
        } catch let failure as ContainerStartFailure {
            throw failure
        } catch {
            if container.run == nil {
                await undo()
                container.hub.endRun()
            }
            throw error
        }
    }

    /// Binds every published port before the container starts: a port in use fails the start
    /// with nothing half-created. A fixed port on the wildcard address is shared with service
    /// addresses (PortSharing) but claimed against this daemon's other containers.
    func publish(_ bindings: [PortBinding], to address: IPv4Address?, record: ContainerRecord) async throws -> [PortForwarder] {
        var forwarders: [PortForwarder] = []
        for binding in bindings {
            guard let address else { break }
            let target = try SocketAddress(ipAddress: address.description, port: binding.containerPort)
            let host = binding.hostIP.isEmpty ? "0.0.0.0" : binding.hostIP
            let shared = PortSharing.isWildcard(host) && binding.hostPort != 0
            do {
                if shared && !PortSharing.claimWildcard(port: binding.hostPort, proto: binding.proto) {
                    throw OnekubeError(.conflict, "address already in use")
                }
                do {
                    if binding.proto == "udp" {
                        forwarders.append(.udp(try await UDPForwarder.start(host: host, port: binding.hostPort, backends: { _ in [target] },
                                                                            reusePort: shared, logger: logger)))
                    } else {
                        forwarders.append(.tcp(try await TCPForwarder.start(host: host, port: binding.hostPort, backends: { _ in [target] },
                                                                            reusePort: shared, logger: logger)))
                    }
                } catch {
                    if shared { PortSharing.releaseWildcard(port: binding.hostPort, proto: binding.proto) }
                    throw error
                }
            } catch {
                await unpublish(forwarders, bindings)
                let reason = (error as? IOError).map { String(cString: strerror($0.errnoCode)).lowercased() }
                    ?? (error as? OnekubeError)?.message ?? "\(error)"
                throw OnekubeError(.internalError, "driver failed programming external connectivity on endpoint \(record.name) (\(record.id)): failed to bind host port for \(host):\(binding.hostPort):\(address):\(binding.containerPort)/\(binding.proto): \(reason)")
            }
        }
        return forwarders
    }

    /// Stops the forwarders `publish` made for `bindings` (in the same order) and releases
    /// their wildcard claims.
    func unpublish(_ forwarders: [PortForwarder], _ bindings: [PortBinding]) async {
        for (forwarder, binding) in zip(forwarders, bindings) {
            await forwarder.stop()
            if (binding.hostIP.isEmpty || PortSharing.isWildcard(binding.hostIP)) && binding.hostPort != 0 {
                PortSharing.releaseWildcard(port: binding.hostPort, proto: binding.proto)
            }
        }
    }

    /// Written in place without fsync (on the start path, and rebuilt at every start): the
    /// container is not running, and its bind mounts must find the same files.
    func writeEtcFiles(directory: String, hostname: String, address: IPv4Address?, resolvConf: String?, extraHosts: [String]) throws {
        let resolver = resolvConf ?? EtcFiles.resolvConf(host: (try? FileSystem.readString("/etc/resolv.conf")) ?? "")
        let hosts = EtcFiles.hosts(hostname: hostname, address: address?.description, extraHosts: extraHosts,
                                   gateway: configuration.podCIDR.gateway.description)
        for (name, text) in [("hostname", hostname + "\n"), ("hosts", hosts),
                             ("resolv.conf", resolver)] {
            try FileSystem.overwrite(directory + "/" + name, text)
        }
    }

    /// Docker's environment: PATH when the image has none, HOSTNAME, TERM with a terminal.
    func processEnvironment(_ config: ContainerConfiguration) -> [String] {
        var env: [String] = []
        if !config.env.contains(where: { $0.hasPrefix("PATH=") }) { env.append("PATH=\(ExecutableLookup.defaultPath)") }
        env.append("HOSTNAME=\(config.hostname)")
        if config.tty { env.append("TERM=xterm") }
        return env + config.env
    }

    /// The helper exited: drain the output, record the exit, release everything, wake waiters.
    func runEnded(_ container: ManagedContainer, run: ActiveRun, status: Int32) async {
        _ = await run.ioReady.wait()
        let drainTimeout = Task {
            try? await Task.sleep(for: .seconds(2))
            run.io.shutdown()
        }
        await run.io.drained()
        drainTimeout.cancel()
        let oomKilled = cgroups.oomKilled(run.cgroupName)
        await unpublish(run.forwarders, run.portBindings)
        do { try cgroups.destroy(run.cgroupName) } catch {
            logger.warning("could not remove a container's cgroup", metadata: ["id": "\(container.id)", "error": "\(error)"])
        }
        if let attachment = run.attachment { network.release(attachment) }
        run.io.shutdown()
        run.closeInit()
        let failure = run.startFailure.withLock { $0 }
        let updated = container.state.withLock { inner -> ContainerRecord in
            inner.run = nil
            inner.pendingStdin = []
            inner.stdinClosed = false
            if inner.record.state.status == .running || failure == nil {
                inner.record.state.status = .exited
            }
            inner.record.state.exitCode = status
            inner.record.state.oomKilled = oomKilled
            inner.record.state.pid = 0
            inner.record.state.finishedAt = .now()
            inner.record.state.ipAddress = nil
            inner.record.state.gateway = nil
            inner.record.state.prefixLength = nil
            inner.record.state.publishedPorts = []
            return inner.record
        }
        container.hub.endRun()
        if !container.state.withLock({ $0.removed }) { saveQuietly(updated) }
        run.ended.complete(status)
        container.resumeWaiters([.nextExit, .notRunning], exitCode: status)
        if updated.config.autoRemove {
            do {
                try await remove(container.id, force: true)
            } catch {
                logger.warning("could not auto-remove a container", metadata: ["id": "\(container.id)", "error": "\(error)"])
            }
        }
    }

    // MARK: stop, kill, restart

    /// `docker stop`: the signal (or the image's StopSignal, or SIGTERM), then SIGKILL after
    /// `timeout` seconds (-1: wait for ever). Returns false when it was not running (HTTP 304).
    public func stop(_ reference: String, timeout: Int?, signal: String?) async throws -> Bool {
        let container = try find(reference)
        return try await container.operations.withSlot {
            try await self.stopLocked(container, timeout: timeout, signal: signal)
        }
    }

    func stopLocked(_ container: ManagedContainer, timeout: Int?, signal: String?) async throws -> Bool {
        guard let run = container.run else { return false }
        let config = container.record.config
        let signalName = signal ?? config.stopSignal ?? "SIGTERM"
        guard let number = Signals.parse(signalName) else { throw OnekubeError(.invalidArgument, "Invalid signal: \(signalName)") }
        let seconds = timeout ?? config.stopTimeout ?? 10
        _ = run.signal(number)
        if seconds >= 0, await run.ended.wait(timeout: Double(seconds)) == nil {
            _ = run.signal(SIGKILL)
        }
        _ = await run.ended.wait()
        return true
    }

    /// `docker kill` and the CLI's signal proxy.
    public func kill(_ reference: String, signal: String?) throws {
        let container = try find(reference)
        let name = signal.flatMap { $0.isEmpty ? nil : $0 } ?? "SIGKILL"
        guard let number = Signals.parse(name) else { throw OnekubeError(.invalidArgument, "Invalid signal: \(name)") }
        guard let run = container.run, run.initPID > 0 else {
            throw OnekubeError(.conflict, "cannot kill container: \(reference): container \(container.id) is not running")
        }
        _ = run.signal(number)
    }

    public func restart(_ reference: String, timeout: Int?, signal: String?) async throws {
        let container = try find(reference)
        try await container.operations.withSlot {
            _ = try await self.stopLocked(container, timeout: timeout, signal: signal)
            _ = try await self.startLocked(container)
        }
    }

    // MARK: attach, stdin, resize, logs

    /// Live output of the current run, or of the next one (attach before start).
    public func attach(_ reference: String, streams: Set<OutputStream>) throws -> (ContainerRecord, AsyncStream<OutputChunk>) {
        let container = try find(reference)
        return (container.record, container.hub.subscribe(streams))
    }

    /// Bytes for the container's stdin, kept in order (and kept until a run starts).
    public func writeStdin(_ id: String, _ bytes: [UInt8]) {
        guard let container = try? find(id) else { return }
        container.state.withLock { inner in
            if let run = inner.run { run.io.writeInput(bytes) } else { inner.pendingStdin += bytes }
        }
    }

    /// The attached client's stdin ended.
    public func closeStdin(_ id: String) {
        guard let container = try? find(id) else { return }
        container.state.withLock { inner in
            if let run = inner.run { run.io.closeInput() } else { inner.stdinClosed = true }
        }
    }

    public func resize(_ reference: String, rows: Int, columns: Int) throws {
        let container = try find(reference)
        guard let run = container.run else {
            throw OnekubeError(.conflict, "Container \(container.id) is not running")
        }
        run.io.resize(rows: UInt16(clamping: rows), columns: UInt16(clamping: columns))
    }

    /// The log so far, and live output while the container runs (`logs -f`).
    public func logs(_ reference: String, follow: Bool) throws -> (ContainerRecord, [ContainerLog.Entry], AsyncStream<OutputChunk>?) {
        let container = try find(reference)
        if follow {
            let (past, live) = container.hub.follow()
            return (container.record, past, live)
        }
        return (container.record, container.hub.readLog(), nil)
    }

    // MARK: observation

    public func stats(_ reference: String) throws -> CgroupStats {
        let container = try find(reference)
        guard container.run != nil else { return CgroupStats() }
        return cgroups.stats(container.id)
    }

    /// Host pids of the container's processes (`docker top`).
    public func processes(_ reference: String) throws -> [pid_t] {
        let container = try find(reference)
        guard container.run != nil else {
            throw OnekubeError(.conflict, "container \(container.id) is not running")
        }
        return cgroups.processes(container.id)
    }
}

/// A container process that could not start, with Docker's wording around the runtime's reason.
public struct ContainerStartFailure: Error, CustomStringConvertible {
    public var message: String
    public var exitCode: Int32

    public var description: String { Self.ociMessage(message) }

    static func ociMessage(_ message: String) -> String {
        "failed to create task for container: failed to create shim task: OCI runtime create failed: onekube: unable to start container process: error during container init: \(message): unknown"
    }
}
