import Foundation
import Glibc
import Platform

/// cgroup v1 (and the hybrid layout, whose v1 hierarchies hold the controllers): one directory
/// per controller hierarchy, `<root>/<controller>/<parent>/<name>`.
///
/// Moving a process into a v1 cgroup waits for an RCU grace period (about 2 ms here), so a
/// container joins only the hierarchies it needs: memory always (limits, OOM, usage), cpu and
/// pids when limited. There is no devices cgroup: every writable file system a container sees
/// is mounted nodev, so no device node it could make is usable (the same holds on v2, where a
/// device filter would need eBPF).
public struct CgroupV1Manager: CgroupManager {
    public let version = 1
    /// Controller name → hierarchy mount (`memory` → `/sys/fs/cgroup/memory`).
    public let hierarchies: [(controller: String, path: String)]
    public let parent: String

    /// The controllers onekube uses.
    public static let controllers = ["memory", "cpu", "pids"]

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

    /// Every hierarchy's directory for `name` (for removal, whichever it joined).
    public func directories(_ name: String) -> [String] { distinctPaths.map { "\($0)/\(parent)/\(name)" } }

    /// The hierarchies a container with these limits joins.
    func joined(_ limits: ResourceLimits) -> [String] {
        var controllers = ["memory"]
        if limits.cpuQuota != nil || (limits.cpuShares ?? 0) > 0 { controllers.append("cpu") }
        if (limits.pidsLimit ?? 0) > 0 { controllers.append("pids") }
        var paths: [String] = []
        for controller in controllers {
            if let path = hierarchy(controller), !paths.contains(path) { paths.append(path) }
        }
        return paths
    }

    public func plan(_ name: String, limits: ResourceLimits) -> CgroupPlan {
        let paths = joined(limits)
        var directories: [String] = []
        for path in paths {
            directories += ["\(path)/\(parent)", "\(path)/\(parent)/\(name)"]
        }
        var writes: [CgroupWrite] = []
        func dir(_ controller: String) -> String? {
            hierarchy(controller).flatMap { paths.contains($0) ? "\($0)/\(parent)/\(name)" : nil }
        }
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
        return CgroupPlan(directories: directories, writes: writes, procsFiles: paths.map { "\($0)/\(parent)/\(name)/cgroup.procs" })
    }

    /// Where the zygote sits while it keeps the cgroup lock warm (see `CgroupMoveWarmer`); a
    /// crashed daemon's zygote is found there and killed like any leftover.
    public var warmDirectory: String? { hierarchy("memory").map { "\($0)/\(parent)/warm" } }
    var warmProcsFile: String? { warmDirectory.map { $0 + "/cgroup.procs" } }

    /// The parents in every hierarchy: `plan` only lists those a container joins.
    public func createParents() throws {
        for directory in parentDirectories {
            if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir", path: directory) }
        }
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
            let pids = CgroupFiles.pids("\(dir)/cgroup.procs")
            stats.pids = Int64(pids.count)
            stats.cpuUsageNanoseconds = pids.reduce(0) { $0 + Self.cpuNanoseconds(of: $1) }
        }
        return stats
    }

    /// User plus system time of a live process, from /proc (no cpuacct hierarchy is joined).
    static func cpuNanoseconds(of pid: pid_t) -> Int64 {
        guard let stat = try? FileSystem.readString("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Int64(fields[11]), let system = Int64(fields[12]) else { return 0 }
        return (user + system) * 1_000_000_000 / Int64(sysconf(Int32(_SC_CLK_TCK)))
    }
}
