import CLinux
import Foundation
import Glibc
import Logging
import Platform
import Synchronization

/// The daemon's side of the runtime helpers' zygote (see `Zygote`): spawns it (posix_spawn of
/// /proc/self/exe; the daemon itself never forks), asks it for helpers and hands each helper's
/// exit code to the callback given with its request. Restarted on demand if it died.
final class HelperZygote: Sendable {
    private struct State {
        var socket: Int32 = -1
        var pid: pid_t = 0
        var pending: [UInt64: (CheckedContinuation<pid_t, Error>, @Sendable (Int32) -> Void)] = [:]
        var exits: [pid_t: @Sendable (Int32) -> Void] = [:]
        var nextTag: UInt64 = 0
    }

    private let state = Mutex(State())
    let executable: String
    let logger: Logger

    init(executable: String, logger: Logger) {
        self.executable = executable
        self.logger = logger
    }

    /// Asks for a helper in `mode` with `descriptors` as its fds 0, 1, 2…; `onExit` gets its
    /// exit code. Returns the helper's pid.
    func spawn(_ mode: RuntimeHelper.Mode, id: String, descriptors: [Int32], onExit: @escaping @Sendable (Int32) -> Void) async throws -> pid_t {
        try await withCheckedThrowingContinuation { continuation in
            do {
                try state.withLock { state in
                    if state.socket < 0 { (state.socket, state.pid) = try start() }
                    state.nextTag += 1
                    let tag = state.nextTag
                    let request = Array("spawn \(tag) \(mode.rawValue) \(id)".utf8)
                    let sent = request.withUnsafeBytes { bytes in
                        descriptors.withUnsafeBufferPointer { cz_send_message(state.socket, bytes.baseAddress, bytes.count, $0.baseAddress, Int32($0.count)) }
                    }
                    guard sent == 0 else { throw SystemError("sendmsg", path: "runtime helper zygote") }
                    state.pending[tag] = (continuation, onExit)
                }
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }

    /// Starts the zygote now (at daemon start-up) rather than at the first request.
    func prestart() throws {
        try state.withLock { state in
            if state.socket < 0 { (state.socket, state.pid) = try start() }
        }
    }

    /// The zygote's pid, once started.
    var pid: pid_t? { state.withLock { $0.socket >= 0 && $0.pid > 0 ? $0.pid : nil } }

    /// Closes the connection: the zygote exits (helpers it forked carry on).
    func stop() {
        let socket = state.withLock { state -> Int32 in
            defer { state.socket = -1 }
            return state.socket
        }
        if socket >= 0 { shutdown(socket, Int32(SHUT_RDWR)) }
    }

    /// Spawns the zygote with one end of a socket pair as its fd 3; a thread reads its answers.
    private func start() throws -> (socket: Int32, pid: pid_t) {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
            throw SystemError("socketpair", path: "runtime helper zygote")
        }
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer {
            close(pair[1])
            if null >= 0 { close(null) }
        }
        let pid: pid_t
        do {
            pid = try HelperLauncher.spawnProcess(executable, arguments: RuntimeHelper.arguments(.zygote, id: "zygote"),
                                                  descriptors: [null, null, null, pair[1]])
        } catch {
            close(pair[0])
            throw error
        }
        let pidfd = cz_pidfd_open(pid)
        if pidfd >= 0 {
            let logger = self.logger
            try? ChildWatcher.shared.watch(pidfd: pidfd) { status in
                logger.debug("runtime helper zygote exited", metadata: ["pid": "\(pid)", "status": "\(status)"])
            }
        }
        let socket = pair[0]
        startThread(named: "onekube-zygote", stackSize: 256 << 10) { [self] in readAnswers(socket) }
        logger.debug("runtime helper zygote started", metadata: ["pid": "\(pid)"])
        return (socket, pid)
    }

    private func readAnswers(_ socket: Int32) {
        var buffer = [UInt8](repeating: 0, count: 512)
        var fds = [Int32](repeating: -1, count: 8)
        while true {
            var count: Int32 = 0
            let n = buffer.withUnsafeMutableBytes { bytes in
                fds.withUnsafeMutableBufferPointer { cz_recv_message(socket, bytes.baseAddress, bytes.count, $0.baseAddress, 8, &count) }
            }
            for fd in fds.prefix(Int(count)) { close(fd) }
            if n <= 0 { break }
            let words = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: " ")
            guard words.count == 3, let first = UInt64(words[1]), let second = Int32(words[2]) else { continue }
            switch words[0] {
            case "spawned":
                let waiter = state.withLock { state -> CheckedContinuation<pid_t, Error>? in
                    guard let (continuation, onExit) = state.pending.removeValue(forKey: first) else { return nil }
                    state.exits[pid_t(second)] = onExit
                    return continuation
                }
                waiter?.resume(returning: pid_t(second))
            case "failed":
                let waiter = state.withLock { $0.pending.removeValue(forKey: first)?.0 }
                waiter?.resume(throwing: SystemError("fork", path: "runtime helper", errno: second))
            case "exited":
                let onExit = state.withLock { $0.exits.removeValue(forKey: pid_t(first)) }
                onExit?(second)
            default:
                continue
            }
        }
        close(socket)
        // The zygote is gone: requests in flight fail; the next one starts a new zygote.
        let (pending, orphans) = state.withLock { state -> ([CheckedContinuation<pid_t, Error>], Int) in
            if state.socket == socket { state.socket = -1 }
            defer { state.pending = [:] }
            return (state.pending.values.map(\.0), state.exits.count)
        }
        for continuation in pending { continuation.resume(throwing: SystemError("recvmsg", path: "runtime helper zygote", errno: EPIPE)) }
        if orphans > 0 {
            logger.error("the runtime helper zygote died; exits of running containers will not be seen", metadata: ["containers": "\(orphans)"])
        }
    }
}
