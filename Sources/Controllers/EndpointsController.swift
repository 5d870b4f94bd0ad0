import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle

/// Publishes, for every service with a selector, the pods behind it: an Endpoints object and an
/// EndpointSlice (which `kubectl describe svc` reads). Ready pods are addresses, unready ones
/// notReadyAddresses (all ready with publishNotReadyAddresses), terminating ones are dropped; a
/// named targetPort resolves per pod; every slice port carries a `name`.
public final class EndpointsController: Service {
    let registry: ObjectRegistry
    let logger: Logger
    let queue = WorkQueue<ObjectKey>()
    static let services = ResourceCatalog.find(kind: "Service")
    static let endpoints = ResourceCatalog.find(kind: "Endpoints")
    static let slices = ResourceCatalog.find(kind: "EndpointSlice")
    static let pods = ResourceCatalog.find(kind: "Pod")

    public init(registry: ObjectRegistry, logger: Logger) {
        self.registry = registry
        self.logger = logger
    }

    var store: ObjectStore { registry.store }

    public func run() async throws {
        guard let services = Self.services, let pods = Self.pods else { return }
        try await ReconcileLoop(queue: queue, store: store).run(
            watching: [services, pods], initial: [services], route: { self.enqueue(for: $0, services: services) }, reconcile: reconcile)
    }

    func enqueue(for event: WatchEvent, services: ResourceType) {
        if event.key.resource == services.storageName {
            queue.add(event.key)
            return
        }
        // Any service of the namespace whose selector matched before or matches now.
        let labels = [event.object.labels, event.previous?.labels ?? [:]]
        for service in store.list(ObjectScope(resource: services.storageName, namespace: event.key.namespace)).items {
            let selector = service.value[path: ["spec", "selector"]]?.stringMap ?? [:]
            if !selector.isEmpty, labels.contains(where: { LabelSelector(matching: selector).matches($0) }) {
                queue.add(service.key)
            }
        }
    }

    func reconcile(_ key: ObjectKey) {
        guard let endpoints = Self.endpoints, let slices = Self.slices else { return }
        guard let service = store.get(key)?.value, service.deletionTimestamp == nil else { return }  // the GC takes what it owned
        guard let selectorMap = service[path: ["spec", "selector"]]?.stringMap, !selectorMap.isEmpty else { return }
        let selector = LabelSelector(matching: selectorMap)
        let publishNotReady = service[path: ["spec", "publishNotReadyAddresses"]]?.boolValue == true
        let pods = store.list(ObjectScope(resource: "pods", namespace: key.namespace)).items.map(\.value).filter { pod in
            selector.matches(pod.labels) && pod.deletionTimestamp == nil && !(pod[path: ["status", "podIP"]]?.stringValue ?? "").isEmpty
                && !["Succeeded", "Failed"].contains(pod[path: ["status", "phase"]]?.stringValue ?? "")
        }.sorted { $0.name < $1.name }
        let servicePorts = service[path: ["spec", "ports"]]?.arrayValue ?? []

        // Endpoints: pods grouped by their resolved port set, as subsets.
        var subsets: [(ports: [OrderedJSON], ready: [OrderedJSON], notReady: [OrderedJSON])] = []
        var sliceEndpoints: [OrderedJSON] = []
        var slicePorts: [OrderedJSON]?
        for pod in pods {
            let ports = servicePorts.compactMap { Self.resolve($0, in: pod) }
            guard ports.count == servicePorts.count else { continue }
            let ready = publishNotReady || ReplicaSetController.isReady(pod)
            let address: OrderedJSON = .object([
                ("ip", .string(pod[path: ["status", "podIP"]]?.stringValue ?? "")),
                ("nodeName", .string(pod[path: ["spec", "nodeName"]]?.stringValue ?? "")),
                ("targetRef", .object([("kind", .string("Pod")), ("namespace", .string(pod.namespace)), ("name", .string(pod.name)),
                                       ("uid", .string(pod.uid))])),
            ])
            let endpointPorts = ports.map { $0.endpointPort }
            if let index = subsets.firstIndex(where: { $0.ports == endpointPorts }) {
                if ready { subsets[index].ready.append(address) } else { subsets[index].notReady.append(address) }
            } else {
                subsets.append((endpointPorts, ready ? [address] : [], ready ? [] : [address]))
            }
            slicePorts = slicePorts ?? ports.map { $0.slicePort }
            sliceEndpoints.append(.object([
                ("addresses", .array([.string(pod[path: ["status", "podIP"]]?.stringValue ?? "")])),
                ("conditions", .object([("ready", .bool(ready)), ("serving", .bool(ready)), ("terminating", .bool(false))])),
                ("nodeName", .string(pod[path: ["spec", "nodeName"]]?.stringValue ?? "")),
                ("targetRef", .object([("kind", .string("Pod")), ("namespace", .string(pod.namespace)), ("name", .string(pod.name)),
                                       ("uid", .string(pod.uid))])),
            ]))
        }
        let subsetJSON: OrderedJSON = .array(subsets.map { subset in
            var pairs: [(String, OrderedJSON)] = []
            if !subset.ready.isEmpty { pairs.append(("addresses", .array(subset.ready))) }
            if !subset.notReady.isEmpty { pairs.append(("notReadyAddresses", .array(subset.notReady))) }
            pairs.append(("ports", .array(subset.ports)))
            return .object(pairs)
        })
        let owner = OwnerReference(apiVersion: "v1", kind: "Service", name: service.name, uid: service.uid).json
        upsert(endpoints, key.namespace, service.name, .object([
            ("metadata", .object([("name", .string(service.name)), ("namespace", .string(key.namespace)),
                                  ("labels", service[path: ["metadata", "labels"]] ?? .object([]))])),
            ("subsets", subsetJSON),
        ])) { current in
            var next = current
            next["subsets"] = subsetJSON
            return next
        }
        let fallbackPorts = servicePorts.map { port -> OrderedJSON in
            .object([("name", .string(port["name"]?.stringValue ?? "")), ("protocol", .string(port["protocol"]?.stringValue ?? "TCP")),
                     ("port", port["targetPort"]?.intValue.map(OrderedJSON.int) ?? .null)])
        }
        let sliceName = "\(service.name)-onekube"
        upsert(slices, key.namespace, sliceName, .object([
            ("metadata", .object([("name", .string(sliceName)), ("namespace", .string(key.namespace)),
                                  ("labels", .stringMap(["kubernetes.io/service-name": service.name,
                                                         "endpointslice.kubernetes.io/managed-by": "endpointslice-controller.k8s.io"])),
                                  ("ownerReferences", .array([owner]))])),
            ("addressType", .string("IPv4")), ("endpoints", .array(sliceEndpoints)), ("ports", .array(slicePorts ?? fallbackPorts)),
        ])) { current in
            var next = current
            next["endpoints"] = .array(sliceEndpoints)
            next["ports"] = .array(slicePorts ?? fallbackPorts)
            return next
        }
    }

    struct ResolvedPort {
        var endpointPort: OrderedJSON
        var slicePort: OrderedJSON
    }

    /// A service port's target in one pod: a number, or a container port name looked up in it.
    static func resolve(_ servicePort: OrderedJSON, in pod: OrderedJSON) -> ResolvedPort? {
        let name = servicePort["name"]?.stringValue ?? ""
        let proto = servicePort["protocol"]?.stringValue ?? "TCP"
        var number: Int64?
        switch servicePort["targetPort"] {
        case .int(let n)?: number = n
        case .string(let portName)?:
            number = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).flatMap { $0["ports"]?.arrayValue ?? [] }
                .first { $0["name"]?.stringValue == portName }?["containerPort"]?.intValue
        default: number = servicePort["port"]?.intValue
        }
        guard let number else { return nil }
        var endpoint: [(String, OrderedJSON)] = []
        if !name.isEmpty { endpoint.append(("name", .string(name))) }
        endpoint += [("port", .int(number)), ("protocol", .string(proto))]
        return ResolvedPort(endpointPort: .object(endpoint),
                            slicePort: .object([("name", .string(name)), ("protocol", .string(proto)), ("port", .int(number))]))
    }

    func upsert(_ type: ResourceType, _ namespace: String, _ name: String, _ fresh: OrderedJSON, update: @escaping (OrderedJSON) -> OrderedJSON) {
        do {
            if registry.get(type, namespace: namespace, name: name) == nil {
                _ = try registry.createObject(fresh, type: type)
            } else {
                _ = try registry.replace(type, namespace: namespace, name: name, expectedRevision: nil, statusOnly: false, update)
            }
        } catch {
            logger.debug("could not publish endpoints", metadata: ["object": "\(namespace)/\(name)", "error": "\(error)"])
        }
    }
}
