import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle

/// Gives every LoadBalancer service an external address within a second: its own loopback address
/// from the pool (127.0.1.1, 127.0.1.2, …: all of 127.0.0.0/8 is local on Linux, so two services
/// can both use port 8080 and nothing leaves the machine), or the one `--lb-address` names. On
/// that one address two services cannot share a port: the later one stays `<pending>` until the
/// port is free, as k3s's ServiceLB leaves it. Services that stop being LoadBalancers give theirs
/// back, and an address a different configuration gave (another pool, or none) is replaced.
public final class LoadBalancerController: Service {
    let registry: ObjectRegistry
    let pool: IPv4Network
    let fixedAddress: String?
    let logger: Logger
    let queue = WorkQueue<ObjectKey>()
    static let services = ResourceCatalog.find(kind: "Service")

    public init(registry: ObjectRegistry, pool: IPv4Network, fixedAddress: String?, logger: Logger) {
        self.registry = registry
        self.pool = pool
        self.fixedAddress = fixedAddress
        self.logger = logger
    }

    var store: ObjectStore { registry.store }

    public func run() async throws {
        guard let services = Self.services else { return }
        try await ReconcileLoop(queue: queue, store: store).run(
            watching: [services], initial: [services],
            route: { event in
                if event.kind != .deleted { self.queue.add(event.key) }
                // A deleted or changed service may have freed the address or port a pending one waits for.
                for pending in self.pendingKeys() where pending != event.key { self.queue.add(pending) }
            },
            reconcile: reconcile)
    }

    static func ingressIPs(_ service: OrderedJSON) -> [String] {
        (service[path: ["status", "loadBalancer", "ingress"]]?.arrayValue ?? []).compactMap { $0["ip"]?.stringValue }
    }

    func reconcile(_ key: ObjectKey) {
        guard let services = Self.services, let service = store.get(key)?.value, service.deletionTimestamp == nil else { return }
        let isLoadBalancer = service[path: ["spec", "type"]]?.stringValue == "LoadBalancer"
        let current = Self.ingressIPs(service)
        var wanted: [String] = current
        if !isLoadBalancer {
            wanted = []
        } else if current.isEmpty || !current.allSatisfy(isOurs) {
            if let fixedAddress {
                if let holder = portHolder(on: fixedAddress, for: service, excluding: key) {
                    logger.info("load balancer port taken on the --lb-address; the service stays pending",
                                metadata: ["service": "\(key.namespace)/\(key.name)", "address": "\(fixedAddress)", "holder": "\(holder)"])
                    wanted = []
                } else {
                    wanted = [fixedAddress]
                }
            } else if let address = nextFree(excluding: key) {
                wanted = [address]
            } else {
                logger.warning("the load balancer pool is exhausted", metadata: ["pool": "\(pool)"])
                wanted = []
            }
        }
        guard wanted != current else { return }
        _ = try? registry.replace(services, namespace: key.namespace, name: key.name, expectedRevision: nil, statusOnly: true) { value in
            var next = value
            next[path: ["status", "loadBalancer"]] = wanted.isEmpty ? .object([]) : .object([("ingress", .array(wanted.map { ip in
                .object([("ip", .string(ip)), ("ipMode", .string("VIP"))])
            }))])
            return next
        }
    }

    /// Whether this configuration could have given `ip`: the `--lb-address`, or a pool address.
    func isOurs(_ ip: String) -> Bool {
        if let fixedAddress { return ip == fixedAddress }
        return IPv4Network.parse(ip).map(pool.contains) ?? false
    }

    /// LoadBalancer services with no address yet.
    func pendingKeys() -> [ObjectKey] {
        store.list(ObjectScope(resource: "services")).items.filter {
            $0.value[path: ["spec", "type"]]?.stringValue == "LoadBalancer" && Self.ingressIPs($0.value).isEmpty
        }.map(\.key)
    }

    /// The service (namespace/name) already listening on `address` on one of `service`'s ports.
    func portHolder(on address: String, for service: OrderedJSON, excluding key: ObjectKey) -> String? {
        let wanted = Set(Self.ports(service))
        return store.list(ObjectScope(resource: "services")).items.first {
            $0.key != key && Self.ingressIPs($0.value).contains(address) && !wanted.isDisjoint(with: Self.ports($0.value))
        }.map { "\($0.key.namespace)/\($0.key.name)" }
    }

    /// A service's ports as "8080/TCP".
    static func ports(_ service: OrderedJSON) -> [String] {
        (service[path: ["spec", "ports"]]?.arrayValue ?? []).compactMap { port in
            port["port"]?.intValue.map { "\($0)/\(port["protocol"]?.stringValue ?? "TCP")" }
        }
    }

    /// The lowest pool address no other service holds (the pool's first address is kept back: it
    /// is the network's).
    func nextFree(excluding key: ObjectKey) -> String? {
        let taken = Set(store.list(ObjectScope(resource: "services")).items.filter { $0.key != key }.flatMap { Self.ingressIPs($0.value) })
        var candidate = pool.base + 1
        while pool.contains(candidate) && candidate != pool.base + pool.size - 1 {
            let text = IPv4Network.format(candidate)
            if !taken.contains(text) { return text }
            candidate += 1
        }
        return nil
    }
}
