import Synchronization

/// At most `limit` holders at a time; the others wait in arrival order (Docker's
/// max-concurrent-downloads, for example).
public final class AsyncLimiter: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state: Mutex<State>

    public init(limit: Int) {
        state = Mutex(State(available: max(limit, 1)))
    }

    /// Whether a slot is free right now (for "Waiting" progress).
    public var hasFreeSlot: Bool { state.withLock { $0.available > 0 } }

    public func withSlot<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state -> Bool in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    private func release() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// Runs one piece of work per key at a time; callers asking for a key already in flight wait for
/// that work instead of repeating it (one download per blob, one unpack per layer).
public final class SingleFlight<Key: Hashable & Sendable>: Sendable {
    private let inFlight = Mutex<[Key: Task<Void, Error>]>([:])

    public init() {}

    /// Returns true if this call did the work, false if it joined another's.
    @discardableResult
    public func run(_ key: Key, _ work: @escaping @Sendable () async throws -> Void) async throws -> Bool {
        let (task, owner) = inFlight.withLock { tasks -> (Task<Void, Error>, Bool) in
            if let existing = tasks[key] { return (existing, false) }
            let task = Task { try await work() }
            tasks[key] = task
            return (task, true)
        }
        defer {
            if owner { _ = inFlight.withLock { $0.removeValue(forKey: key) } }
        }
        try await task.value
        return owner
    }

    public func isRunning(_ key: Key) -> Bool {
        inFlight.withLock { $0[key] != nil }
    }

    public var keys: Set<Key> { inFlight.withLock { Set($0.keys) } }
}
