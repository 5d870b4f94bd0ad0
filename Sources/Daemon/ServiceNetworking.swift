import ClusterDNS
import ContainerRuntime
import Glibc
import Logging
import ObjectStore
import Platform
import ServiceLifecycle
import ServiceProxy

/// Services' traffic: the userspace proxy for every TCP service port, and cluster DNS on the
/// kube-dns ClusterIP. Both need their ClusterIPs on `lo`, labelled for this instance so that
/// startup and stop sweep exactly what this instance (or a crashed run of it) left there.
struct ServiceNetworking {
    let loopback: LoopbackAddresses
    let services: [ServiceGroupConfiguration.ServiceConfiguration]
    let logger: Logger

    /// NodePorts listen on 0.0.0.0, as kube-proxy's default (every local address, iptables
    /// mode): `curl <node-ip>:<nodePort>` and `curl localhost:<nodePort>` both work, and all of
    /// onekube's nodes share this host's addresses anyway.
    static let nodePortAddress = "0.0.0.0"

    init(configuration: DaemonConfiguration, store: ObjectStore, logger: Logger) throws {
        self.logger = logger
        loopback = LoopbackAddresses(dataDirectory: configuration.dataDirectory)
        guard let dnsIP = configuration.clusterDNSServiceIP else {
            throw OnekubeError(.invalidArgument, "invalid --service-cidr \(configuration.serviceCIDR)")
        }
        if let address = configuration.loadBalancerAddress { try Self.requireLocal(address) }
        let addresses = LoopbackServiceAddresses(loopback: loopback)
        let proxy = ServiceProxy(store: store, factory: ForwardingListenerFactory(logger: logger.withLabel("service-proxy")),
                                 addresses: addresses, nodeAddresses: [Self.nodePortAddress],
                                 skipping: [ObjectKey(resource: "services", namespace: "kube-system", name: "kube-dns")],
                                 logger: logger.withLabel("service-proxy"))
        let dns = DNSServer(host: dnsIP, records: ClusterRecords(domain: DaemonConfiguration.clusterDomain, directory: ClusterDirectory(store: store)),
                            upstream: UpstreamResolvers.fromResolvConf(excluding: [dnsIP]), logger: logger.withLabel("cluster-dns"))
        // Without cluster DNS (its address or port 53 taken) the rest of the cluster still works:
        // its failure is logged, not fatal.
        services = [.init(service: proxy),
                    .init(service: AddressedService(address: dnsIP, addresses: addresses, service: dns, logger: logger.withLabel("cluster-dns")),
                          successTerminationBehavior: .ignore, failureTerminationBehavior: .ignore)]
    }

    /// `--lb-address` must be one of this host's addresses: the proxy binds it for every
    /// LoadBalancer port, and an address the host does not have would leave every service
    /// forever unreachable. Checked by binding a socket to it (port 0), which sends nothing.
    static func requireLocal(_ address: String) throws {
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        guard inet_pton(AF_INET, address, &socketAddress.sin_addr) == 1 else {
            throw OnekubeError(.invalidArgument, "invalid --lb-address \(address): not an IPv4 address")
        }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw OnekubeError(.internalError, "socket for --lb-address \(address): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bound = withUnsafePointer(to: &socketAddress) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else {
            throw OnekubeError(.invalidArgument, "--lb-address \(address) is not an address of this host (bind: \(String(cString: strerror(errno))))")
        }
    }

    /// Removes every address with this instance's label: at startup what an earlier run left
    /// (kill -9, power loss) before anything binds; at exit whatever a failed stop kept.
    func sweep(_ when: String) {
        do {
            let removed = try loopback.removeAll()
            if !removed.isEmpty { logger.info("removed service addresses from lo", metadata: ["when": "\(when)", "addresses": "\(removed)"]) }
        } catch {
            logger.warning("cannot remove service addresses from lo", metadata: ["label": "\(loopback.label)", "error": "\(error)"])
        }
    }
}

/// The proxy's LocalAddresses on netlink.
struct LoopbackServiceAddresses: LocalAddresses {
    let loopback: LoopbackAddresses
    func add(_ ip: String) throws { try loopback.add(ip) }
    func remove(_ ip: String) throws { try loopback.remove(ip) }
}

/// Runs a service bound to an address of its own on `lo`: added before, removed after.
struct AddressedService: Service {
    let address: String
    let addresses: LocalAddresses
    let service: any Service
    let logger: Logger

    func run() async throws {
        do {
            try addresses.add(address)
        } catch {
            logger.error("cannot serve on its address", metadata: ["address": "\(address)", "error": "\(error)"])
            throw error
        }
        defer {
            do {
                try addresses.remove(address)
            } catch {
                logger.warning("cannot remove its address", metadata: ["address": "\(address)", "error": "\(error)"])
            }
        }
        do {
            try await service.run()
        } catch {
            logger.error("stopped", metadata: ["address": "\(address)", "error": "\(error)"])
            throw error
        }
    }
}
