import Glibc
import Platform

/// An overlayfs of image layers mounted in the daemon's own mount namespace for the length of a
/// COPY or ADD (mount(2) is safe in a threaded process; only unshare and setns are not). With an
/// upper directory the copy-up gives the layer diff docker's builder would commit; without one it
/// is a read-only view of a stage (`COPY --from`).
final class OverlayMount {
    let mountPoint: String
    private var mounted = false

    /// `lowers` lowest first; `empty` is an empty directory placed at the bottom, since overlayfs
    /// needs a lower directory even for `FROM scratch` (and two of them without an upper: callers
    /// read a stage without layers from `empty` itself).
    init(lowers: [String], empty: String, upper: String?, work: String?, mountPoint: String) throws {
        self.mountPoint = mountPoint
        try FileSystem.createDirectory(mountPoint, mode: 0o700)
        let stack = ([empty] + lowers).reversed().joined(separator: ":")
        var options = "lowerdir=\(stack)"
        if let upper, let work { options += ",upperdir=\(upper),workdir=\(work)" }
        guard mount("overlay", mountPoint, "overlay", UInt(MS_NODEV), options) == 0 else {
            let error = SystemError("mount overlay", path: mountPoint)
            rmdir(mountPoint)
            throw error
        }
        mounted = true
    }

    /// Unmounts (lazily, so that nothing left open can keep it) and removes the mount point.
    func unmount() {
        guard mounted else { return }
        mounted = false
        umount2(mountPoint, Int32(MNT_DETACH))
        rmdir(mountPoint)
    }

    deinit { unmount() }
}
