import CLinux
import Foundation
import Glibc
import Logging
import Platform
import Synchronization

/// Something on the splice loop's epoll set; called on the loop's thread only, with the token
/// the descriptor was registered under.
protocol SpliceLoopMember: AnyObject {
    func handle(events: UInt32, token: UInt64, loop: SpliceLoop)
}

/// The TCP forwarders' own event loop: one thread, one epoll set, every accepted connection and
/// its backend connection on it, bytes moved by splice(2) through a pipe so that they never
/// enter userspace. NIO's event loops, shared with the API servers, copied every byte and hopped
/// threads between accept and connect; this path adds a few system calls per connection.
///
/// Registrations carry a token that is never reused, not the descriptor: an event still queued
/// for a closed descriptor must not reach whoever gets its number next.
final class SpliceLoop: @unchecked Sendable {
    private static let instance = Mutex<SpliceLoop?>(nil)

    /// The process's loop, started on first use.
    static func shared(logger: Logger) throws -> SpliceLoop {
        try instance.withLock { instance in
            if let instance { return instance }
            let loop = try SpliceLoop(logger: logger)
            loop.start()
            instance = loop
            return loop
        }
    }

    private let epoll: Int32
    /// An eventfd under token 0: other threads' commands wake the loop with it.
    private let wakeup: Int32
    private let commands = Mutex<[@Sendable (SpliceLoop) -> Void]>([])
    let logger: Logger

    // Touched on the loop's thread only.
    private var members: [UInt64: SpliceLoopMember] = [:]
    private var lastToken: UInt64 = 0
    /// Connect attempts in the order they started; all have the same timeout, so this is also
    /// the order of their deadlines.
    private var connectDeadlines: [(deadline: UInt64, connection: SplicedConnection, attempt: Int)] = []
    private var nextDeadline = 0
    let pipes = SplicePipePool()
    /// Held so that an accept can still be made (and reset) when the process is out of
    /// descriptors, instead of the level-triggered listener waking the loop for ever.
    private var spareDescriptor: Int32

    /// How long a backend may take to accept a connection before the next one is tried.
    static let connectTimeoutNanoseconds: UInt64 = 5_000_000_000

    private init(logger: Logger) throws {
        self.logger = logger
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        guard epoll >= 0 else { throw ForwarderError(message: "epoll_create1: \(String(cString: strerror(errno)))") }
        wakeup = cz_eventfd()
        spareDescriptor = open("/dev/null", O_RDONLY | O_CLOEXEC)
        guard wakeup >= 0 else {
            let reason = String(cString: strerror(errno))
            close(epoll)
            throw ForwarderError(message: "eventfd: \(reason)")
        }
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = 0
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, wakeup, &event) == 0 else {
            let reason = String(cString: strerror(errno))
            close(epoll)
            close(wakeup)
            throw ForwarderError(message: "epoll_ctl eventfd: \(reason)")
        }
    }

    private func start() {
        startThread(named: "onekube-splice", stackSize: 512 << 10) { [self] in run() }
    }

    /// Runs `command` on the loop's thread, soon.
    func execute(_ command: @escaping @Sendable (SpliceLoop) -> Void) {
        commands.withLock { $0.append(command) }
        var one: UInt64 = 1
        _ = write(wakeup, &one, MemoryLayout<UInt64>.size)
    }

    // MARK: Loop-thread API

    func newToken(for member: SpliceLoopMember) -> UInt64 {
        lastToken += 1
        members[lastToken] = member
        return lastToken
    }

    func forget(_ token: UInt64) { members.removeValue(forKey: token) }

    /// Adds `fd` to the epoll set under `token`; false (errno set) when the kernel refuses.
    func watch(_ fd: Int32, token: UInt64, events: UInt32) -> Bool {
        var event = epoll_event()
        event.events = events
        event.data.u64 = token
        return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0
    }

    func connectStarted(_ connection: SplicedConnection, attempt: Int) {
        connectDeadlines.append((Self.now() + Self.connectTimeoutNanoseconds, connection, attempt))
    }

    /// Accepts one connection on `listener` when the process has run out of descriptors, and
    /// resets it: the client sees a refusal, and the listener stops being readable.
    func shedConnection(on listener: Int32) {
        guard spareDescriptor >= 0 else { return }
        close(spareDescriptor)
        let client = accept(listener, nil, nil)
        if client >= 0 { SplicedConnection.reset(client) }
        spareDescriptor = open("/dev/null", O_RDONLY | O_CLOEXEC)
    }

    // MARK: The loop

    private func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        while true {
            let count = events.withUnsafeMutableBufferPointer {
                epoll_wait(epoll, $0.baseAddress, Int32($0.count), timeoutMilliseconds())
            }
            if count < 0 {
                if errno != EINTR { logger.error("epoll_wait failed", metadata: ["error": "\(String(cString: strerror(errno)))"]) }
                continue
            }
            for index in 0..<Int(count) {
                let token = events[index].data.u64
                if token == 0 {
                    runCommands()
                } else if let member = members[token] {
                    member.handle(events: events[index].events, token: token, loop: self)
                }
            }
            expireConnects()
        }
    }

    private func runCommands() {
        var value: UInt64 = 0
        _ = read(wakeup, &value, MemoryLayout<UInt64>.size)
        let pending = commands.withLock { commands in
            defer { commands = [] }
            return commands
        }
        for command in pending { command(self) }
    }

    private func timeoutMilliseconds() -> Int32 {
        dropSettledDeadlines()
        guard nextDeadline < connectDeadlines.count else { return -1 }
        let now = Self.now()
        let deadline = connectDeadlines[nextDeadline].deadline
        return deadline <= now ? 0 : Int32((deadline - now) / 1_000_000 + 1)
    }

    /// Skips attempts that have since connected or failed, and forgets them in batches.
    private func dropSettledDeadlines() {
        while nextDeadline < connectDeadlines.count {
            let entry = connectDeadlines[nextDeadline]
            if entry.connection.isConnecting(attempt: entry.attempt) { break }
            nextDeadline += 1
        }
        if nextDeadline == connectDeadlines.count {
            connectDeadlines.removeAll(keepingCapacity: true)
            nextDeadline = 0
        } else if nextDeadline > 1024 {
            connectDeadlines.removeFirst(nextDeadline)
            nextDeadline = 0
        }
    }

    private func expireConnects() {
        guard nextDeadline < connectDeadlines.count else { return }
        let now = Self.now()
        while nextDeadline < connectDeadlines.count, connectDeadlines[nextDeadline].deadline <= now {
            let entry = connectDeadlines[nextDeadline]
            nextDeadline += 1
            entry.connection.connectTimedOut(attempt: entry.attempt, loop: self)
        }
    }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}

/// A pipe to splice through: bytes go socket → pipe → socket.
struct SplicePipe {
    let readEnd: Int32
    let writeEnd: Int32
    let capacity: Int

    func close() {
        Glibc.close(readEnd)
        Glibc.close(writeEnd)
    }
}

/// Empty pipes kept for the next connections: two pipes per connection would otherwise cost
/// two pipe2 and fcntl calls each time.
final class SplicePipePool {
    private var idle: [SplicePipe] = []
    static let kept = 128
    /// Up to 1 MiB in flight per direction: a bulk transfer moves in few, large splices.
    static let size: Int32 = 1 << 20

    func take() -> SplicePipe? {
        if let pipe = idle.popLast() { return pipe }
        var fds: [Int32] = [-1, -1]
        let capacity = cz_pipe_nonblocking(&fds, Self.size)
        guard capacity > 0 else { return nil }
        return SplicePipe(readEnd: fds[0], writeEnd: fds[1], capacity: Int(capacity))
    }

    /// Keeps an empty pipe; one with bytes still in it cannot be reused and is closed.
    func give(back pipe: SplicePipe, empty: Bool) {
        if empty && idle.count < Self.kept {
            idle.append(pipe)
        } else {
            pipe.close()
        }
    }
}
