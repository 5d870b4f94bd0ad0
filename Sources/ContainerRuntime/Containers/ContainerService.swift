import Foundation
import Glibc
import Logging
import Platform
import ServiceLifecycle
import Synchronization

/// The containers of this onekube instance: create, start, stop, kill, remove, wait, attach,
/// logs and exec, with Docker's semantics. Each container lives in `containers/<id>/`
/// (config.json, container.log, its upper and work directories and /etc files). A `Service`:
/// on shutdown it stops every container and removes the bridge and its cgroups.
public final class ContainerService: Service, Sendable {
    public let configuration: RuntimeConfiguration
    let logger: Logger
    let network: BridgeNetwork
    let cgroups: CgroupManager
    let containers = Mutex<[String: ManagedContainer]>([:])
    let execs = Mutex<[String: ExecInstance]>([:])
    let zygote: HelperZygote
    let sandboxes = Mutex<[String: ManagedSandbox]>([:])
    /// v1 only (see `CgroupMoveWarmer`).
    let warmer: CgroupMoveWarmer?

    public init(configuration: RuntimeConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        network = BridgeNetwork(bridge: configuration.bridge, network: configuration.podCIDR, logger: logger)
        zygote = HelperZygote(executable: configuration.helperExecutable, logger: logger)
        guard let cgroups = CgroupDetection.manager(root: configuration.cgroupRoot, parent: configuration.cgroupParent) else {
            throw OnekubeError(.unsupported, "no cgroup controllers found under \(configuration.cgroupRoot)")
        }
        self.cgroups = cgroups
        warmer = (cgroups as? CgroupV1Manager)?.warmProcsFile.map { CgroupMoveWarmer(procsFile: $0) }
    }

    /// Containers are about to start: on v1, get a cgroup move's grace period out of their way.
    func expectStarts() {
        guard let warmer, let pid = zygote.pid else { return }
        warmer.poke(pid: pid)
    }

    public var cgroupVersion: Int { cgroups.version }

    // MARK: look-up

    /// By full ID, by name, then by unique ID prefix (Docker's order).
    func find(_ reference: String) throws -> ManagedContainer {
        let name = reference.hasPrefix("/") ? String(reference.dropFirst()) : reference
        return try containers.withLock { all in
            if let exact = all[name] { return exact }
            if let byName = all.values.first(where: { $0.record.name == name }) { return byName }
            let matches = name.isEmpty ? [] : all.values.filter { $0.id.hasPrefix(name) }
            if matches.count == 1 { return matches[0] }
            if matches.count > 1 { throw OnekubeError(.invalidArgument, "multiple IDs found with provided prefix: \(name)") }
            throw OnekubeError(.notFound, "No such container: \(reference)")
        }
    }

    public func inspect(_ reference: String) throws -> ContainerRecord { try find(reference).record }

    /// Newest first, as Docker lists them.
    public func list() -> [ContainerRecord] {
        containers.withLock { Array($0.values) }.map(\.record).sorted { $0.created > $1.created }
    }

    // MARK: create and remove

    public func create(name requested: String?, configuration config: ContainerConfiguration) throws -> ContainerRecord {
        if let requested, !ContainerNames.isValid(requested) {
            throw OnekubeError(.invalidArgument, "Invalid container name (\(requested)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
        }
        if config.portBindings.contains(where: { $0.proto != "tcp" }) {
            throw OnekubeError(.invalidArgument, "onekube publishes TCP ports only")
        }
        let id = ContainerNames.newID()
        let directory = configuration.containersDirectory + "/" + id
        expectStarts()
        var config = config
        if let sandboxID = config.sandboxID {
            // Containers of a pod share its hostname (the pod's name).
            guard let sandbox = sandbox(sandboxID) else { throw OnekubeError(.notFound, "No such sandbox: \(sandboxID)") }
            config.hostname = sandbox.name
        }
        if config.hostname.isEmpty { config.hostname = String(id.prefix(12)) }
        let container = try containers.withLock { all -> ManagedContainer in
            let taken = Set(all.values.map { $0.record.name })
            var name = requested ?? ContainerNames.random()
            if let requested {
                if let holder = all.values.first(where: { $0.record.name == requested }) {
                    throw OnekubeError(.conflict, "Conflict. The container name \"/\(requested)\" is already in use by container \"\(holder.id)\". You have to remove (or rename) that container to be able to reuse that name.")
                }
            } else {
                while taken.contains(name) { name = ContainerNames.random() + "\(Int.random(in: 0..<10))" }
            }
            let record = ContainerRecord(id: id, name: name, created: .now(), config: config)
            let container = ManagedContainer(record: record, directory: directory)
            all[id] = container
            return container
        }
        do {
            for sub in ["", "/work", "/rootfs"] {
                try FileSystem.createDirectory(directory + sub, mode: 0o700)
            }
            // The upper directory is the container's `/`: 0755, or a non-root USER cannot reach
            // anything (the container directory above it stays private).
            try FileSystem.createDirectory(directory + "/upper", mode: 0o755)
            try save(container.record)
        } catch {
            containers.withLock { _ = $0.removeValue(forKey: id) }
            try? FileSystem.removeTree(directory)
            throw error
        }
        return container.record
    }

    /// `docker rename`: a new name, checked and taken under the same lock as create's, so two
    /// containers never share one.
    public func rename(_ reference: String, to requested: String) throws {
        let name = requested.hasPrefix("/") ? String(requested.dropFirst()) : requested
        // moby's order: the container, the same name, the name's form, then who holds it.
        let container = try find(reference)
        let record = try containers.withLock { all -> ContainerRecord in
            if container.record.name == name {
                throw OnekubeError(.invalidArgument, "Renaming a container with the same name as its current name")
            }
            guard ContainerNames.isValid(name) else {
                throw OnekubeError(.invalidArgument, "Invalid container name (\(name)), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
            }
            if let holder = all.values.first(where: { $0.record.name == name }) {
                throw OnekubeError(.conflict, "Conflict. The container name \"/\(name)\" is already in use by container \"\(holder.id)\". You have to remove (or rename) that container to be able to reuse that name.")
            }
            return container.update { $0.name = name }
        }
        try save(record)
    }

    /// `docker rm`: a running container needs `force` (then it is killed first).
    public func remove(_ reference: String, force: Bool) async throws {
        let container = try find(reference)
        try await container.operations.withSlot {
            try await self.removeLocked(container, force: force, reference: reference)
        }
    }

    func removeLocked(_ container: ManagedContainer, force: Bool, reference: String) async throws {
        if let run = container.run {
            guard force else {
                throw OnekubeError(.conflict, "cannot remove container \"\(reference)\": container is running: stop the container before removing or force remove")
            }
            _ = run.signal(SIGKILL)
            _ = await run.ended.wait()
        }
        let alreadyRemoved = container.state.withLock { inner -> Bool in
            defer { inner.removed = true }
            return inner.removed
        }
        if alreadyRemoved { return }
        _ = container.update { $0.state.status = .removing }
        containers.withLock { _ = $0.removeValue(forKey: container.id) }
        let execIDs = container.record.execIDs
        execs.withLock { all in for id in execIDs { all.removeValue(forKey: id) } }
        try FileSystem.removeTree(container.directory)
        container.hub.endRun()
        container.resumeWaiters([.removed, .nextExit, .notRunning], exitCode: container.record.state.exitCode)
    }

    // MARK: waiting

    /// `docker wait`: the exit code once `condition` holds.
    public func wait(_ reference: String, condition: WaitCondition) async throws -> Int32 {
        let container = try find(reference)
        return await withCheckedContinuation { continuation in
            let immediate = container.state.withLock { inner -> Int32? in
                if inner.removed { return inner.record.state.exitCode }
                if condition == .notRunning && inner.run == nil { return inner.record.state.exitCode }
                inner.waiters.append((condition, continuation))
                return nil
            }
            if let immediate { continuation.resume(returning: immediate) }
        }
    }

    // MARK: persistence

    func save(_ record: ContainerRecord) throws {
        let path = configuration.containersDirectory + "/" + record.id + "/config.json"
        let data = try JSONEncoder().encode(record)
        // No fsync: a container's state after a crash is rebuilt from what is found anyway.
        let temp = path + ".tmp"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("open", path: temp) }
        defer { close(fd) }
        try data.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: temp) }
        guard Glibc.rename(temp, path) == 0 else { throw SystemError("rename", path: path) }
    }

    func saveQuietly(_ record: ContainerRecord) {
        do { try save(record) } catch {
            logger.warning("could not save container state", metadata: ["id": "\(record.id)", "error": "\(error)"])
        }
    }

    // MARK: lifecycle of the service

    /// At daemon start: removes what a previous run left (processes, cgroups, veths), reloads
    /// the containers (those that ran are now stopped) and sets up the bridge.
    public func prepare() throws {
        for name in cgroups.leftovers() {
            logger.info("removing a leftover cgroup", metadata: ["cgroup": "\(name)"])
            do { try cgroups.destroy(name) } catch {
                logger.warning("could not remove a leftover cgroup", metadata: ["cgroup": "\(name)", "error": "\(error)"])
            }
        }
        try cgroups.createParents()
        if let warm = (cgroups as? CgroupV1Manager)?.warmDirectory { try FileSystem.createDirectory(warm) }
        try FileSystem.createDirectory(configuration.containersDirectory, mode: 0o700)
        try network.setUp()
        try zygote.prestart()
        try reload()
    }

    private func reload() throws {
        for id in try FileSystem.listDirectory(configuration.containersDirectory) {
            let directory = configuration.containersDirectory + "/" + id
            guard let data = try? FileSystem.readFile(directory + "/config.json"),
                  var record = try? JSONDecoder().decode(ContainerRecord.self, from: Data(data)) else {
                logger.info("removing an incomplete container directory", metadata: ["id": "\(id)"])
                try? FileSystem.removeTree(directory)
                continue
            }
            if record.state.status == .running || record.state.status == .removing {
                if record.config.autoRemove || record.state.status == .removing {
                    try? FileSystem.removeTree(directory)
                    continue
                }
                // Its processes died with the previous daemon (or were killed above).
                record.state.status = .exited
                record.state.exitCode = 137
                record.state.pid = 0
                record.state.finishedAt = .now()
                record.state.ipAddress = nil
                record.state.gateway = nil
                record.state.prefixLength = nil
                record.state.publishedPorts = []
                saveQuietly(record)
            }
            // A mount of an earlier run cannot be left: rootfs mounts live in the container's namespace.
            let container = ManagedContainer(record: record, directory: directory)
            containers.withLock { $0[record.id] = container }
        }
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Stops every running container (SIGTERM or its stop signal, then SIGKILL), then removes
    /// the bridge and the cgroup parents: nothing is left behind.
    public func shutdown() async {
        let running = containers.withLock { Array($0.values) }.filter { $0.run != nil }
        await withTaskGroup(of: Void.self) { group in
            for container in running {
                group.addTask {
                    let timeout = min(container.record.config.stopTimeout ?? self.configuration.shutdownStopTimeout,
                                      self.configuration.shutdownStopTimeout)
                    _ = try? await self.stop(container.id, timeout: timeout, signal: nil)
                }
            }
        }
        for exec in execs.withLock({ Array($0.values) }) { exec.kill() }
        for sandbox in sandboxes.withLock({ Array($0.values) }) { try? await stopSandbox(sandbox.info.id) }
        zygote.stop()
        if let warm = (cgroups as? CgroupV1Manager)?.warmDirectory { try? CgroupFiles.killAndRemove([warm]) }
        cgroups.removeParents()
        network.tearDown()
        logger.info("containers stopped")
    }
}
