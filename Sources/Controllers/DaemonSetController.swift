import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle

/// Runs one pod of each DaemonSet on every node it should run on, as the daemonset controller
/// does: the pod is pinned with a required node affinity on `metadata.name` and left to the
/// scheduler to bind; it tolerates the node-condition taints; nodes that stop qualifying lose
/// their pod; failed pods are replaced; RollingUpdate replaces pods of an older template at most
/// maxUnavailable at a time.
public final class DaemonSetController: Service {
    let registry: ObjectRegistry
    let logger: Logger
    let events: EventRecorder
    let queue = WorkQueue<ObjectKey>()
    static let daemonSets = ResourceCatalog.find(kind: "DaemonSet")
    static let pods = ResourceCatalog.find(kind: "Pod")
    static let nodes = ResourceCatalog.find(kind: "Node")
    static let hashLabel = "controller-revision-hash"

    public init(registry: ObjectRegistry, logger: Logger) {
        self.registry = registry
        self.logger = logger
        events = EventRecorder(registry: registry, component: "daemonset-controller", logger: logger)
    }

    var store: ObjectStore { registry.store }

    public func run() async throws {
        guard let daemonSets = Self.daemonSets, let pods = Self.pods, let nodes = Self.nodes else { return }
        try await ReconcileLoop(queue: queue, store: store).run(
            watching: [daemonSets, pods, nodes], initial: [daemonSets], route: { self.enqueue(for: $0, daemonSets: daemonSets) },
            reconcile: reconcile)
    }

    func enqueue(for event: WatchEvent, daemonSets: ResourceType) {
        switch event.key.resource {
        case daemonSets.storageName:
            queue.add(event.key)
        case "nodes":
            // A node came, went, or changed labels or taints: every DaemonSet looks again.
            for ds in store.list(ObjectScope(resource: daemonSets.storageName)).items { queue.add(ds.key) }
        default:
            for owner in event.object.ownerReferences where owner.controller && owner.kind == "DaemonSet" {
                queue.add(ObjectKey(resource: daemonSets.storageName, namespace: event.key.namespace, name: owner.name))
            }
        }
    }

    /// The tolerations the controller gives every daemon pod, so that node conditions neither
    /// keep it off a node nor evict it.
    static let daemonTolerations: [(String, String)] = [
        ("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
        ("node.kubernetes.io/disk-pressure", "NoSchedule"), ("node.kubernetes.io/memory-pressure", "NoSchedule"),
        ("node.kubernetes.io/pid-pressure", "NoSchedule"), ("node.kubernetes.io/unschedulable", "NoSchedule"),
    ]

    /// The template as pods get it: the daemon tolerations added to the template's own.
    static func podTemplate(of ds: OrderedJSON) -> OrderedJSON {
        var template = ds[path: ["spec", "template"]] ?? .object([])
        var tolerations = template[path: ["spec", "tolerations"]]?.arrayValue ?? []
        for (key, effect) in daemonTolerations where !SchedulingDecision.tolerates(tolerations, key: key, value: "", effect: effect) {
            tolerations.append(.object([("key", .string(key)), ("operator", .string("Exists")), ("effect", .string(effect))]))
        }
        template[path: ["spec", "tolerations"]] = .array(tolerations)
        return template
    }

    /// The node a daemon pod is meant for: where it is bound, else its affinity's `metadata.name`.
    static func targetNode(of pod: OrderedJSON) -> String? {
        if let bound = pod[path: ["spec", "nodeName"]]?.stringValue, !bound.isEmpty { return bound }
        let terms = pod[path: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"]]?.arrayValue ?? []
        for term in terms {
            for field in term["matchFields"]?.arrayValue ?? [] where field["key"]?.stringValue == "metadata.name" {
                if let node = field["values"]?.arrayValue?.first?.stringValue { return node }
            }
        }
        return nil
    }

    static func pinned(_ template: OrderedJSON, to node: String) -> OrderedJSON {
        var pinned = template
        let term: OrderedJSON = .object([("matchFields", .array([.object([
            ("key", .string("metadata.name")), ("operator", .string("In")), ("values", .array([.string(node)])),
        ])]))])
        pinned[path: ["spec", "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"]] =
            .object([("nodeSelectorTerms", .array([term]))])
        return pinned
    }

    func reconcile(_ key: ObjectKey) {
        guard let pods = Self.pods, let daemonSets = Self.daemonSets, let ds = store.get(key)?.value, ds.deletionTimestamp == nil else { return }
        let template = Self.podTemplate(of: ds)
        let hash = TemplateHash.of(ds[path: ["spec", "template"]] ?? .object([]))
        let nodes = store.list(ObjectScope(resource: "nodes")).items.map(\.value)
        let owned = store.list(ObjectScope(resource: "pods", namespace: key.namespace)).items.map(\.value)
            .filter { pod in pod.ownerReferences.contains { $0.uid == ds.uid && $0.controller } && pod.deletionTimestamp == nil }
        let byNode = Dictionary(grouping: owned) { Self.targetNode(of: $0) ?? "" }
        var shouldRunCount = 0, scheduled = 0, misscheduled = 0, ready = 0, updated = 0
        var outdated: [OrderedJSON] = []
        var unavailable = 0

        for node in nodes {
            let shouldRun = SchedulingDecision.unfitPlacement(Self.pinned(template, to: node.name), on: node) == nil
            var here = byNode[node.name] ?? []
            // A failed daemon pod is deleted so that a fresh one takes its place.
            for pod in here where pod[path: ["status", "phase"]]?.stringValue == "Failed" {
                delete(pod, of: ds, type: pods)
                events.record(ds, type: "Warning", reason: "FailedDaemonPod", message: "Found failed daemon pod \(pod.namespace)/\(pod.name) on node \(node.name), will try to kill it")
            }
            here.removeAll { $0[path: ["status", "phase"]]?.stringValue == "Failed" }
            guard shouldRun else {
                misscheduled += here.count
                for pod in here { delete(pod, of: ds, type: pods) }
                continue
            }
            shouldRunCount += 1
            if here.isEmpty {
                create(Self.pinned(template, to: node.name), for: ds, hash: hash, type: pods)
                unavailable += 1
                continue
            }
            // One pod per node: the oldest stays.
            let sorted = here.sorted { ($0.creationTimestamp ?? "") < ($1.creationTimestamp ?? "") }
            for extra in sorted.dropFirst() { delete(extra, of: ds, type: pods) }
            guard let pod = sorted.first else { continue }
            scheduled += 1
            let isReady = ReplicaSetController.isReady(pod)
            if isReady { ready += 1 } else { unavailable += 1 }
            if pod.labels[Self.hashLabel] == hash { updated += 1 } else { outdated.append(pod) }
        }
        // Daemon pods for nodes that are gone.
        let nodeNames = Set(nodes.map(\.name))
        for (node, stranded) in byNode where !nodeNames.contains(node) {
            for pod in stranded { delete(pod, of: ds, type: pods) }
        }

        if ds[path: ["spec", "updateStrategy", "type"]]?.stringValue ?? "RollingUpdate" == "RollingUpdate" {
            let maxUnavailable = DeploymentController.resolve(ds[path: ["spec", "updateStrategy", "rollingUpdate", "maxUnavailable"]],
                                                              of: Int64(shouldRunCount), roundUp: true, default: 1)
            // Outdated pods that are not ready go first and freely; ready ones within the budget.
            let notReady = outdated.filter { !ReplicaSetController.isReady($0) }
            for pod in notReady { delete(pod, of: ds, type: pods) }
            var budget = Int(max(1, maxUnavailable)) - unavailable
            for pod in outdated where ReplicaSetController.isReady(pod) && budget > 0 {
                delete(pod, of: ds, type: pods)
                budget -= 1
            }
        }

        _ = try? registry.replace(daemonSets, namespace: key.namespace, name: key.name, expectedRevision: nil, statusOnly: true) { value in
            var next = value
            var status: [(String, OrderedJSON)] = [
                ("currentNumberScheduled", .int(Int64(scheduled))), ("numberMisscheduled", .int(Int64(misscheduled))),
                ("desiredNumberScheduled", .int(Int64(shouldRunCount))), ("numberReady", .int(Int64(ready))),
                ("observedGeneration", .int(value.generation)), ("updatedNumberScheduled", .int(Int64(updated))),
            ]
            if ready > 0 { status.append(("numberAvailable", .int(Int64(ready)))) }
            if shouldRunCount - ready > 0 { status.append(("numberUnavailable", .int(Int64(shouldRunCount - ready)))) }
            next["status"] = .object(status)
            return next
        }
    }

    func create(_ template: OrderedJSON, for ds: OrderedJSON, hash: String, type: ResourceType) {
        guard let daemonSets = Self.daemonSets else { return }
        let pod = PodTemplate.pod(from: template, owner: ds, ownerType: daemonSets,
                                  extraLabels: [Self.hashLabel: hash, "pod-template-generation": String(ds.generation)])
        podControl.create(pod, for: ds, type: type)
    }

    func delete(_ pod: OrderedJSON, of ds: OrderedJSON, type: ResourceType) { podControl.delete(pod, of: ds, type: type) }

    var podControl: PodControl { PodControl(registry: registry, events: events, logger: logger) }
}
