/// The kubelet's restart back-off, per container: the first restart is immediate, then each one
/// waits twice as long as the last (10 s, 20 s, 40 s … at most 5 min); an entry not touched for
/// twice the maximum (a container that ran 10 minutes) starts over.
public struct CrashBackoff: Sendable {
    public let initial: Duration
    public let maximum: Duration
    private var entries: [String: (delay: Duration, updated: ContinuousClock.Instant)] = [:]

    public init(initial: Duration = .seconds(10), maximum: Duration = .seconds(300)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// How long `key` must still wait after a crash at `finishedAt`, or nil if it may restart now.
    public func remaining(_ key: String, since finishedAt: ContinuousClock.Instant, now: ContinuousClock.Instant) -> Duration? {
        guard let entry = entries[key], now - entry.updated <= maximum * 2 else { return nil }
        let left = entry.delay - (now - finishedAt)
        return left > .zero ? left : nil
    }

    /// Records a restart of `key`: the next crash waits longer.
    public mutating func next(_ key: String, now: ContinuousClock.Instant) {
        if let entry = entries[key], now - entry.updated <= maximum * 2 {
            entries[key] = (min(entry.delay * 2, maximum), now)
        } else {
            entries[key] = (initial, now)
        }
    }

    /// The delay the next crash of `key` will wait (for the CrashLoopBackOff message).
    public func delay(_ key: String) -> Duration { entries[key]?.delay ?? initial }

    public mutating func forget(_ key: String) { entries[key] = nil }
}
