import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import ServiceLifecycle

/// A listening socket the proxy opened for one service port.
public protocol PortListener: Sendable {
    /// Stops accepting; established connections carry on until either side closes.
    func stop() async
}

/// A service port's protocol, as far as the proxy serves it (SCTP is not).
public enum Transport: String, Sendable, Hashable {
    case tcp = "TCP"
    case udp = "UDP"
}

/// Opens listeners that hand each connection (or UDP session) to one of a service port's backends.
public protocol ListenerFactory: Sendable {
    func listen(host: String, port: Int, transport: Transport, backends: ServiceBackends) async throws -> PortListener
}

/// Makes service IPs local (on `lo`) so that binding them works and traffic to them never leaves
/// the host.
public protocol LocalAddresses: Sendable {
    func add(_ ip: String) throws
    func remove(_ ip: String) throws
}

/// Where one service port is reachable: `host:port`, or `host:port/udp`.
struct ListenAddress: Hashable, Sendable, CustomStringConvertible {
    var host: String
    var port: Int
    var transport: Transport = .tcp
    var description: String { transport == .tcp ? "\(host):\(port)" : "\(host):\(port)/udp" }
}

/// kube-proxy in userspace: for every TCP and UDP service port it listens on the ClusterIP, on
/// each LoadBalancer ingress IP and on the NodePort of each node address, and splices connections
/// (relays datagrams) to the port's ready endpoints. Endpoint changes apply to new connections only.
public final class ServiceProxy: Service {
    let store: ObjectStore
    let factory: ListenerFactory
    let addresses: LocalAddresses
    let nodeAddresses: [String]
    let logger: Logger
    /// Services the daemon serves in-process (cluster DNS), left alone here.
    let skipped: Set<ObjectKey>

    public init(store: ObjectStore, factory: ListenerFactory, addresses: LocalAddresses, nodeAddresses: [String],
                skipping skipped: Set<ObjectKey> = [], logger: Logger) {
        self.store = store
        self.factory = factory
        self.addresses = addresses
        self.nodeAddresses = nodeAddresses
        self.skipped = skipped
        self.logger = logger
    }

    /// What the proxy holds open for one service.
    struct Installed: Sendable {
        var listeners: [ListenAddress: PortListener] = [:]
        /// One chooser per service port name, shared by that port's listeners.
        var backends: [String: ServiceBackends] = [:]
        var localIPs: Set<String> = []
    }

    /// The listeners one service wants, each with its port's name.
    static func wanted(_ service: OrderedJSON, nodeAddresses: [String]) -> [(ListenAddress, String)] {
        let spec = service["spec"]
        let type = spec?["type"]?.stringValue ?? "ClusterIP"
        guard type != "ExternalName" else { return [] }
        let clusterIPs = Self.clusterIPs(service)
        let ingress = (service[path: ["status", "loadBalancer", "ingress"]]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
        let external = spec?["externalIPs"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var result: [(ListenAddress, String)] = []
        for port in spec?["ports"]?.arrayValue ?? [] {
            guard let transport = Transport(rawValue: port["protocol"]?.stringValue ?? "TCP"),
                  let number = port["port"]?.intValue else { continue }
            let name = port["name"]?.stringValue ?? ""
            for ip in clusterIPs + external { result.append((ListenAddress(host: ip, port: Int(number), transport: transport), name)) }
            if type == "LoadBalancer" {
                for ip in ingress { result.append((ListenAddress(host: ip, port: Int(number), transport: transport), name)) }
            }
            if type == "NodePort" || type == "LoadBalancer", let nodePort = port["nodePort"]?.intValue {
                for ip in nodeAddresses { result.append((ListenAddress(host: ip, port: Int(nodePort), transport: transport), name)) }
            }
        }
        return result
    }

    /// The IPv4 ClusterIPs of a service. They go on `lo` for as long as the service exists,
    /// listened on or not: a ClusterIP without endpoints then refuses connections at once
    /// instead of sending them to the default route. LoadBalancer addresses (127/8, or the
    /// `--lb-address` the host has) and NodePorts need nothing added.
    static func clusterIPs(_ service: OrderedJSON) -> [String] {
        let spec = service["spec"]
        guard (spec?["type"]?.stringValue ?? "ClusterIP") != "ExternalName" else { return [] }
        return (spec?["clusterIPs"]?.arrayValue?.compactMap(\.stringValue) ?? [spec?["clusterIP"]?.stringValue].compactMap { $0 })
            .filter { $0 != "None" && !$0.isEmpty && !$0.contains(":") }
    }

    public func run() async throws {
        let changes = try store.watch(ObjectScope(resource: "services"), after: store.currentRevision)
        let endpointChanges = try store.watch(ObjectScope(resource: "endpoints"), after: store.currentRevision)
        let (keys, continuation) = AsyncStream<ObjectKey>.makeStream()
        for service in store.list(ObjectScope(resource: "services")).items { continuation.yield(service.key) }
        let installed = await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self, returning: [ObjectKey: Installed].self) { group in
                group.addTask {
                    for await event in changes { continuation.yield(event.key) }
                    continuation.finish()
                }
                group.addTask {
                    for await event in endpointChanges {
                        continuation.yield(ObjectKey(resource: "services", namespace: event.key.namespace, name: event.key.name))
                    }
                }
                // A port someone else holds (say a `docker run -p 8080:8080`) is tried again
                // later, so the service starts listening once it is free.
                let installed = await self.serve(keys, retry: { key, delay in
                    Task {
                        try? await Task.sleep(for: delay)
                        continuation.yield(key)
                    }
                })
                group.cancelAll()
                return installed
            }
        }
        for (_, service) in installed { await release(service) }
    }

    /// Reconciles services one at a time as their keys arrive; returns what is still open. A
    /// service left short of a listener or address is handed to `retry` with a delay that
    /// doubles from 1 s to a minute.
    func serve(_ keys: AsyncStream<ObjectKey>,
               retry: @escaping @Sendable (ObjectKey, Duration) -> Void = { _, _ in }) async -> [ObjectKey: Installed] {
        var installed: [ObjectKey: Installed] = [:]
        var failures: [ObjectKey: Int] = [:]
        for await key in keys {
            if Task.isCancelled { break }
            var current = installed[key] ?? Installed()
            let complete = await reconcile(key, &current)
            installed[key] = current.listeners.isEmpty && current.localIPs.isEmpty ? nil : current
            if complete {
                failures[key] = nil
            } else {
                let count = (failures[key] ?? 0) + 1
                failures[key] = count
                retry(key, .seconds(min(60, 1 << min(count - 1, 6))))
            }
        }
        return installed
    }

    /// Returns whether everything the service wants is in place.
    @discardableResult
    func reconcile(_ key: ObjectKey, _ installed: inout Installed) async -> Bool {
        var complete = true
        let service = skipped.contains(key) ? nil : store.get(key)?.value
        let wanted = service.map { Self.wanted($0, nodeAddresses: nodeAddresses) } ?? []
        // Backends first, so a listener opened below routes from its first connection.
        let endpoints = store.get(ObjectKey(resource: "endpoints", namespace: key.namespace, name: key.name))?.value
        let affinity = service?[path: ["spec", "sessionAffinity"]]?.stringValue == "ClientIP"
        let timeout = service?[path: ["spec", "sessionAffinityConfig", "clientIP", "timeoutSeconds"]]?.intValue ?? 10_800
        for name in Set(wanted.map(\.1)) {
            let backends = installed.backends[name] ?? ServiceBackends()
            backends.update(endpoints: ServiceEndpoint.ready(in: endpoints, portName: name), clientAffinity: affinity,
                            affinityTimeout: TimeInterval(timeout))
            installed.backends[name] = backends
        }
        for name in installed.backends.keys where !wanted.contains(where: { $0.1 == name }) { installed.backends[name] = nil }

        // A port without ready endpoints is not listened on, so that connecting is refused at
        // once by the kernel (kube-proxy REJECTs them); a connection accepted just before the
        // last endpoint went away is reset by the forwarder.
        let serving = Set(wanted.filter { !(installed.backends[$0.1]?.isEmpty ?? true) }.map(\.0))
        for (address, listener) in installed.listeners where !serving.contains(address) {
            await listener.stop()
            installed.listeners[address] = nil
            logger.debug("stopped listening", metadata: ["service": "\(key.namespace)/\(key.name)", "address": "\(address)"])
        }
        let wantedIPs = Set(service.map(Self.clusterIPs) ?? [])
        for ip in installed.localIPs.subtracting(wantedIPs) where !otherServicesUse(ip, except: key) {
            do {
                try addresses.remove(ip)
            } catch {
                logger.warning("cannot remove a service address", metadata: ["address": "\(ip)", "error": "\(error)"])
            }
        }
        installed.localIPs = installed.localIPs.intersection(wantedIPs)
        for ip in wantedIPs.subtracting(installed.localIPs) {
            do {
                try addresses.add(ip)
                installed.localIPs.insert(ip)
            } catch {
                logger.warning("cannot add a service address", metadata: ["service": "\(key.namespace)/\(key.name)",
                                                                          "address": "\(ip)", "error": "\(error)"])
                complete = false
            }
        }
        for (address, name) in wanted where installed.listeners[address] == nil && serving.contains(address) {
            guard let backends = installed.backends[name] else { continue }
            do {
                installed.listeners[address] = try await factory.listen(host: address.host, port: address.port, transport: address.transport, backends: backends)
                logger.debug("listening", metadata: ["service": "\(key.namespace)/\(key.name)", "address": "\(address)"])
            } catch {
                logger.warning("cannot listen for service", metadata: ["service": "\(key.namespace)/\(key.name)",
                                                                       "address": "\(address)", "error": "\(error)"])
                complete = false
            }
        }
        return complete
    }

    /// A ClusterIP is the service's own; the check guards against two services caught mid-swap.
    func otherServicesUse(_ ip: String, except key: ObjectKey) -> Bool {
        store.list(ObjectScope(resource: "services")).items.contains { item in
            item.key != key && item.value[path: ["spec", "clusterIP"]]?.stringValue == ip
        }
    }

    func release(_ installed: Installed) async {
        for listener in installed.listeners.values { await listener.stop() }
        for ip in installed.localIPs {
            do {
                try addresses.remove(ip)
            } catch {
                logger.warning("cannot remove a service address", metadata: ["address": "\(ip)", "error": "\(error)"])
            }
        }
    }
}
