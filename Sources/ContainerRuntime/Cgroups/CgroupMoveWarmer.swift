import Foundation
import Glibc
import Platform
import Synchronization

/// On cgroup v1 every move of a process into a cgroup takes a global lock whose write side waits
/// for an RCU grace period (5–15 ms here) unless another move happened moments before. A
/// container's start has exactly one move on its critical path, so while containers are being
/// created and started this keeps the lock warm: a thread re-writes the zygote's pid into a
/// `warm` cgroup every few milliseconds, paying the grace period off the critical path.
final class CgroupMoveWarmer: Sendable {
    private let procsFile: String
    private let state = Mutex<(pid: pid_t, until: ContinuousClock.Instant, running: Bool)>((0, .now, false))
    private let wake = DispatchSemaphore(value: 0)

    /// The `cgroup.procs` of the warm cgroup (in one v1 hierarchy).
    init(procsFile: String) {
        self.procsFile = procsFile
    }

    /// Keeps the lock warm for the next `seconds`, moving `pid` (a process of ours that may
    /// live in any cgroup: the zygote).
    func poke(pid: pid_t, seconds: Double = 0.2) {
        let shouldStart = state.withLock { state -> Bool in
            state.pid = pid
            state.until = .now + .milliseconds(Int(seconds * 1000))
            defer { state.running = true }
            return !state.running
        }
        if shouldStart {
            startThread(named: "onekube-cgroup-warmer", stackSize: 128 << 10) { [self] in loop() }
        } else {
            wake.signal()
        }
    }

    private func loop() {
        while true {
            let (pid, until) = state.withLock { ($0.pid, $0.until) }
            if ContinuousClock.now >= until {
                _ = wake.wait(timeout: .now() + 60)
                continue
            }
            if pid > 0 { try? FileSystem.overwrite(procsFile, "\(pid)") }
            usleep(4_000)
        }
    }
}
