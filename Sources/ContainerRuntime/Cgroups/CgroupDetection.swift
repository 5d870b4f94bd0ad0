import Glibc
import Platform

/// Which cgroup setup the host has, found by looking at the cgroup root (`/sys/fs/cgroup`, or a
/// fake tree in tests): the v2 unified hierarchy when the root itself has `cgroup.controllers`,
/// else v1 hierarchies (the hybrid layout's `unified` mount holds no controllers and is ignored).
public enum CgroupDetection {
    public static func manager(root: String = "/sys/fs/cgroup", parent: String) -> CgroupManager? {
        if let controllers = CgroupFiles.read(root + "/cgroup.controllers") {
            return CgroupV2Manager(root: root, parent: parent, available: controllers.split(separator: " ").map(String.init))
        }
        var hierarchies: [(String, String)] = []
        for controller in CgroupV1Manager.controllers {
            let path = root + "/" + controller
            guard FileSystem.exists(path + "/cgroup.procs") else { continue }
            // `cpu` may be a symlink to the combined `cpu,cpuacct` mount.
            let real = (try? FileSystem.readLink(path)).map { $0.hasPrefix("/") ? $0 : root + "/" + $0 } ?? path
            hierarchies.append((controller, real))
        }
        return hierarchies.isEmpty ? nil : CgroupV1Manager(hierarchies: hierarchies, parent: parent)
    }
}
