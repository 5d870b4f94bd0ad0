import Images
import Platform

/// Everything `onekube start` was told, and the paths that follow from the data directory.
public struct DaemonConfiguration: Sendable {
    public static let defaultDataDirectory = "/var/lib/onekube"

    public static let defaultAPIPort = 6443
    public static let defaultServiceCIDR = "10.96.0.0/12"

    public var dataDirectory: String
    public var registryMirrors: [String]
    public var insecureRegistries: [String]
    /// The Kubernetes API's port on 127.0.0.1.
    public var apiPort: Int
    public var serviceCIDR: String
    public var nodeName = "onekube"

    public init(dataDirectory: String, registryMirrors: [String] = [], insecureRegistries: [String] = [],
                apiPort: Int = DaemonConfiguration.defaultAPIPort, serviceCIDR: String = DaemonConfiguration.defaultServiceCIDR) {
        self.dataDirectory = dataDirectory
        self.registryMirrors = registryMirrors
        self.insecureRegistries = insecureRegistries
        self.apiPort = apiPort
        self.serviceCIDR = serviceCIDR
    }

    /// The bearer token of the Kubernetes API (0600).
    public var apiTokenPath: String { dataDirectory + "/api-token" }
    public var certificates: ClusterCertificates { ClusterCertificates(directory: dataDirectory + "/pki") }
    public var apiServerURL: String { "https://127.0.0.1:\(apiPort)" }

    /// Which kubeconfig `start` wrote the onekube context into, for `delete`.
    public var kubeconfigRecordPath: String { dataDirectory + "/kubeconfig-path" }

    public var runDirectory: String { dataDirectory + "/run" }
    public var dockerSocketPath: String { runDirectory + "/docker.sock" }
    public var pidFilePath: String { runDirectory + "/onekube.pid" }
    public var logPath: String { dataDirectory + "/onekube.log" }
    public var databasePath: String { dataDirectory + "/state.db" }

    public var registry: RegistryConfiguration {
        RegistryConfiguration(mirrors: registryMirrors, insecureRegistries: insecureRegistries)
    }
}
