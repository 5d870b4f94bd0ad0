import Synchronization

/// Something that happens once (a run ended, a container was removed) and carries a value;
/// any number of tasks can wait for it, with or without a timeout.
final class CompletionEvent<Value: Sendable>: Sendable {
    private struct State {
        var value: Value?
        var waiters: [UInt64: CheckedContinuation<Value?, Never>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = Mutex(State())

    var value: Value? { state.withLock { $0.value } }

    func complete(_ value: Value) {
        let waiters = state.withLock { state -> [CheckedContinuation<Value?, Never>] in
            guard state.value == nil else { return [] }
            state.value = value
            defer { state.waiters = [:] }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume(returning: value) }
    }

    /// The value, or nil when `timeout` (seconds) passed first.
    func wait(timeout: Double? = nil) async -> Value? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Value?, Never>) in
            let id = state.withLock { state -> UInt64? in
                if state.value != nil { return nil }
                state.nextID += 1
                state.waiters[state.nextID] = continuation
                return state.nextID
            }
            guard let id else {
                continuation.resume(returning: value)
                return
            }
            if let timeout {
                Task { [weak self] in
                    try? await Task.sleep(for: .milliseconds(Int(timeout * 1000)))
                    if let waiter = self?.state.withLock({ $0.waiters.removeValue(forKey: id) }) {
                        waiter.resume(returning: nil)
                    }
                }
            }
        }
    }
}
