import CLinux
import Glibc
import Platform
import PortForwarding
import Synchronization

/// When `docker wait` returns (the Engine API's `condition`).
public enum WaitCondition: String, Sendable {
    case notRunning = "not-running", nextExit = "next-exit", removed
}

/// One run of a container: the resources it holds while its process lives.
final class ActiveRun: Sendable {
    let io: ProcessIO
    let attachment: NetworkAttachment?
    let forwarders: [PortForwarder]
    /// The published ports the forwarders serve, in the same order.
    let portBindings: [PortBinding]
    let cgroupName: String
    /// Completes with the exit code once the run is fully over (output drained, state saved).
    let ended = CompletionEvent<Int32>()
    /// Completes once the daemon's ends of the process's stdio are set up (or failed to be): the
    /// process may exit before that, and its output must not be cut short.
    let ioReady = CompletionEvent<Bool>()
    private let initProcess = Mutex<(pid: pid_t, pidfd: Int32)>((0, -1))
    /// Set when the process never started (exec failed); the exit then leaves the container `created`.
    let startFailure = Mutex<String?>(nil)

    init(io: ProcessIO, attachment: NetworkAttachment?, forwarders: [PortForwarder], portBindings: [PortBinding], cgroupName: String) {
        self.io = io
        self.attachment = attachment
        self.forwarders = forwarders
        self.portBindings = portBindings
        self.cgroupName = cgroupName
    }

    func setInit(pid: pid_t) {
        let fd = cz_pidfd_open(pid)
        initProcess.withLock { $0 = (pid, fd) }
    }

    var initPID: pid_t { initProcess.withLock { $0.pid } }

    /// Signals the container's init through its pidfd (no pid reuse race).
    func signal(_ signal: Int32) -> Bool {
        let fd = initProcess.withLock { $0.pidfd }
        guard fd >= 0 else { return false }
        return cz_pidfd_send_signal(fd, signal) == 0
    }

    func closeInit() {
        let fd = initProcess.withLock { state -> Int32 in
            defer { state.pidfd = -1 }
            return state.pidfd
        }
        if fd >= 0 { close(fd) }
    }
}

/// A container in the daemon: its record, its output hub (kept across runs, with its log), the
/// current run and the tasks waiting on it. Operations that change its life (start, stop,
/// remove) take `operations` one at a time; kill and exit handling do not need it.
final class ManagedContainer: Sendable {
    let id: String
    let directory: String
    let hub: OutputHub
    let operations = AsyncLimiter(limit: 1)

    struct Inner {
        var record: ContainerRecord
        var run: ActiveRun?
        var waiters: [(WaitCondition, CheckedContinuation<Int32, Never>)] = []
        /// Input that arrived before a run started (`docker run -i` attaches first).
        var pendingStdin: [UInt8] = []
        var stdinClosed = false
        var removed = false
    }

    let state: Mutex<Inner>

    init(record: ContainerRecord, directory: String) {
        id = record.id
        self.directory = directory
        hub = OutputHub(logPath: directory + "/container.log")
        state = Mutex(Inner(record: record))
    }

    var record: ContainerRecord { state.withLock { $0.record } }
    var run: ActiveRun? { state.withLock { $0.run } }

    func update(_ body: (inout ContainerRecord) -> Void) -> ContainerRecord {
        state.withLock { inner in
            body(&inner.record)
            return inner.record
        }
    }

    /// Resumes the waiters `conditions` select with `exitCode`.
    func resumeWaiters(_ conditions: Set<WaitCondition>, exitCode: Int32) {
        let ready = state.withLock { inner -> [CheckedContinuation<Int32, Never>] in
            let (matching, rest) = inner.waiters.partitioned { conditions.contains($0.0) }
            inner.waiters = rest
            return matching.map(\.1)
        }
        for continuation in ready { continuation.resume(returning: exitCode) }
    }
}

extension Array {
    func partitioned(_ belongsInFirst: (Element) -> Bool) -> ([Element], [Element]) {
        var first: [Element] = [], second: [Element] = []
        for element in self {
            if belongsInFirst(element) { first.append(element) } else { second.append(element) }
        }
        return (first, second)
    }
}
