/// A published port: `hostIP:hostPort` on the host forwarded to `containerPort/proto`.
public struct PortBinding: Codable, Sendable, Equatable, Hashable {
    public var hostIP: String
    /// 0 = any free port, chosen when the container starts.
    public var hostPort: Int
    public var containerPort: Int
    public var proto: String

    public init(hostIP: String = "", hostPort: Int, containerPort: Int, proto: String = "tcp") {
        self.hostIP = hostIP
        self.hostPort = hostPort
        self.containerPort = containerPort
        self.proto = proto
    }
}

/// A host path bound into a container (`docker run -v /host:/ctr[:ro]`, a pod's volume).
public struct BindMount: Codable, Sendable, Equatable, Hashable {
    public var source: String
    public var destination: String
    public var readOnly: Bool

    public init(source: String, destination: String, readOnly: Bool = false) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
    }
}

/// What a container runs and with what, fixed at create time (image defaults already merged).
public struct ContainerConfiguration: Codable, Sendable, Equatable {
    /// The image as the user named it, and its ID.
    public var image: String
    public var imageID: String
    /// Unpacked image layers, lowest first.
    public var layers: [String]
    /// The process: entrypoint + command after Docker's merging rules.
    public var args: [String]
    public var env: [String]
    public var workingDir: String
    public var user: String
    public var hostname: String
    public var labels: [String: String]
    public var tty: Bool
    public var openStdin: Bool
    public var stdinOnce: Bool
    /// Initial terminal size (rows, columns).
    public var consoleSize: [Int]
    public var stopSignal: String?
    public var stopTimeout: Int?
    public var exposedPorts: [String]
    public var portBindings: [PortBinding]
    public var autoRemove: Bool
    public var networkDisabled: Bool
    /// The pod sandbox whose network, IPC and UTS namespaces the container joins (nil: its own).
    public var sandboxID: String?
    /// Host paths bound in (optional in the record: containers made before binds had none).
    public var binds: [BindMount]?
    /// The whole /etc/resolv.conf when it is not the host's (pods: the cluster DNS and search paths).
    public var resolvConf: String?
    /// `--add-host` entries, `name:address` (an address of `host-gateway` means the bridge's).
    public var extraHosts: [String]?
    public var resources: ResourceLimits
    /// Opaque data of the API layer that created the container (Docker's request JSON).
    public var annotations: [String: String]

    public init(image: String, imageID: String, layers: [String], args: [String], env: [String], workingDir: String,
                user: String, hostname: String, labels: [String: String] = [:], tty: Bool = false, openStdin: Bool = false,
                stdinOnce: Bool = false, consoleSize: [Int] = [0, 0], stopSignal: String? = nil, stopTimeout: Int? = nil,
                exposedPorts: [String] = [], portBindings: [PortBinding] = [], autoRemove: Bool = false,
                networkDisabled: Bool = false, sandboxID: String? = nil, binds: [BindMount] = [], resolvConf: String? = nil,
                extraHosts: [String] = [], resources: ResourceLimits = ResourceLimits(), annotations: [String: String] = [:]) {
        self.sandboxID = sandboxID
        self.extraHosts = extraHosts.isEmpty ? nil : extraHosts
        self.binds = binds.isEmpty ? nil : binds
        self.resolvConf = resolvConf
        self.image = image
        self.imageID = imageID
        self.layers = layers
        self.args = args
        self.env = env
        self.workingDir = workingDir
        self.user = user
        self.hostname = hostname
        self.labels = labels
        self.tty = tty
        self.openStdin = openStdin
        self.stdinOnce = stdinOnce
        self.consoleSize = consoleSize
        self.stopSignal = stopSignal
        self.stopTimeout = stopTimeout
        self.exposedPorts = exposedPorts
        self.portBindings = portBindings
        self.autoRemove = autoRemove
        self.networkDisabled = networkDisabled
        self.resources = resources
        self.annotations = annotations
    }
}

/// Where a container is in its life (Docker's state names).
public enum ContainerStatus: String, Codable, Sendable {
    case created, running, exited, removing, dead
}

public struct ContainerState: Codable, Sendable, Equatable {
    public var status: ContainerStatus = .created
    /// The container's init on the host (0 when not running).
    public var pid: Int32 = 0
    public var exitCode: Int32 = 0
    public var error: String = ""
    public var oomKilled: Bool = false
    public var startedAt: Timestamp?
    public var finishedAt: Timestamp?
    /// While running: the address on the bridge and the host ports actually bound.
    public var ipAddress: String?
    public var gateway: String?
    public var prefixLength: Int?
    public var publishedPorts: [PortBinding] = []

    public init() {}

    public var isRunning: Bool { status == .running }
}

/// A container as the runtime keeps it (`containers/<id>/config.json`).
public struct ContainerRecord: Codable, Sendable, Equatable {
    public var id: String
    /// Without Docker's leading slash.
    public var name: String
    public var created: Timestamp
    public var config: ContainerConfiguration
    public var state: ContainerState
    public var restartCount: Int
    public var execIDs: [String]

    public init(id: String, name: String, created: Timestamp, config: ContainerConfiguration) {
        self.id = id
        self.name = name
        self.created = created
        self.config = config
        state = ContainerState()
        restartCount = 0
        execIDs = []
    }

    public var shortID: String { String(id.prefix(12)) }
}

extension ContainerConfiguration {
    /// The label the node agents put on pods' containers: the pod's UID.
    public static let podUIDLabel = "io.kubernetes.pod.uid"

    /// A pod's container, which its node agent manages (the docker API's prune leaves it).
    public var isPodContainer: Bool { labels[Self.podUIDLabel] != nil }
}
