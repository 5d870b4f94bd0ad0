import Foundation
import APIServer
import ContainerRuntime
import Logging
import Synchronization

/// exec, attach and port-forward for pods over onekube's container runtime, as the kubelet's
/// streaming server does over CRI: a pod's containers are the runtime's containers labelled
/// with the pod's namespace, name, uid and container name.
public final class RuntimePodStreaming: PodStreaming {
    let containers: ContainerService
    let logger: Logger

    public init(containers: ContainerService, logger: Logger) {
        self.containers = containers
        self.logger = logger
    }

    public func exec(_ target: PodContainer, command: [String], tty: Bool, stdin: Bool) throws -> any ContainerStreamSession {
        let record = try runningContainer(target)
        let configuration = ExecConfiguration(args: command, tty: tty, attachStdin: stdin, attachStdout: true, attachStderr: !tty)
        let exec: ExecInstance
        do {
            exec = try containers.createExec(record.id, configuration: configuration)
        } catch {
            throw PodStreamingError("container not found (\"\(target.container)\")")
        }
        return ExecSession(containers: containers, execID: exec.id)
    }

    public func attach(_ target: PodContainer, tty: Bool, stdin: Bool) throws -> any ContainerStreamSession {
        let record = try runningContainer(target)
        return AttachSession(containers: containers, containerID: record.id, stdin: stdin,
                             closesStdin: record.config.stdinOnce)
    }

    public func forward(_ pod: PodAddress, port: Int, input: AsyncStream<[UInt8]>,
                        output: @escaping @Sendable ([UInt8]) async throws -> Void) async throws {
        guard let ip = pod.ip, !ip.isEmpty else {
            throw PodStreamingError("pod \(pod.pod) has no IP address yet")
        }
        try await PodConnection.splice(host: ip, port: port, input: input, output: output)
    }

    /// The pod's running container of that name (the newest, after restarts); the uid keeps a
    /// recreated pod of the same name from reaching the old one's leftovers.
    func runningContainer(_ target: PodContainer) throws -> ContainerRecord {
        let candidates = containers.list().filter { record in
            let labels = record.config.labels
            return labels["io.kubernetes.pod.namespace"] == target.namespace && labels["io.kubernetes.pod.name"] == target.pod
                && labels["io.kubernetes.container.name"] == target.container
                && (target.uid.isEmpty || labels["io.kubernetes.pod.uid"] == nil || labels["io.kubernetes.pod.uid"] == target.uid)
                && record.state.isRunning
        }
        guard let newest = candidates.max(by: { $0.created < $1.created }) else {
            throw PodStreamingError("container not found (\"\(target.container)\")")
        }
        return newest
    }
}

/// Stdin that arrives before the process exists (the client writes right after the upgrade)
/// is kept and written once it runs.
final class PendingInput: Sendable {
    private struct State {
        var started = false
        var pending: [[UInt8]] = []
        var closed = false
    }

    private let state = Mutex(State())

    /// Writes now if the process runs, else keeps the bytes; under the lock, so order holds.
    func write(_ bytes: [UInt8], _ deliver: ([UInt8]) -> Void) {
        state.withLock { state in
            if state.started { deliver(bytes) } else { state.pending.append(bytes) }
        }
    }

    func close(_ deliver: () -> Void) {
        state.withLock { state in
            if state.started { deliver() } else { state.closed = true }
        }
    }

    func started(write: ([UInt8]) -> Void, close: () -> Void) {
        state.withLock { state in
            for bytes in state.pending { write(bytes) }
            state.pending = []
            if state.closed { close() }
            state.started = true
        }
    }
}

final class ExecSession: ContainerStreamSession {
    let containers: ContainerService
    let execID: String
    let input = PendingInput()
    let pendingSize = Mutex<(Int, Int)?>(nil)

    init(containers: ContainerService, execID: String) {
        self.containers = containers
        self.execID = execID
    }

    func start() async throws -> AsyncStream<ContainerOutput> {
        let output = try await containers.startExec(execID)
        let containers = self.containers, id = execID
        input.started(write: { containers.writeExecStdin(id, $0) }, close: { containers.closeExecStdin(id) })
        if let (width, height) = pendingSize.withLock({ $0 }) {
            try? containers.resizeExec(id, rows: height, columns: width)
        }
        return withStartFailureHeld(output)
    }

    /// The runtime reports a command that cannot start as Docker does: its message as output,
    /// exit code 126 or 127. The kubelet reports it as an error instead, so the message is held
    /// back until the exit code tells which it was.
    func withStartFailureHeld(_ output: AsyncStream<OutputChunk>) -> AsyncStream<ContainerOutput> {
        let box = IteratorBox(output.makeAsyncIterator())
        let first = Locked(true)
        let session = self
        return AsyncStream<ContainerOutput> {
            guard let chunk = await box.iterator.next() else { return nil }
            let isFirst = first.withLock { value in defer { value = false }; return value }
            if isFirst, chunk.bytes.starts(with: Array(Self.startFailurePrefix.utf8)) {
                let message = String(decoding: chunk.bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                // The process never ran: nothing else comes but the end.
                while await box.iterator.next() != nil {}
                if let code = session.exitStatus(), code == 126 || code == 127 {
                    session.startFailure.withLock { $0 = message }
                    return nil
                }
                return ContainerOutput(stream: .stdout, bytes: chunk.bytes)
            }
            return ContainerOutput(stream: chunk.stream == .stderr ? .stderr : .stdout, bytes: chunk.bytes)
        }
    }

    static let startFailurePrefix = "OCI runtime exec failed: "
    let startFailure = Locked<String?>(nil)

    func writeStdin(_ bytes: [UInt8]) {
        let containers = self.containers, id = execID
        input.write(bytes) { containers.writeExecStdin(id, $0) }
    }

    func closeStdin() {
        let containers = self.containers, id = execID
        input.close { containers.closeExecStdin(id) }
    }

    func resize(width: Int, height: Int) {
        // kubectl sends the size right after connecting, before the process has a terminal.
        pendingSize.withLock { $0 = (width, height) }
        try? containers.resizeExec(execID, rows: height, columns: width)
    }

    func exitStatus() -> Int32? {
        (try? containers.exec(execID))?.status.exitCode
    }

    func outcome() -> ContainerStreamOutcome {
        if let message = startFailure.withLock({ $0 }) {
            return .failedToStart("failed to exec in container: failed to start exec \"\(execID)\": \(message)")
        }
        return .exited(exitStatus() ?? 137)
    }
}

final class AttachSession: ContainerStreamSession {
    let containers: ContainerService
    let containerID: String
    let stdin: Bool
    let closesStdin: Bool

    init(containers: ContainerService, containerID: String, stdin: Bool, closesStdin: Bool) {
        self.containers = containers
        self.containerID = containerID
        self.stdin = stdin
        self.closesStdin = closesStdin
    }

    /// Client input that arrives before the output is subscribed waits: otherwise the container
    /// could answer it before anyone listens (the transports read input and start concurrently).
    let input = PendingInput()

    func start() async throws -> AsyncStream<ContainerOutput> {
        let output = try containers.attach(containerID, streams: [.stdout, .stderr]).1.containerOutput
        let containers = self.containers, id = containerID, stdin = self.stdin, closesStdin = self.closesStdin
        input.started(write: { if stdin { containers.writeStdin(id, $0) } },
                      close: { if stdin && closesStdin { containers.closeStdin(id) } })
        return output
    }

    func writeStdin(_ bytes: [UInt8]) {
        let containers = self.containers, id = containerID
        if stdin { input.write(bytes) { containers.writeStdin(id, $0) } }
    }

    /// As the kubelet does: the container's stdin closes with the client's only for stdinOnce.
    func closeStdin() {
        let containers = self.containers, id = containerID
        if stdin && closesStdin { input.close { containers.closeStdin(id) } }
    }

    func resize(width: Int, height: Int) {
        try? containers.resize(containerID, rows: height, columns: width)
    }

    func outcome() -> ContainerStreamOutcome { .ended }
}

/// A Mutex that closures and tasks can share.
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>

    init(_ value: Value) { mutex = Mutex(value) }

    func withLock<T>(_ body: (inout Value) throws -> T) rethrows -> T { try mutex.withLock { try body(&$0) } }
}

/// Lets a mutable iterator live in a @Sendable closure: only one task ever calls next().
final class IteratorBox<Base: AsyncIteratorProtocol>: @unchecked Sendable {
    var iterator: Base
    init(_ iterator: Base) { self.iterator = iterator }
}

extension AsyncStream where Element == OutputChunk {
    var containerOutput: AsyncStream<ContainerOutput> {
        let box = IteratorBox(makeAsyncIterator())
        return AsyncStream<ContainerOutput> {
            guard let chunk = await box.iterator.next() else { return nil }
            return ContainerOutput(stream: chunk.stream == .stderr ? .stderr : .stdout, bytes: chunk.bytes)
        }
    }
}
