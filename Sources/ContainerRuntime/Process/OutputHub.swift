import Foundation
import Glibc
import Platform
import Synchronization

/// Where a process's output goes: its log file (containers) and the live subscribers (attach,
/// `logs -f`). One lock orders log writes and deliveries, so a follower that reads the log up to
/// a point and then subscribes sees every byte exactly once.
public final class OutputHub: Sendable {
    public let logPath: String?

    private struct Subscriber {
        var streams: Set<OutputStream>
        var continuation: AsyncStream<OutputChunk>.Continuation
    }

    private struct State {
        var subscribers: [UInt64: Subscriber] = [:]
        var nextID: UInt64 = 0
        var logFD: Int32 = -1
        /// Whether a run is going on: subscribers then end with it.
        var running = false
    }

    private let state = Mutex(State())

    public init(logPath: String?) {
        self.logPath = logPath
    }

    deinit {
        state.withLock { state in
            if state.logFD >= 0 { close(state.logFD) }
        }
    }

    /// Live output from now until the end of the current run (or of the next one, when nothing
    /// runs yet: `docker run` attaches before it starts the container).
    public func subscribe(_ streams: Set<OutputStream>) -> AsyncStream<OutputChunk> {
        let (stream, continuation) = AsyncStream<OutputChunk>.makeStream()
        let id = state.withLock { state -> UInt64 in
            state.nextID += 1
            state.subscribers[state.nextID] = Subscriber(streams: streams, continuation: continuation)
            return state.nextID
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    /// The log as it is now, plus live output when the process runs (`logs -f`).
    public func follow() -> (past: [ContainerLog.Entry], live: AsyncStream<OutputChunk>?) {
        state.withLock { state in
            let past = logPath.flatMap { try? FileSystem.readFile($0) }.map(ContainerLog.decode) ?? []
            guard state.running else { return (past, nil) }
            let (stream, continuation) = AsyncStream<OutputChunk>.makeStream()
            state.nextID += 1
            let id = state.nextID
            state.subscribers[id] = Subscriber(streams: [.stdout, .stderr], continuation: continuation)
            continuation.onTermination = { [weak self] _ in
                _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
            }
            return (past, stream)
        }
    }

    public func readLog() -> [ContainerLog.Entry] {
        logPath.flatMap { try? FileSystem.readFile($0) }.map(ContainerLog.decode) ?? []
    }

    /// A run begins: output is logged from now on.
    func beginRun() throws {
        try state.withLock { state in
            state.running = true
            if let logPath, state.logFD < 0 {
                let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o640)
                guard fd >= 0 else { throw SystemError("open", path: logPath) }
                state.logFD = fd
            }
        }
    }

    func publish(_ stream: OutputStream, _ bytes: [UInt8]) {
        let chunk = OutputChunk(stream: stream, bytes: bytes, time: .now())
        state.withLock { state in
            if state.logFD >= 0 {
                ContainerLog.encode(chunk).withUnsafeBytes { try? FileSystem.writeAll(state.logFD, $0, path: logPath ?? "log") }
            }
            for subscriber in state.subscribers.values where subscriber.streams.contains(stream) {
                subscriber.continuation.yield(chunk)
            }
        }
    }

    /// The run is over and its output drained: every subscriber's stream ends.
    func endRun() {
        let ended = state.withLock { state -> [Subscriber] in
            state.running = false
            if state.logFD >= 0 {
                close(state.logFD)
                state.logFD = -1
            }
            defer { state.subscribers = [:] }
            return Array(state.subscribers.values)
        }
        for subscriber in ended { subscriber.continuation.finish() }
    }
}
