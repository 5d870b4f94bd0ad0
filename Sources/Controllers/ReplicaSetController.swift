import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle

/// Keeps the number of pods of each ReplicationController (or ReplicaSet) at its replicas:
/// creates from the template, deletes the least established first, adopts matching orphans and
/// releases pods that stopped matching, and reports replicas, ready and available in status.
public final class ReplicaSetController: Service {
    let registry: ObjectRegistry
    let ownerType: ResourceType
    let logger: Logger
    let events: EventRecorder
    let queue = WorkQueue<ObjectKey>()
    static let pods = ResourceCatalog.find(kind: "Pod")

    /// `kind` is ReplicationController or ReplicaSet.
    public init?(registry: ObjectRegistry, kind: String, logger: Logger) {
        guard let type = ResourceCatalog.find(kind: kind) else { return nil }
        self.registry = registry
        ownerType = type
        self.logger = logger
        events = EventRecorder(registry: registry, component: kind == "ReplicaSet" ? "replicaset-controller" : "replication-controller",
                               logger: logger)
    }

    var store: ObjectStore { registry.store }

    public func run() async throws {
        guard let pods = Self.pods else { return }
        try await ReconcileLoop(queue: queue, store: store).run(
            watching: [ownerType, pods], initial: [ownerType], route: enqueue(for:), reconcile: reconcile)
    }

    func enqueue(for event: WatchEvent) {
        if event.key.resource == ownerType.storageName {
            queue.add(event.key)
            return
        }
        // A pod: its controller, or any owner whose selector matches an orphan.
        let owners = (event.object.ownerReferences + (event.previous?.ownerReferences ?? [])).filter { $0.controller && $0.kind == ownerType.kind }
        for owner in owners { queue.add(ObjectKey(resource: ownerType.storageName, namespace: event.key.namespace, name: owner.name)) }
        if owners.isEmpty {
            for owner in store.list(ObjectScope(resource: ownerType.storageName, namespace: event.key.namespace)).items
            where selector(of: owner.value).matches(event.object.labels) {
                queue.add(owner.key)
            }
        }
    }

    func selector(of owner: OrderedJSON) -> LabelSelector {
        if ownerType.kind == "ReplicationController" {
            return LabelSelector(matching: owner[path: ["spec", "selector"]]?.stringMap ?? [:])
        }
        return LabelSelector(labelSelectorJSON: owner[path: ["spec", "selector"]] ?? .object([]))
    }

    static func isActive(_ pod: OrderedJSON) -> Bool {
        pod.deletionTimestamp == nil && !["Succeeded", "Failed"].contains(pod[path: ["status", "phase"]]?.stringValue ?? "")
    }

    static func isReady(_ pod: OrderedJSON) -> Bool {
        (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" }
    }

    func reconcile(_ key: ObjectKey) {
        guard let pods = Self.pods, let stored = store.get(key), stored.value.deletionTimestamp == nil else { return }
        let owner = stored.value
        let selector = selector(of: owner)
        guard !selector.isEmpty else { return }
        let namespacePods = store.list(ObjectScope(resource: "pods", namespace: key.namespace)).items.map(\.value)
        var mine: [OrderedJSON] = []
        for pod in namespacePods {
            let controller = pod.ownerReferences.first { $0.controller }
            let matches = selector.matches(pod.labels)
            if controller?.uid == owner.uid {
                if matches { mine.append(pod) } else { setControllerReference(pod, to: nil) }
            } else if controller == nil, matches, Self.isActive(pod) {
                if let adopted = setControllerReference(pod, to: owner) { mine.append(adopted) }
            }
        }
        let active = mine.filter(Self.isActive)
        let desired = Int(owner[path: ["spec", "replicas"]]?.intValue ?? 1)
        if active.count < desired {
            for _ in 0..<(desired - active.count) { createPod(for: owner, type: pods) }
        } else if active.count > desired {
            for pod in Self.deletionOrder(active).prefix(active.count - desired) { podControl.delete(pod, of: owner, type: pods) }
        }
        updateStatus(key, owner: owner)
    }

    /// Unscheduled before scheduled, pending before running, not ready before ready, newest first.
    static func deletionOrder(_ pods: [OrderedJSON]) -> [OrderedJSON] {
        func rank(_ pod: OrderedJSON) -> (Int, Int, Int, String) {
            let unscheduled = (pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty ? 0 : 1
            let phase = pod[path: ["status", "phase"]]?.stringValue
            let phaseRank = phase == "Pending" ? 0 : (phase == "Running" ? 2 : 1)
            return (unscheduled, phaseRank, isReady(pod) ? 1 : 0, pod.creationTimestamp ?? "")
        }
        return pods.sorted { a, b in
            let (ra, rb) = (rank(a), rank(b))
            if (ra.0, ra.1, ra.2) != (rb.0, rb.1, rb.2) { return (ra.0, ra.1, ra.2) < (rb.0, rb.1, rb.2) }
            return ra.3 > rb.3
        }
    }

    func createPod(for owner: OrderedJSON, type pods: ResourceType) {
        podControl.create(PodTemplate.pod(from: owner[path: ["spec", "template"]] ?? .object([]), owner: owner, ownerType: ownerType),
                          for: owner, type: pods)
    }

    var podControl: PodControl { PodControl(registry: registry, events: events, logger: logger) }

    /// Adopts (`to` an owner) or releases (`to` nil) a pod; returns the updated pod.
    @discardableResult
    func setControllerReference(_ pod: OrderedJSON, to owner: OrderedJSON?) -> OrderedJSON? {
        guard let pods = Self.pods else { return nil }
        return try? registry.replace(pods, namespace: pod.namespace, name: pod.name, expectedRevision: nil, statusOnly: false) { value in
            var next = value
            var references = (value[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).filter { $0["controller"]?.boolValue != true }
            if let owner {
                references.append(OwnerReference(apiVersion: self.ownerType.apiVersion, kind: self.ownerType.kind,
                                                 name: owner.name, uid: owner.uid).json)
            }
            next[path: ["metadata", "ownerReferences"]] = references.isEmpty ? nil : .array(references)
            return next
        }.value
    }

    func updateStatus(_ key: ObjectKey, owner: OrderedJSON) {
        let mine = store.list(ObjectScope(resource: "pods", namespace: key.namespace)).items.map(\.value)
            .filter { $0.ownerReferences.contains { $0.uid == owner.uid && $0.controller } && Self.isActive($0) }
        let templateLabels = owner[path: ["spec", "template", "metadata", "labels"]]?.stringMap ?? [:]
        let fullyLabeled = mine.filter { pod in templateLabels.allSatisfy { pod.labels[$0.key] == $0.value } }.count
        let ready = mine.filter(Self.isReady).count
        _ = try? registry.replace(ownerType, namespace: key.namespace, name: key.name, expectedRevision: nil, statusOnly: true) { value in
            var next = value
            var status = value["status"] ?? .object([])
            status["replicas"] = .int(Int64(mine.count))
            status["fullyLabeledReplicas"] = .int(Int64(fullyLabeled))
            status["readyReplicas"] = ready > 0 ? .int(Int64(ready)) : nil
            status["availableReplicas"] = ready > 0 ? .int(Int64(ready)) : nil
            status["observedGeneration"] = .int(value.generation)
            next["status"] = status
            return next
        }
    }
}
