import ContainerRuntime
import Foundation
import Platform
import TestSupport
import Testing

@Suite("cgroup plans on fake v1 (hybrid) and v2 trees")
struct CgroupPlanTests {
    /// A v1/hybrid layout like the development machines': one hierarchy per controller, plus an
    /// `unified` v2 mount without controllers.
    static func fakeV1Tree(_ root: String) throws {
        for controller in ["cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids", "systemd", "unified"] {
            try FileSystem.createDirectory(root + "/" + controller)
            try FileSystem.writeAtomically(root + "/" + controller + "/cgroup.procs", "1\n")
        }
    }

    static func fakeV2Tree(_ root: String) throws {
        try FileSystem.writeAtomically(root + "/cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n")
        try FileSystem.writeAtomically(root + "/cgroup.subtree_control", "\n")
        try FileSystem.writeAtomically(root + "/cgroup.procs", "1\n")
    }

    let limits = ResourceLimits(memoryBytes: 64 << 20, nanoCPUs: 1_500_000_000, cpuShares: 512, pidsLimit: 100)

    @Test func detectsV1AndJoinsTheHierarchiesLimitsNeed() throws {
        let tree = try TemporaryDirectory("cgroup-v1")
        try Self.fakeV1Tree(tree.path)
        let manager = try #require(CgroupDetection.manager(root: tree.path, parent: "onekube-test"))
        #expect(manager.version == 1)
        let plan = manager.plan("c1", limits: limits)
        let root = tree.path
        #expect(plan.procsFiles == ["memory", "cpu", "pids"].map { "\(root)/\($0)/onekube-test/c1/cgroup.procs" })
        #expect(plan.directories == ["memory", "cpu", "pids"].flatMap { ["\(root)/\($0)/onekube-test", "\(root)/\($0)/onekube-test/c1"] })
        #expect(plan.writes == [
            CgroupWrite("\(root)/memory/onekube-test/c1/memory.limit_in_bytes", "67108864"),
            CgroupWrite("\(root)/memory/onekube-test/c1/memory.memsw.limit_in_bytes", "134217728"),
            CgroupWrite("\(root)/cpu/onekube-test/c1/cpu.cfs_period_us", "100000"),
            CgroupWrite("\(root)/cpu/onekube-test/c1/cpu.cfs_quota_us", "150000"),
            CgroupWrite("\(root)/cpu/onekube-test/c1/cpu.shares", "512"),
            CgroupWrite("\(root)/pids/onekube-test/c1/pids.max", "100"),
        ])
        // Removal looks in every hierarchy, whichever the container joined.
        #expect(manager.directories("c1") == ["memory", "cpu", "pids"].map { "\(root)/\($0)/onekube-test/c1" })
    }

    @Test func v1WithoutLimitsJoinsOnlyMemory() throws {
        let tree = try TemporaryDirectory("cgroup-v1")
        try Self.fakeV1Tree(tree.path)
        let manager = try #require(CgroupDetection.manager(root: tree.path, parent: "p"))
        let plan = manager.plan("c", limits: ResourceLimits())
        #expect(plan.procsFiles == ["\(tree.path)/memory/p/c/cgroup.procs"])
        #expect(plan.writes.isEmpty)
        try manager.createParents()
        #expect(["memory", "cpu", "pids"].allSatisfy { FileSystem.isDirectory("\(tree.path)/\($0)/p") })
        #expect(!FileSystem.exists("\(tree.path)/devices/p"))
    }

    @Test func combinedCpuHierarchyIsUsedOnce() throws {
        let tree = try TemporaryDirectory("cgroup-v1")
        try Self.fakeV1Tree(tree.path)
        try FileManager.default.removeItem(atPath: tree.path + "/cpu")
        try FileManager.default.removeItem(atPath: tree.path + "/cpuacct")
        try FileSystem.createDirectory(tree.path + "/cpu,cpuacct")
        try FileSystem.writeAtomically(tree.path + "/cpu,cpuacct/cgroup.procs", "1\n")
        try FileManager.default.createSymbolicLink(atPath: tree.path + "/cpu", withDestinationPath: "cpu,cpuacct")
        try FileManager.default.createSymbolicLink(atPath: tree.path + "/cpuacct", withDestinationPath: "cpu,cpuacct")
        let manager = try #require(CgroupDetection.manager(root: tree.path, parent: "p"))
        #expect(manager.directories("c") == ["memory", "cpu,cpuacct", "pids"].map { "\(tree.path)/\($0)/p/c" })
        let plan = manager.plan("c", limits: ResourceLimits(nanoCPUs: 1_000_000_000))
        #expect(plan.writes.last == CgroupWrite("\(tree.path)/cpu,cpuacct/p/c/cpu.cfs_quota_us", "100000"))
    }

    @Test func detectsV2AndPlansTheUnifiedHierarchy() throws {
        let tree = try TemporaryDirectory("cgroup-v2")
        try Self.fakeV2Tree(tree.path)
        let manager = try #require(CgroupDetection.manager(root: tree.path, parent: "onekube-test"))
        #expect(manager.version == 2)
        let plan = manager.plan("c1", limits: limits)
        let root = tree.path
        #expect(plan.directories == ["\(root)/onekube-test", "\(root)/onekube-test/c1"])
        #expect(plan.procsFiles == ["\(root)/onekube-test/c1/cgroup.procs"])
        #expect(plan.writes == [
            CgroupWrite("\(root)/cgroup.subtree_control", "+cpu +memory +pids"),
            CgroupWrite("\(root)/onekube-test/cgroup.subtree_control", "+cpu +memory +pids"),
            CgroupWrite("\(root)/onekube-test/c1/memory.max", "67108864"),
            CgroupWrite("\(root)/onekube-test/c1/memory.swap.max", "67108864"),
            CgroupWrite("\(root)/onekube-test/c1/cpu.max", "150000 100000"),
            CgroupWrite("\(root)/onekube-test/c1/cpu.weight", "20"),
            CgroupWrite("\(root)/onekube-test/c1/pids.max", "100"),
        ])
    }

    @Test func v2PlanAppliesToATreeAndReportsOOMAndUsage() throws {
        let tree = try TemporaryDirectory("cgroup-v2")
        try Self.fakeV2Tree(tree.path)
        let manager = try #require(CgroupDetection.manager(root: tree.path, parent: "p"))
        try manager.createParents()
        #expect(FileSystem.isDirectory(tree.path + "/p"))
        _ = try manager.create("c", limits: ResourceLimits(memoryBytes: 32 << 20))
        #expect(try FileSystem.readString(tree.path + "/p/c/memory.max") == "33554432")
        #expect(try FileSystem.readString(tree.path + "/cgroup.subtree_control") == "+cpu +memory +pids")
        #expect(manager.leftovers() == ["c"])
        #expect(!manager.oomKilled("c"))
        try FileSystem.writeAtomically(tree.path + "/p/c/memory.events", "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
        #expect(manager.oomKilled("c"))
        try FileSystem.writeAtomically(tree.path + "/p/c/memory.current", "1048576\n")
        try FileSystem.writeAtomically(tree.path + "/p/c/cpu.stat", "usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n")
        try FileSystem.writeAtomically(tree.path + "/p/c/pids.current", "3\n")
        let stats = manager.stats("c")
        #expect(stats.memoryUsage == 1_048_576)
        #expect(stats.memoryLimit == 33_554_432)
        #expect(stats.cpuUsageNanoseconds == 2_500_000)
        #expect(stats.pids == 3)
    }

    @Test func v1ReportsOOMFromOomControl() throws {
        let tree = try TemporaryDirectory("cgroup-v1")
        try Self.fakeV1Tree(tree.path)
        let manager = try #require(CgroupDetection.manager(root: tree.path, parent: "p"))
        _ = try manager.create("c", limits: ResourceLimits(memoryBytes: 8 << 20))
        try FileSystem.writeAtomically(tree.path + "/memory/p/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n")
        #expect(!manager.oomKilled("c"))
        try FileSystem.writeAtomically(tree.path + "/memory/p/c/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
        #expect(manager.oomKilled("c"))
    }

    @Test func noControllersMeansNoManager() throws {
        let tree = try TemporaryDirectory("cgroup-none")
        #expect(CgroupDetection.manager(root: tree.path, parent: "p") == nil)
    }

    @Test(arguments: [(2, 1), (1024, 39), (262144, 10000)] as [(Int64, Int64)])
    func cpuSharesBecomeWeights(shares: Int64, weight: Int64) {
        #expect(CgroupV2Manager.weight(fromShares: shares) == weight)
    }
}
