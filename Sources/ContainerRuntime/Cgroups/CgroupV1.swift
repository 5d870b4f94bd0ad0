/// cgroup v1 (and the hybrid layout, whose v1 hierarchies hold the controllers): one directory
/// per controller hierarchy, `<root>/<controller>/<parent>/<name>`.
public struct CgroupV1Manager: CgroupManager {
    public let version = 1
    /// Controller name → hierarchy mount (`memory` → `/sys/fs/cgroup/memory`).
    public let hierarchies: [(controller: String, path: String)]
    public let parent: String

    /// The controllers onekube uses, in the order it sets them up.
    public static let controllers = ["memory", "cpu", "cpuacct", "pids", "devices"]

    public init(hierarchies: [(controller: String, path: String)], parent: String) {
        self.hierarchies = hierarchies
        self.parent = parent
    }

    func hierarchy(_ controller: String) -> String? { hierarchies.first { $0.controller == controller }?.path }

    /// Distinct hierarchy mounts (cpu and cpuacct are often one mount, `cpu,cpuacct`).
    var distinctPaths: [String] {
        var seen: [String] = []
        for (_, path) in hierarchies where !seen.contains(path) { seen.append(path) }
        return seen
    }

    public var parentDirectories: [String] { distinctPaths.map { "\($0)/\(parent)" } }

    public func directories(_ name: String) -> [String] { distinctPaths.map { "\($0)/\(parent)/\(name)" } }

    /// Docker's device allow-list: the standard character devices and terminals; no disks.
    public static let allowedDevices = [
        "c *:* m", "b *:* m", "c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm",
        "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
    ]

    public func plan(_ name: String, limits: ResourceLimits) -> CgroupPlan {
        var directories: [String] = []
        for path in distinctPaths {
            directories += ["\(path)/\(parent)", "\(path)/\(parent)/\(name)"]
        }
        var writes: [CgroupWrite] = []
        func dir(_ controller: String) -> String? { hierarchy(controller).map { "\($0)/\(parent)/\(name)" } }
        if let memory = dir("memory"), let bytes = limits.memoryBytes, bytes > 0 {
            writes.append(CgroupWrite("\(memory)/memory.limit_in_bytes", "\(bytes)"))
            if let swap = limits.effectiveMemorySwap {
                writes.append(CgroupWrite("\(memory)/memory.memsw.limit_in_bytes", "\(swap)"))
            }
        }
        if let cpu = dir("cpu") {
            if let quota = limits.cpuQuota {
                writes.append(CgroupWrite("\(cpu)/cpu.cfs_period_us", "\(ResourceLimits.cfsPeriod)"))
                writes.append(CgroupWrite("\(cpu)/cpu.cfs_quota_us", "\(quota)"))
            }
            if let shares = limits.cpuShares, shares > 0 {
                writes.append(CgroupWrite("\(cpu)/cpu.shares", "\(shares)"))
            }
        }
        if let pids = dir("pids"), let limit = limits.pidsLimit, limit > 0 {
            writes.append(CgroupWrite("\(pids)/pids.max", "\(limit)"))
        }
        if let devices = dir("devices") {
            writes.append(CgroupWrite("\(devices)/devices.deny", "a"))
            writes += Self.allowedDevices.map { CgroupWrite("\(devices)/devices.allow", $0) }
        }
        return CgroupPlan(directories: directories, writes: writes,
                          procsFiles: distinctPaths.map { "\($0)/\(parent)/\(name)/cgroup.procs" })
    }

    public func oomKilled(_ name: String) -> Bool {
        guard let memory = hierarchy("memory") else { return false }
        return (CgroupFiles.keyed("\(memory)/\(parent)/\(name)/memory.oom_control")["oom_kill"] ?? 0) > 0
    }

    public func stats(_ name: String) -> CgroupStats {
        var stats = CgroupStats()
        if let memory = hierarchy("memory") {
            let dir = "\(memory)/\(parent)/\(name)"
            stats.memoryUsage = CgroupFiles.int("\(dir)/memory.usage_in_bytes") ?? 0
            stats.memoryLimit = CgroupFiles.int("\(dir)/memory.limit_in_bytes") ?? 0
        }
        if let cpuacct = hierarchy("cpuacct") {
            stats.cpuUsageNanoseconds = CgroupFiles.int("\(cpuacct)/\(parent)/\(name)/cpuacct.usage") ?? 0
        }
        if let pids = hierarchy("pids") {
            stats.pids = CgroupFiles.int("\(pids)/\(parent)/\(name)/pids.current") ?? 0
        }
        return stats
    }
}
