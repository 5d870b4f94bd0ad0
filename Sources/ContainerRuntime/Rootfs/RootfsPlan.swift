/// A container's root file system: an overlayfs of the image's unpacked layers with the
/// container's own upper and work directories, then the mounts every container gets (Docker's
/// and runc's defaults), then pivot_root.
public struct RootfsPlan: Codable, Sendable, Equatable {
    /// Image layers, lowest first (the image's order; overlayfs wants them reversed).
    public var layers: [String]
    public var upperDir: String
    public var workDir: String
    /// The host-side directory the overlay is mounted on, inside the container's mount namespace.
    public var mountPoint: String
    public var steps: [MountStep]

    public init(layers: [String], upperDir: String, workDir: String, mountPoint: String, steps: [MountStep]) {
        self.layers = layers
        self.upperDir = upperDir
        self.workDir = workDir
        self.mountPoint = mountPoint
        self.steps = steps
    }

    /// overlayfs options: `lowerdir` lists the top layer first.
    public var overlayOptions: String {
        "lowerdir=\(layers.reversed().joined(separator: ":")),upperdir=\(upperDir),workdir=\(workDir)"
    }

    /// Host files bound over the image's /etc files.
    public struct EtcFiles: Codable, Sendable, Equatable {
        public var hostname: String
        public var hosts: String
        public var resolvConf: String

        public init(hostname: String, hosts: String, resolvConf: String) {
            self.hostname = hostname
            self.hosts = hosts
            self.resolvConf = resolvConf
        }
    }

    /// The plan for a container with its files in `containerDirectory` (`rootfs`, `upper`, `work`)
    /// and host paths bound in (`-v`, pod volumes), mounted after the standard steps and before
    /// the /proc masks.
    public static func container(layers: [String], containerDirectory: String, etc: EtcFiles, binds: [BindMount] = []) -> RootfsPlan {
        var steps = standardSteps(etc: etc)
        let firstMask = steps.firstIndex { if case .mask = $0 { return true } else { return false } } ?? steps.endIndex
        steps.insert(contentsOf: binds.map { .bind(source: $0.source, target: $0.destination, readOnly: $0.readOnly) }, at: firstMask)
        return RootfsPlan(
            layers: layers, upperDir: containerDirectory + "/upper", workDir: containerDirectory + "/work",
            mountPoint: containerDirectory + "/rootfs", steps: steps)
    }

    /// The mounts, devices and masks Docker gives every container, in the order runc applies them.
    public static func standardSteps(etc: EtcFiles) -> [MountStep] {
        let hidden: MountFlags = [.noSuid, .noDev, .noExec]
        var steps: [MountStep] = [
            .mount(type: "proc", source: "proc", target: "/proc", flags: hidden, data: ""),
            // No device nodes can be made usable in /dev: the real ones are bind mounts below.
            .mount(type: "tmpfs", source: "tmpfs", target: "/dev", flags: [.noSuid, .noDev, .strictAtime], data: "mode=755,size=65536k"),
            .mount(type: "devpts", source: "devpts", target: "/dev/pts", flags: [.noSuid, .noExec],
                   data: "newinstance,ptmxmode=0666,mode=0620,gid=5"),
            .mount(type: "tmpfs", source: "shm", target: "/dev/shm", flags: hidden, data: "mode=1777,size=65536k"),
            .mount(type: "mqueue", source: "mqueue", target: "/dev/mqueue", flags: hidden, data: ""),
            .mount(type: "sysfs", source: "sysfs", target: "/sys", flags: hidden.union(.readOnly), data: ""),
        ]
        for device in ["null", "zero", "full", "random", "urandom", "tty"] {
            steps.append(.bind(source: "/dev/" + device, target: "/dev/" + device, readOnly: false))
        }
        steps += [
            .symlink(target: "/proc/self/fd", at: "/dev/fd"),
            .symlink(target: "/proc/self/fd/0", at: "/dev/stdin"),
            .symlink(target: "/proc/self/fd/1", at: "/dev/stdout"),
            .symlink(target: "/proc/self/fd/2", at: "/dev/stderr"),
            .symlink(target: "pts/ptmx", at: "/dev/ptmx"),
            .symlink(target: "/proc/kcore", at: "/dev/core"),
            .bind(source: etc.resolvConf, target: "/etc/resolv.conf", readOnly: false),
            .bind(source: etc.hostname, target: "/etc/hostname", readOnly: false),
            .bind(source: etc.hosts, target: "/etc/hosts", readOnly: false),
        ]
        steps += ProcPaths.masked.map { .mask(path: $0) }
        steps += ProcPaths.readOnly.map { .readOnly(path: $0) }
        return steps
    }
}
