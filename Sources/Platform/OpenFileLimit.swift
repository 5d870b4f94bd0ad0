import Glibc

/// The daemon holds two descriptors per proxied connection, plus listeners, logs and sockets per
/// container: a login session's soft limit of 1024 runs out under a few hundred concurrent
/// connections. Like Go programs (and so dockerd, containerd, kubelet) the daemon raises its soft
/// limit to the hard limit at start; containers inherit it, as they do under dockerd.
public enum OpenFileLimit {
    /// Raises the soft RLIMIT_NOFILE to the hard limit; returns the (soft, hard) now in force.
    @discardableResult
    public static func raiseToHardLimit() throws -> (soft: UInt64, hard: UInt64) {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw SystemError("getrlimit(RLIMIT_NOFILE)", errno: errno) }
        guard limit.rlim_cur < limit.rlim_max else { return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max)) }
        limit.rlim_cur = limit.rlim_max
        guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { throw SystemError("setrlimit(RLIMIT_NOFILE)", errno: errno) }
        return (UInt64(limit.rlim_cur), UInt64(limit.rlim_max))
    }
}
