import Platform

/// What the container runtime is told at start-up.
public struct RuntimeConfiguration: Sendable {
    public static let defaultBridge = "onekube0"
    public static let defaultPodCIDR = "10.244.0.0/16"

    public var dataDirectory: String
    /// The bridge containers and pod sandboxes attach to (at most 15 characters).
    public var bridge: String
    public var podCIDR: IPv4Network
    public var cgroupRoot: String
    /// How long `onekube stop` lets each container stop before SIGKILL.
    public var shutdownStopTimeout: Int
    /// The onekube executable whose hidden helper modes run containers: this very process's,
    /// except in tests that drive the runtime from a test runner.
    public var helperExecutable: String

    public init(dataDirectory: String, bridge: String = defaultBridge, podCIDR: IPv4Network,
                cgroupRoot: String = "/sys/fs/cgroup", shutdownStopTimeout: Int = 10,
                helperExecutable: String = "/proc/self/exe") {
        self.dataDirectory = dataDirectory
        self.bridge = bridge
        self.podCIDR = podCIDR
        self.cgroupRoot = cgroupRoot
        self.shutdownStopTimeout = shutdownStopTimeout
        self.helperExecutable = helperExecutable
    }

    public var containersDirectory: String { dataDirectory + "/containers" }

    /// One cgroup parent per data directory, so that two instances never touch each other's.
    public var cgroupParent: String { "onekube-" + String(SHA256Hasher.hex(dataDirectory).prefix(8)) }
}
