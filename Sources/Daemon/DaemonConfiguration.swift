import ContainerRuntime
import Images
import Platform
import Registry

/// Everything `onekube start` was told, and the paths that follow from the data directory.
public struct DaemonConfiguration: Sendable {
    public static let defaultDataDirectory = "/var/lib/onekube"

    public static let defaultAPIPort = 6443
    public static let defaultServiceCIDR = "10.96.0.0/12"

    public var dataDirectory: String
    public var registryMirrors: [String]
    public var insecureRegistries: [String]
    /// Docker Hub pulls go to the mirrors only, never to Docker Hub.
    public var registryMirrorsOnly = false
    /// The Kubernetes API's port on 127.0.0.1.
    public var apiPort: Int
    public var serviceCIDR: String
    /// How many virtual nodes to start with (onekube, onekube-m02, …).
    public var nodes = 1
    /// Seconds before pods leave a node that stopped answering (the default tolerations').
    public var podEvictionTimeout = 300
    /// Seconds without a heartbeat before a node counts as NotReady; heartbeats come four times
    /// as often (kube-controller-manager's --node-monitor-grace-period, 40 s by default).
    public var nodeMonitorGracePeriod = 40

    /// Where LoadBalancer services' external addresses come from, or one address for all of them.
    public var loadBalancerRange = "127.0.1.0/24"
    public var loadBalancerAddress: String?

    /// Cluster DNS: the kube-dns ClusterIP (the service CIDR's base + 10, 10.96.0.10 by default),
    /// where the daemon answers `<svc>.<ns>.svc.cluster.local`; nil for an invalid CIDR.
    public var clusterDNSServiceIP: String? {
        Registry.IPv4Network(serviceCIDR).map { ServiceAllocator(serviceCIDR: $0).clusterDNSServiceIP }
    }
    public static let clusterDomain = "cluster.local"

    /// The bridge containers attach to, and the pod CIDR their addresses come from.
    public var bridge = RuntimeConfiguration.defaultBridge
    public var podCIDR = RuntimeConfiguration.defaultPodCIDR

    /// The port the running daemon's Kubernetes API listens on, for the CLI's own requests.
    public var apiPortRecordPath: String { runDirectory + "/api-port" }

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
    /// Pods' volumes (emptyDir, projected files), per pod UID.
    public var podsDirectory: String { dataDirectory + "/pods" }
    /// Request bodies spooled to files (build contexts, load archives) while they are handled.
    public var uploadsDirectory: String { dataDirectory + "/uploads" }

    /// Every name onekube puts in its data directory: `delete` removes a directory that holds
    /// nothing else, and refuses one that does (a mistyped --data-dir).
    public static let dataDirectoryEntries: Set<String> = [
        "state.db", "state.db-wal", "state.db-shm", "run", "blobs", "layers", "onekube.log", "containers",
        "api-token", "kubeconfig-path", "pki", "build", "pods", "uploads",
    ]

    public func runtime() throws -> RuntimeConfiguration {
        guard let network = ContainerRuntime.IPv4Network(podCIDR) else {
            throw OnekubeError(.invalidArgument, "invalid --pod-cidr \(podCIDR): expected an IPv4 CIDR with a prefix of 8 to 30 bits")
        }
        guard !bridge.isEmpty, bridge.utf8.count <= 15, !bridge.contains("/"), !bridge.contains(" ") else {
            throw OnekubeError(.invalidArgument, "invalid --bridge \(bridge): an interface name has 1 to 15 characters")
        }
        return RuntimeConfiguration(dataDirectory: dataDirectory, bridge: bridge, podCIDR: network)
    }

    public var registry: RegistryConfiguration {
        RegistryConfiguration(mirrors: registryMirrors, insecureRegistries: insecureRegistries, mirrorsOnly: registryMirrorsOnly)
    }
}
