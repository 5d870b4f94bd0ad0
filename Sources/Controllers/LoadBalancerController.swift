import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle

/// Gives every LoadBalancer service an external address within a second: its own loopback address
/// from the pool (127.0.1.1, 127.0.1.2, …: all of 127.0.0.0/8 is local on Linux, so two services
/// can both use port 8080 and nothing leaves the machine), or the one `--lb-address` names.
/// Services that stop being LoadBalancers give theirs back.
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
            watching: [services], initial: [services], route: { event in if event.kind != .deleted { self.queue.add(event.key) } },
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
        } else if current.isEmpty {
            guard let address = fixedAddress ?? nextFree(excluding: key) else {
                logger.warning("the load balancer pool is exhausted", metadata: ["pool": "\(pool)"])
                return
            }
            wanted = [address]
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
