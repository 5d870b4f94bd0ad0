import Foundation
import Glibc
import Platform
import Synchronization

/// What `docker exec` asked for.
public struct ExecConfiguration: Codable, Sendable, Equatable {
    public var args: [String]
    public var env: [String]
    public var user: String
    public var workingDir: String
    public var tty: Bool
    public var attachStdin: Bool
    public var attachStdout: Bool
    public var attachStderr: Bool
    public var consoleSize: [Int]
    public var privileged: Bool

    public init(args: [String], env: [String] = [], user: String = "", workingDir: String = "", tty: Bool = false,
                attachStdin: Bool = false, attachStdout: Bool = true, attachStderr: Bool = true,
                consoleSize: [Int] = [0, 0], privileged: Bool = false) {
        self.args = args
        self.env = env
        self.user = user
        self.workingDir = workingDir
        self.tty = tty
        self.attachStdin = attachStdin
        self.attachStdout = attachStdout
        self.attachStderr = attachStderr
        self.consoleSize = consoleSize
        self.privileged = privileged
    }
}

/// An exec instance: created, then started once; its exit code stays readable afterwards.
public final class ExecInstance: Sendable {
    public let id: String
    public let containerID: String
    public let configuration: ExecConfiguration
    let hub = OutputHub(logPath: nil)

    public struct Status: Sendable, Equatable {
        public var running = false
        public var started = false
        public var exitCode: Int32?
        public var pid: Int32 = 0
    }

    private let state = Mutex<(status: Status, io: ProcessIO?, helperPID: pid_t)>((Status(), nil, 0))

    init(id: String, containerID: String, configuration: ExecConfiguration) {
        self.id = id
        self.containerID = containerID
        self.configuration = configuration
    }

    public var status: Status { state.withLock { $0.status } }

    public func kill() {
        let pid = state.withLock { $0.status.running ? $0.status.pid : 0 }
        if pid > 0 { Glibc.kill(pid, SIGKILL) }
    }

    var io: ProcessIO? { state.withLock { $0.io } }

    fileprivate func markStarted(io: ProcessIO) -> Bool {
        state.withLock { inner in
            guard !inner.status.started else { return false }
            inner.status.started = true
            inner.status.running = true
            inner.io = io
            return true
        }
    }

    fileprivate func setPID(_ pid: pid_t) { state.withLock { $0.status.pid = pid } }

    fileprivate func finish(exitCode: Int32) {
        state.withLock { inner in
            inner.status.running = false
            inner.status.exitCode = exitCode
        }
    }
}

extension ContainerService {
    /// `docker exec` step 1: the container must run.
    public func createExec(_ reference: String, configuration config: ExecConfiguration) throws -> ExecInstance {
        let container = try find(reference)
        guard container.run != nil else { throw OnekubeError(.conflict, "container \(container.id) is not running") }
        let exec = ExecInstance(id: ContainerNames.newID(), containerID: container.id, configuration: config)
        execs.withLock { $0[exec.id] = exec }
        _ = container.update { $0.execIDs.append(exec.id) }
        return exec
    }

    public func exec(_ id: String) throws -> ExecInstance {
        guard let exec = execs.withLock({ $0[id] }) else { throw OnekubeError(.notFound, "No such exec instance: \(id)") }
        return exec
    }

    /// `docker exec` step 2: starts the process; the returned stream (subscribed before the
    /// start, so nothing is missed) ends when it has exited and its output is drained, by which
    /// time its exit code is recorded. A command that cannot run reports Docker's message in
    /// the stream and exits 126/127, as Docker does.
    public func startExec(_ id: String) async throws -> AsyncStream<OutputChunk> {
        let exec = try exec(id)
        let container = try find(exec.containerID)
        guard let run = container.run, run.initPID > 0 else {
            throw OnekubeError(.conflict, "container \(container.id) is not running")
        }
        let config = exec.configuration
        let record = container.record
        let io = try ProcessIO(ProcessIO.Options(tty: config.tty, openStdin: config.attachStdin), hub: exec.hub)
        guard exec.markStarted(io: io) else {
            io.closeChildEnds()
            io.shutdown()
            throw OnekubeError(.conflict, "Error: Exec command \(id) is already running")
        }
        var streams: Set<OutputStream> = []
        if config.attachStdout || config.tty { streams.insert(.stdout) }
        if config.attachStderr { streams.insert(.stderr) }
        let output = exec.hub.subscribe(streams)
        // A failure to start is written into the stream: the stream must not end before that.
        let reported = CompletionEvent<Bool>()
        do {
            try exec.hub.beginRun()
            var env = processEnvironment(record.config)
            env += config.env
            let spec = ExecSpec(
                containerPID: run.initPID, cgroupProcsFiles: cgroups.plan(record.id, limits: record.config.resources).procsFiles,
                process: ProcessSpec(args: config.args, env: env,
                                     workingDir: config.workingDir.isEmpty ? record.config.workingDir : config.workingDir,
                                     user: config.user.isEmpty ? record.config.user : config.user,
                                     capabilities: config.privileged ? CapabilitySet(mask: UInt64.max >> 23) : .dockerDefault,
                                     tty: config.tty, rows: UInt16(clamping: config.consoleSize.first ?? 0),
                                     columns: UInt16(clamping: config.consoleSize.dropFirst().first ?? 0)))
            let spawned = try await HelperLauncher.spawn(
                .exec, id: id, spec: spec, stdio: io.childStdio, consoleSocket: io.consoleSocket, zygote: zygote) { status in
                    Task {
                        _ = await reported.wait()
                        let drainTimeout = Task {
                            try? await Task.sleep(for: .seconds(2))
                            io.shutdown()
                        }
                        await io.drained()
                        drainTimeout.cancel()
                        io.shutdown()
                        exec.finish(exitCode: status)
                        exec.hub.endRun()
                    }
                }
            io.closeChildEnds()
            try await io.start()
            let report = try await onDedicatedThread(name: "onekube-exec") { HelperLauncher.readReport(spawned.statusFD) }
            switch report {
            case .started(let pid):
                exec.setPID(pid)
            case .failed(_, let message):
                exec.hub.publish(.stdout, Array("OCI runtime exec failed: exec failed: unable to start container process: \(message): unknown\r\n".utf8))
            }
            reported.complete(true)
        } catch {
            reported.complete(false)
            io.closeChildEnds()
            io.shutdown()
            exec.finish(exitCode: 126)
            exec.hub.endRun()
            throw error
        }
        return output
    }

    public func writeExecStdin(_ id: String, _ bytes: [UInt8]) {
        (try? exec(id))?.io?.writeInput(bytes)
    }

    public func closeExecStdin(_ id: String) {
        (try? exec(id))?.io?.closeInput()
    }

    public func resizeExec(_ id: String, rows: Int, columns: Int) throws {
        let exec = try exec(id)
        exec.io?.resize(rows: UInt16(clamping: rows), columns: UInt16(clamping: columns))
    }
}
