/// The resource limits Docker's flags set (`--memory`, `--cpus`, `--cpu-shares`, `--pids-limit`).
public struct ResourceLimits: Codable, Sendable, Equatable {
    public var memoryBytes: Int64?
    /// Memory plus swap; Docker's default when only `--memory` is given is twice the memory.
    public var memorySwapBytes: Int64?
    /// CPUs in billionths (`--cpus 1.5` = 1_500_000_000).
    public var nanoCPUs: Int64?
    public var cpuShares: Int64?
    public var pidsLimit: Int64?

    public init(memoryBytes: Int64? = nil, memorySwapBytes: Int64? = nil, nanoCPUs: Int64? = nil,
                cpuShares: Int64? = nil, pidsLimit: Int64? = nil) {
        self.memoryBytes = memoryBytes
        self.memorySwapBytes = memorySwapBytes
        self.nanoCPUs = nanoCPUs
        self.cpuShares = cpuShares
        self.pidsLimit = pidsLimit
    }

    public static let cfsPeriod: Int64 = 100_000

    /// CFS quota in microseconds per `cfsPeriod`, as moby computes it from NanoCpus.
    public var cpuQuota: Int64? {
        guard let nanoCPUs, nanoCPUs > 0 else { return nil }
        return nanoCPUs * Self.cfsPeriod / 1_000_000_000
    }

    /// Memory+swap to enforce: the given value, or twice the memory (Docker's default); -1 = unlimited.
    public var effectiveMemorySwap: Int64? {
        guard let memoryBytes, memoryBytes > 0 else { return nil }
        if let memorySwapBytes, memorySwapBytes != 0 { return memorySwapBytes }
        return memoryBytes * 2
    }
}

/// What a container's cgroup reports for `docker stats`.
public struct CgroupStats: Sendable, Equatable {
    public var memoryUsage: Int64 = 0
    public var memoryLimit: Int64 = 0
    public var cpuUsageNanoseconds: Int64 = 0
    public var pids: Int64 = 0

    public init() {}
}
