import Foundation
import Glibc
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle

/// Registers a Node with what this host really has (CPU, memory, kernel, OS, addresses) and keeps
/// its Lease and Ready condition fresh, as a kubelet does. The node agent issue runs pods behind it.
public final class NodeRegistration: Service {
    let registry: ObjectRegistry
    let nodeName: String
    let controlPlane: Bool
    /// This node's share of the pod CIDR (`10.244.<index>.0/24`).
    let podCIDR: String
    let logger: Logger
    let heartbeat: Duration
    /// The address pods see as their host's (the bridge's); nil: the host's primary address.
    let internalIP: String?

    public init(registry: ObjectRegistry, nodeName: String, controlPlane: Bool, podCIDR: String = "10.244.0.0/24",
                internalIP: String? = nil, logger: Logger, heartbeat: Duration = .seconds(10)) {
        self.registry = registry
        self.internalIP = internalIP
        self.nodeName = nodeName
        self.controlPlane = controlPlane
        self.podCIDR = podCIDR
        self.logger = logger
        self.heartbeat = heartbeat
    }

    /// The label that marks the nodes this daemon runs (and `onekube node add` creates).
    public static let managedLabel = "onekube.dev/node"
    /// An annotation saying the node is stopped (`onekube node stop`): no heartbeat, no pods.
    public static let stoppedAnnotation = "onekube.dev/stopped"

    static let nodes = ResourceCatalog.find(kind: "Node")
    static let leases = ResourceCatalog.find(kind: "Lease")

    public func run() async throws {
        try register()
        try? await cancelWhenGracefulShutdown { try await self.heartbeatLoop() }
    }

    /// Renews the Lease every `heartbeat` until cancelled.
    func heartbeatLoop() async throws {
        while !Task.isCancelled {
            try await Task.sleep(for: heartbeat)
            do { try renew() } catch { logger.warning("node heartbeat failed", metadata: ["node": "\(nodeName)", "error": "\(error)"]) }
        }
    }

    /// Creates or refreshes the Node and its Lease.
    public func register() throws {
        guard let nodes = Self.nodes else { return }
        let facts = HostFacts.read()
        let now = KubeTime.format(Date())
        if registry.get(nodes, namespace: nil, name: nodeName) == nil {
            _ = try registry.createObject(nodeObject(facts, now: now), type: nodes)
        } else {
            _ = try registry.replace(nodes, namespace: nil, name: nodeName, expectedRevision: nil, statusOnly: false) { value in
                var next = value
                // `onekube node add` creates a bare Node: give it what a kubelet would.
                var labels = value.labels
                for (key, label) in self.nodeLabels(facts) where labels[key] == nil { labels[key] = label }
                next.labels = labels
                if next[path: ["spec", "podCIDR"]] == nil {
                    next[path: ["spec", "podCIDR"]] = .string(self.podCIDR)
                    next[path: ["spec", "podCIDRs"]] = .array([.string(self.podCIDR)])
                }
                return next
            }
            _ = try registry.replace(nodes, namespace: nil, name: nodeName, expectedRevision: nil, statusOnly: true) { value in
                var next = value
                next["status"] = self.nodeStatus(facts, now: now)
                return next
            }
        }
        try renew()
        logger.info("node registered", metadata: ["node": "\(nodeName)"])
    }

    func renew() throws {
        guard let leases = Self.leases, let nodes = Self.nodes else { return }
        let renewTime = KubeTime.formatMicro(Date())
        if registry.get(leases, namespace: "kube-node-lease", name: nodeName) == nil {
            let owner = registry.get(nodes, namespace: nil, name: nodeName)?.value.uid ?? ""
            _ = try registry.createObject(.object([
                ("metadata", .object([("name", .string(nodeName)), ("namespace", .string("kube-node-lease")),
                                      ("ownerReferences", .array([OwnerReference(apiVersion: "v1", kind: "Node", name: nodeName, uid: owner,
                                                                                 controller: false, blockOwnerDeletion: false).json]))])),
                ("spec", .object([("holderIdentity", .string(nodeName)), ("leaseDurationSeconds", .int(40)),
                                  ("renewTime", .string(renewTime))])),
            ]), type: leases)
        } else {
            _ = try registry.replace(leases, namespace: "kube-node-lease", name: nodeName, expectedRevision: nil, statusOnly: false) { value in
                var next = value
                next[path: ["spec", "renewTime"]] = .string(renewTime)
                return next
            }
        }
    }

    func nodeLabels(_ facts: HostFacts) -> [String: String] {
        var labels = ["kubernetes.io/hostname": nodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": facts.architecture,
                      "beta.kubernetes.io/os": "linux", "beta.kubernetes.io/arch": facts.architecture, Self.managedLabel: "true"]
        if controlPlane { labels["node-role.kubernetes.io/control-plane"] = "" }
        return labels
    }

    func nodeObject(_ facts: HostFacts, now: String) -> OrderedJSON {
        .object([
            ("metadata", .object([("name", .string(nodeName)), ("labels", .stringMap(nodeLabels(facts))),
                                  ("annotations", .stringMap(["node.alpha.kubernetes.io/ttl": "0",
                                                              "volumes.kubernetes.io/controller-managed-attach-detach": "true"]))])),
            ("spec", .object([("podCIDR", .string(podCIDR)), ("podCIDRs", .array([.string(podCIDR)]))])),
            ("status", nodeStatus(facts, now: now)),
        ])
    }

    func nodeStatus(_ facts: HostFacts, now: String) -> OrderedJSON {
        func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> OrderedJSON {
            .object([("type", .string(type)), ("status", .string(status)), ("lastHeartbeatTime", .string(now)),
                     ("lastTransitionTime", .string(now)), ("reason", .string(reason)), ("message", .string(message))])
        }
        let capacity: OrderedJSON = .object([
            ("cpu", .string(String(facts.cpus))), ("ephemeral-storage", .string("\(facts.diskKiB)Ki")),
            ("hugepages-2Mi", .string("0")), ("memory", .string("\(facts.memoryKiB)Ki")), ("pods", .string("110")),
        ])
        return .object([
            ("capacity", capacity), ("allocatable", capacity),
            ("conditions", .array([
                condition("MemoryPressure", "False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", "False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", "False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", "True", "KubeletReady", "kubelet is posting ready status"),
            ])),
            ("addresses", .array([.object([("type", .string("InternalIP")), ("address", .string(internalIP ?? facts.internalIP))]),
                                  .object([("type", .string("Hostname")), ("address", .string(nodeName))])])),
            ("daemonEndpoints", .object([("kubeletEndpoint", .object([("Port", .int(10250))]))])),
            ("nodeInfo", .object([
                ("machineID", .string(facts.machineID)), ("systemUUID", .string(facts.machineID)), ("bootID", .string(facts.bootID)),
                ("kernelVersion", .string(facts.kernel)), ("osImage", .string(facts.osImage)),
                ("containerRuntimeVersion", .string("onekube://\(OnekubeBuild.version)")), ("kubeletVersion", .string("v1.32.0")),
                ("kubeProxyVersion", .string("v1.32.0")), ("operatingSystem", .string("linux")), ("architecture", .string(facts.architecture)),
            ])),
        ])
    }
}

public enum OnekubeBuild {
    public static let version = "0.1.0"
}

/// The host as a node reports it.
struct HostFacts {
    var kernel: String
    var architecture: String
    var osImage: String
    var cpus: Int
    var memoryKiB: UInt64
    var diskKiB: UInt64
    var machineID: String
    var bootID: String
    var internalIP: String

    static func read() -> HostFacts {
        var info = utsname()
        uname(&info)
        let kernel = withUnsafeBytes(of: info.release) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let machine = withUnsafeBytes(of: info.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        let osRelease = (try? FileSystem.readString("/etc/os-release")) ?? ""
        let osImage = osRelease.split(separator: "\n").first { $0.hasPrefix("PRETTY_NAME=") }
            .map { $0.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "Linux"
        var fs = statvfs()
        let disk = statvfs("/", &fs) == 0 ? UInt64(fs.f_blocks) * UInt64(fs.f_frsize) / 1024 : 0
        func trimmed(_ path: String) -> String {
            ((try? FileSystem.readString(path)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return HostFacts(
            kernel: kernel, architecture: machine == "aarch64" ? "arm64" : (machine == "x86_64" ? "amd64" : machine),
            osImage: osImage, cpus: ProcessInfo.processInfo.activeProcessorCount,
            memoryKiB: ProcessInfo.processInfo.physicalMemory / 1024, diskKiB: disk,
            machineID: trimmed("/etc/machine-id"), bootID: trimmed("/proc/sys/kernel/random/boot_id"),
            internalIP: primaryIPv4() ?? "127.0.0.1")
    }

    /// The first non-loopback IPv4 address of an interface that is up.
    static func primaryIPv4() -> String? {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return nil }
        defer { freeifaddrs(list) }
        var cursor = list
        while let entry = cursor {
            defer { cursor = entry.pointee.ifa_next }
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  (entry.pointee.ifa_flags & UInt32(IFF_UP)) != 0, (entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK)) == 0 else { continue }
            var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
            address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                var addr = sin.pointee.sin_addr
                _ = inet_ntop(AF_INET, &addr, &text, socklen_t(INET_ADDRSTRLEN))
            }
            return String(decoding: text.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return nil
    }
}
