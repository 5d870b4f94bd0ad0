import Foundation
import Glibc
import Platform

/// One write of a cgroup plan: `value` into the control file at `path`.
public struct CgroupWrite: Sendable, Equatable, CustomStringConvertible {
    public var path: String
    public var value: String

    public init(_ path: String, _ value: String) {
        self.path = path
        self.value = value
    }

    public var description: String { "\(path) = \(value)" }
}

/// The directories to create and the files to write for one container's cgroup, in order.
public struct CgroupPlan: Sendable, Equatable {
    public var directories: [String]
    public var writes: [CgroupWrite]
    /// The `cgroup.procs` files the container's process is written to.
    public var procsFiles: [String]
}

/// Puts containers in cgroups under one parent per onekube instance, on the host's setup
/// (v1 or hybrid, or the v2 unified hierarchy). Plans are pure; `apply` writes them.
public protocol CgroupManager: Sendable {
    var version: Int { get }
    /// The per-instance parent (`onekube-<hash>`), one directory per hierarchy.
    var parentDirectories: [String] { get }
    func plan(_ name: String, limits: ResourceLimits) -> CgroupPlan
    /// The container's directories (one per hierarchy).
    func directories(_ name: String) -> [String]
    func oomKilled(_ name: String) -> Bool
    func stats(_ name: String) -> CgroupStats
    /// The per-instance parents, made at start-up (so that they exist for the daemon's lifetime).
    func createParents() throws
}

extension CgroupManager {
    public func create(_ name: String, limits: ResourceLimits) throws -> CgroupPlan {
        let plan = plan(name, limits: limits)
        for directory in plan.directories {
            if mkdir(directory, 0o755) != 0 && errno != EEXIST { throw SystemError("mkdir", path: directory) }
        }
        for write in plan.writes {
            try FileSystem.overwrite(write.path, write.value)
        }
        return plan
    }

    public func processes(_ name: String) -> [pid_t] {
        var pids = Set<pid_t>()
        for directory in directories(name) {
            pids.formUnion(CgroupFiles.pids(directory + "/cgroup.procs"))
        }
        return pids.sorted()
    }

    /// SIGKILLs everything in the cgroup, then removes its directories (retrying while the
    /// kernel still counts exiting tasks). Missing cgroups are fine.
    public func destroy(_ name: String) throws {
        try CgroupFiles.killAndRemove(directories(name))
    }


    /// Container cgroups a previous daemon left (a crash): the children of the parents.
    public func leftovers() -> [String] {
        var names = Set<String>()
        for parent in parentDirectories {
            for child in (try? FileSystem.listDirectory(parent)) ?? [] where FileSystem.isDirectory(parent + "/" + child) {
                names.insert(child)
            }
        }
        return names.sorted()
    }

    /// Removes the per-instance parents (at a clean stop, once every container is gone).
    public func removeParents() {
        for parent in parentDirectories.reversed() { rmdir(parent) }
    }
}

/// Reading and writing cgroupfs files.
public enum CgroupFiles {

    public static func read(_ path: String) -> String? {
        (try? FileSystem.readString(path))?.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public static func int(_ path: String) -> Int64? { read(path).flatMap { Int64($0) } }

    /// `key value` lines (memory.stat, memory.events, cpu.stat, memory.oom_control).
    public static func keyed(_ path: String) -> [String: Int64] {
        var result: [String: Int64] = [:]
        for line in (read(path) ?? "").split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, let value = Int64(parts[1]) { result[String(parts[0])] = value }
        }
        return result
    }

    public static func pids(_ path: String) -> [pid_t] {
        (read(path) ?? "").split(separator: "\n").compactMap { pid_t($0) }
    }

    static func killAndRemove(_ directories: [String]) throws {
        for attempt in 0..<200 {
            var remaining = false
            for directory in directories where FileSystem.isDirectory(directory) {
                for pid in pids(directory + "/cgroup.procs") { kill(pid, SIGKILL) }
                if rmdir(directory) != 0 {
                    if errno == ENOENT { continue }
                    if errno != EBUSY { throw SystemError("rmdir", path: directory) }
                    remaining = true
                }
            }
            if !remaining { return }
            usleep(attempt < 20 ? 1_000 : 10_000)
        }
        throw SystemError("rmdir", path: directories.first, errno: EBUSY)
    }
}
