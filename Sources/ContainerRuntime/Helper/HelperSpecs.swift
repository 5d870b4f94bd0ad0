/// What the runtime helper is asked to do. The daemon computes everything (mount plan, network,
/// cgroup files, process); the helper only executes it, so the plans are unit-tested without root.
public struct InitSpec: Codable, Sendable, Equatable {
    public var containerID: String
    /// When set, the container joins this sandbox holder's network, IPC and UTS namespaces (a pod);
    /// otherwise it gets its own, with `network` attached to them.
    public var sandboxPID: Int32?
    public var hostname: String?
    public var network: NetworkAttachment?
    public var rootfs: RootfsPlan
    /// `cgroup.procs` files the container's init is written to before it execs.
    public var cgroupProcsFiles: [String]
    public var process: ProcessSpec

    public init(containerID: String, sandboxPID: Int32? = nil, hostname: String?, network: NetworkAttachment?,
                rootfs: RootfsPlan, cgroupProcsFiles: [String], process: ProcessSpec) {
        self.containerID = containerID
        self.sandboxPID = sandboxPID
        self.hostname = hostname
        self.network = network
        self.rootfs = rootfs
        self.cgroupProcsFiles = cgroupProcsFiles
        self.process = process
    }
}

/// A process started in an existing container (`docker exec`).
public struct ExecSpec: Codable, Sendable, Equatable {
    /// The container's init, whose namespaces the process joins.
    public var containerPID: Int32
    public var cgroupProcsFiles: [String]
    public var process: ProcessSpec

    public init(containerPID: Int32, cgroupProcsFiles: [String], process: ProcessSpec) {
        self.containerPID = containerPID
        self.cgroupProcsFiles = cgroupProcsFiles
        self.process = process
    }
}

/// A pod's sandbox: network, IPC and UTS namespaces held by a process that only waits.
public struct SandboxSpec: Codable, Sendable, Equatable {
    public var hostname: String
    public var network: NetworkAttachment?
    /// The holder joins these, so that a crashed daemon's successor finds and kills it.
    public var cgroupProcsFiles: [String]

    public init(hostname: String, network: NetworkAttachment?, cgroupProcsFiles: [String]) {
        self.hostname = hostname
        self.network = network
        self.cgroupProcsFiles = cgroupProcsFiles
    }
}

public struct ProcessSpec: Codable, Sendable, Equatable {
    public var args: [String]
    public var env: [String]
    public var workingDir: String
    /// As Docker takes it: empty (root), `name`, `uid`, `name:group`, `uid:gid`.
    public var user: String
    public var capabilities: CapabilitySet
    public var noNewPrivileges: Bool
    /// The process gets a terminal: a pseudo-terminal made in the container's own /dev/pts (so
    /// that `tty` names it), as its stdio and controlling tty; the master goes to the daemon
    /// over the console socket (fd 5), as with runc's --console-socket.
    public var tty: Bool
    /// Initial terminal size.
    public var rows: UInt16
    public var columns: UInt16

    public init(args: [String], env: [String], workingDir: String, user: String,
                capabilities: CapabilitySet = .dockerDefault, noNewPrivileges: Bool = true, tty: Bool = false,
                rows: UInt16 = 0, columns: UInt16 = 0) {
        self.rows = rows
        self.columns = columns
        self.args = args
        self.env = env
        self.workingDir = workingDir
        self.user = user
        self.capabilities = capabilities
        self.noNewPrivileges = noNewPrivileges
        self.tty = tty
    }
}
