import Synchronization

/// Keys waiting to be reconciled: adding a key already waiting does nothing, so a burst of
/// changes to one object is handled once. Consumers wait on `next()`.
final class WorkQueue<Key: Hashable & Sendable>: Sendable {
    private struct State {
        var keys: [Key] = []
        var waiting: Set<Key> = []
        var consumer: CheckedContinuation<Key?, Never>?
        var closed = false
    }
    private let state = Mutex(State())

    func add(_ key: Key) {
        let resume = state.withLock { s -> CheckedContinuation<Key?, Never>? in
            guard !s.closed, s.waiting.insert(key).inserted else { return nil }
            if let consumer = s.consumer {
                s.consumer = nil
                s.waiting.remove(key)
                return consumer
            }
            s.keys.append(key)
            return nil
        }
        resume?.resume(returning: key)
    }

    /// Adds the key once `delay` has passed (a back-off, or a deadline to look at again).
    func add(_ key: Key, after delay: Duration) {
        Task {
            try? await Task.sleep(for: delay)
            self.add(key)
        }
    }

    /// The next key, or nil once closed.
    func next() async -> Key? {
        await withCheckedContinuation { (continuation: CheckedContinuation<Key?, Never>) in
            let ready = state.withLock { s -> (Bool, Key?) in
                if !s.keys.isEmpty {
                    let key = s.keys.removeFirst()
                    s.waiting.remove(key)
                    return (true, key)
                }
                if s.closed { return (true, nil) }
                s.consumer = continuation
                return (false, nil)
            }
            if ready.0 { continuation.resume(returning: ready.1) }
        }
    }

    func close() {
        let consumer = state.withLock { s -> CheckedContinuation<Key?, Never>? in
            s.closed = true
            defer { s.consumer = nil }
            return s.consumer
        }
        consumer?.resume(returning: nil)
    }
}
