import Glibc
import Platform

/// The cgroup v2 unified hierarchy: `<root>/<parent>/<name>`, controllers enabled down the tree
/// through `cgroup.subtree_control`.
public struct CgroupV2Manager: CgroupManager {
    public let version = 2
    public let root: String
    public let parent: String
    /// Controllers the root offers (from its `cgroup.controllers`).
    public let available: [String]

    public static let wanted = ["cpu", "memory", "pids"]

    public init(root: String, parent: String, available: [String]) {
        self.root = root
        self.parent = parent
        self.available = available
    }

    public var parentDirectories: [String] { ["\(root)/\(parent)"] }

    public func directories(_ name: String) -> [String] { ["\(root)/\(parent)/\(name)"] }

    /// moby's conversion of cpu.shares (2…262144) to cpu.weight (1…10000).
    public static func weight(fromShares shares: Int64) -> Int64 {
        1 + ((shares - 2) * 9999) / 262142
    }

    public func plan(_ name: String, limits: ResourceLimits) -> CgroupPlan {
        let parentDirectory = "\(root)/\(parent)"
        let directory = "\(parentDirectory)/\(name)"
        let enable = Self.wanted.filter(available.contains).map { "+" + $0 }.joined(separator: " ")
        var writes: [CgroupWrite] = []
        if !enable.isEmpty {
            writes.append(CgroupWrite("\(root)/cgroup.subtree_control", enable))
            writes.append(CgroupWrite("\(parentDirectory)/cgroup.subtree_control", enable))
        }
        if let bytes = limits.memoryBytes, bytes > 0 {
            writes.append(CgroupWrite("\(directory)/memory.max", "\(bytes)"))
            if let swap = limits.effectiveMemorySwap {
                writes.append(CgroupWrite("\(directory)/memory.swap.max", swap < 0 ? "max" : "\(swap - bytes)"))
            }
        }
        if let quota = limits.cpuQuota {
            writes.append(CgroupWrite("\(directory)/cpu.max", "\(quota) \(ResourceLimits.cfsPeriod)"))
        }
        if let shares = limits.cpuShares, shares > 0 {
            writes.append(CgroupWrite("\(directory)/cpu.weight", "\(Self.weight(fromShares: shares))"))
        }
        if let limit = limits.pidsLimit, limit > 0 {
            writes.append(CgroupWrite("\(directory)/pids.max", "\(limit)"))
        }
        return CgroupPlan(directories: [parentDirectory, directory], writes: writes, procsFiles: ["\(directory)/cgroup.procs"])
    }

    public func createParents() throws {
        for directory in parentDirectories {
            if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir", path: directory) }
        }
    }

    public func oomKilled(_ name: String) -> Bool {
        (CgroupFiles.keyed("\(root)/\(parent)/\(name)/memory.events")["oom_kill"] ?? 0) > 0
    }

    public func stats(_ name: String) -> CgroupStats {
        let dir = "\(root)/\(parent)/\(name)"
        var stats = CgroupStats()
        stats.memoryUsage = CgroupFiles.int("\(dir)/memory.current") ?? 0
        stats.memoryLimit = CgroupFiles.int("\(dir)/memory.max") ?? 0
        stats.cpuUsageNanoseconds = (CgroupFiles.keyed("\(dir)/cpu.stat")["usage_usec"] ?? 0) * 1000
        stats.pids = CgroupFiles.int("\(dir)/pids.current") ?? 0
        return stats
    }
}
