import CLinux
import Glibc
import Platform

/// Carries out a `RootfsPlan` in the container's new mount namespace, then pivots into it.
/// Runs in the container's init (single-threaded, forked by the helper), never in the daemon.
enum MountExecutor {
    static func run(_ plan: RootfsPlan) throws(SystemError) {
        // Nothing we mount may propagate back to the host.
        guard mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else { throw SystemError("mount --make-rprivate", path: "/") }
        guard mount("overlay", plan.mountPoint, "overlay", UInt(MS_NODEV), plan.overlayOptions) == 0 else {
            throw SystemError("mount overlay", path: plan.mountPoint)
        }
        for step in plan.steps { try apply(step, root: plan.mountPoint) }
        try pivot(into: plan.mountPoint)
    }

    static func apply(_ step: MountStep, root: String) throws(SystemError) {
        switch step {
        case .mount(let type, let source, let target, let flags, let data):
            let path = ContainedPath.resolve(target, in: root)
            try makeDirectories(path)
            guard mount(source, path, type, flags.rawValue, data.isEmpty ? nil : data) == 0 else {
                throw SystemError("mount \(type)", path: target)
            }
        case .bind(let source, let target, let readOnly):
            var st = stat()
            guard stat(source, &st) == 0 else { throw SystemError("stat", path: source) }
            let path = ContainedPath.resolve(target, in: root)
            if (st.st_mode & S_IFMT) == S_IFDIR {
                try makeDirectories(path)
            } else {
                try makeFile(path)
            }
            guard mount(source, path, nil, UInt(MS_BIND | MS_REC), nil) == 0 else { throw SystemError("mount --bind", path: target) }
            if readOnly { try remountReadOnly(path, name: target) }
        case .symlink(let target, let at):
            let path = ContainedPath.resolve(at, in: root)
            if symlink(target, path) != 0 && errno != EEXIST { throw SystemError("symlink", path: at) }
        case .mask(let target):
            let path = ContainedPath.resolve(target, in: root)
            var st = stat()
            guard lstat(path, &st) == 0 else { return }
            if (st.st_mode & S_IFMT) == S_IFDIR {
                guard mount("tmpfs", path, "tmpfs", UInt(MS_RDONLY), nil) == 0 else { throw SystemError("mount tmpfs (mask)", path: target) }
            } else {
                guard mount("/dev/null", path, nil, UInt(MS_BIND), nil) == 0 else { throw SystemError("mount --bind /dev/null (mask)", path: target) }
            }
        case .readOnly(let target):
            let path = ContainedPath.resolve(target, in: root)
            guard FileSystem.exists(path) else { return }
            guard mount(path, path, nil, UInt(MS_BIND | MS_REC), nil) == 0 else { throw SystemError("mount --bind", path: target) }
            try remountReadOnly(path, name: target)
        }
    }

    static func remountReadOnly(_ path: String, name: String) throws(SystemError) {
        var fs = statvfs()
        // statvfs's ST_NOSUID/ST_NODEV/ST_NOEXEC have the values of the MS_ flags.
        let inherited: UInt = statvfs(path, &fs) == 0 ? UInt(fs.f_flag) & UInt(MS_NOSUID | MS_NODEV | MS_NOEXEC) : 0
        let flags = UInt(MS_BIND | MS_REMOUNT | MS_RDONLY) | inherited
        guard mount(nil, path, nil, flags, nil) == 0 else { throw SystemError("mount -o remount,ro", path: name) }
    }

    /// runc's trick: pivot_root(".", ".") stacks the old root on the new one; detaching it leaves
    /// only the container's tree, with no directory needed for the old root.
    static func pivot(into root: String) throws(SystemError) {
        guard chdir(root) == 0 else { throw SystemError("chdir", path: root) }
        guard cz_pivot_root(".", ".") == 0 else { throw SystemError("pivot_root", path: root) }
        guard umount2(".", Int32(MNT_DETACH)) == 0 else { throw SystemError("umount2 (old root)", path: root) }
        guard chdir("/") == 0 else { throw SystemError("chdir", path: "/") }
    }

    static func makeDirectories(_ path: String) throws(SystemError) {
        try FileSystem.createDirectory(path, mode: 0o755)
    }

    static func makeFile(_ path: String) throws(SystemError) {
        var st = stat()
        if stat(path, &st) == 0 { return }
        let parent = String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)])
        if !parent.isEmpty { try makeDirectories(parent) }
        let fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        close(fd)
    }
}
