import ContainerRuntime
import Images
import Platform

/// Everything `onekube start` was told, and the paths that follow from the data directory.
public struct DaemonConfiguration: Sendable {
    public static let defaultDataDirectory = "/var/lib/onekube"

    public var dataDirectory: String
    public var registryMirrors: [String]
    public var insecureRegistries: [String]
    /// The bridge containers attach to, and the pod CIDR their addresses come from.
    public var bridge: String
    public var podCIDR: String

    public init(dataDirectory: String, registryMirrors: [String] = [], insecureRegistries: [String] = [],
                bridge: String = RuntimeConfiguration.defaultBridge, podCIDR: String = RuntimeConfiguration.defaultPodCIDR) {
        self.dataDirectory = dataDirectory
        self.registryMirrors = registryMirrors
        self.insecureRegistries = insecureRegistries
        self.bridge = bridge
        self.podCIDR = podCIDR
    }

    public var runDirectory: String { dataDirectory + "/run" }
    public var dockerSocketPath: String { runDirectory + "/docker.sock" }
    public var pidFilePath: String { runDirectory + "/onekube.pid" }
    public var logPath: String { dataDirectory + "/onekube.log" }
    public var databasePath: String { dataDirectory + "/state.db" }

    public func runtime() throws -> RuntimeConfiguration {
        guard let network = IPv4Network(podCIDR) else {
            throw OnekubeError(.invalidArgument, "invalid --pod-cidr \(podCIDR): expected an IPv4 CIDR with a prefix of 8 to 30 bits")
        }
        guard !bridge.isEmpty, bridge.utf8.count <= 15, !bridge.contains("/"), !bridge.contains(" ") else {
            throw OnekubeError(.invalidArgument, "invalid --bridge \(bridge): an interface name has 1 to 15 characters")
        }
        return RuntimeConfiguration(dataDirectory: dataDirectory, bridge: bridge, podCIDR: network)
    }

    public var registry: RegistryConfiguration {
        RegistryConfiguration(mirrors: registryMirrors, insecureRegistries: insecureRegistries)
    }
}
