import CLinux
import Foundation
import Glibc
import Platform
import Synchronization

/// Watches the daemon's own children through pidfds on one epoll thread and reports each exit
/// once (never a blanket wait(-1), which would steal other components' children).
public final class ChildWatcher: Sendable {
    public static let shared = ChildWatcher()

    private let epoll: Int32
    private let callbacks = Mutex<[Int32: @Sendable (Int32) -> Void]>([:])
    private let started = Mutex(false)

    init() {
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
    }

    /// Calls `onExit` with the shell-style exit status (128+signal when killed) when the child
    /// behind `pidfd` exits; the watcher owns and closes `pidfd`.
    public func watch(pidfd: Int32, onExit: @escaping @Sendable (Int32) -> Void) throws {
        startIfNeeded()
        callbacks.withLock { $0[pidfd] = onExit }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.fd = pidfd
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, pidfd, &event) == 0 else {
            callbacks.withLock { _ = $0.removeValue(forKey: pidfd) }
            throw SystemError("epoll_ctl", path: "pidfd \(pidfd)")
        }
    }

    private func startIfNeeded() {
        let shouldStart = started.withLock { started in
            defer { started = true }
            return !started
        }
        guard shouldStart else { return }
        startThread(named: "onekube-child-watcher", stackSize: 256 << 10) { [self] in loop() }
    }

    private func loop() {
        var events = [epoll_event](repeating: epoll_event(), count: 32)
        while true {
            let n = events.withUnsafeMutableBufferPointer { epoll_wait(epoll, $0.baseAddress, Int32($0.count), -1) }
            if n < 0 { continue }
            for i in 0..<Int(n) {
                let fd = events[i].data.fd
                var status: Int32 = 0
                if cz_waitid_pidfd(fd, WNOHANG, &status) != 0 {
                    if errno == EAGAIN { continue }
                    status = 255
                }
                epoll_ctl(epoll, EPOLL_CTL_DEL, fd, nil)
                let callback = callbacks.withLock { $0.removeValue(forKey: fd) }
                close(fd)
                callback?(status)
            }
        }
    }
}
