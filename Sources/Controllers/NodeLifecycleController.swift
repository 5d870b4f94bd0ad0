import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle
import Synchronization

/// Watches node heartbeats (their Leases): a node silent for longer than the grace period goes
/// NotReady (conditions Unknown) and gets the unreachable taints; pods on it are evicted once
/// their toleration of that taint runs out, so their controllers recreate them elsewhere. A node
/// that answers again loses the taints.
public final class NodeLifecycleController: Service {
    let registry: ObjectRegistry
    let logger: Logger
    let gracePeriod: TimeInterval
    let interval: Duration
    let events: EventRecorder
    /// When each pod (by uid) was first seen bound to a node that does not exist.
    private let orphanedSince = Mutex<[String: Date]>([:])
    /// The pod garbage collector's quarantine before it deletes such pods (kube-controller-manager's 40 s).
    static let orphanQuarantine: TimeInterval = 40
    static let nodes = ResourceCatalog.find(kind: "Node")
    static let pods = ResourceCatalog.find(kind: "Pod")
    static let unreachable = "node.kubernetes.io/unreachable"

    public init(registry: ObjectRegistry, logger: Logger, gracePeriod: TimeInterval = 40, interval: Duration = .seconds(2)) {
        self.registry = registry
        self.logger = logger
        self.gracePeriod = gracePeriod
        self.interval = interval
        events = EventRecorder(registry: registry, component: "node-controller", logger: logger)
    }

    var store: ObjectStore { registry.store }

    public func run() async throws {
        // Shutdown cancels the sleep; that is the normal way out, not an error.
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                self.check(now: Date())
                try await Task.sleep(for: self.interval)
            }
        }
    }

    func check(now: Date) {
        guard let nodes = Self.nodes else { return }
        for node in store.list(ObjectScope(resource: nodes.storageName)).items {
            let lease = store.get(ObjectKey(resource: "leases.coordination.k8s.io", namespace: "kube-node-lease", name: node.key.name))
            let renewed = lease?.value[path: ["spec", "renewTime"]]?.stringValue.flatMap(KubeTime.parse)
            let silent = renewed.map { now.timeIntervalSince($0) > gracePeriod } ?? false
            let tainted = (node.value[path: ["spec", "taints"]]?.arrayValue ?? []).contains { $0["key"]?.stringValue == Self.unreachable }
            if silent && !tainted {
                markUnreachable(node.key.name)
            } else if !silent && tainted, renewed != nil {
                clearUnreachable(node.key.name)
            }
            if silent { evict(from: node.key.name, now: now) }
        }
        collectOrphanedPods(now: now)
    }

    /// Pods bound to a node that does not exist go once it has been missing for the quarantine
    /// (the pod garbage collector's job; a node may be created after its pods are bound).
    func collectOrphanedPods(now: Date) {
        guard let pods = Self.pods else { return }
        let names = Set(store.list(ObjectScope(resource: "nodes")).items.map(\.key.name))
        var orphans: [String: Date] = [:]
        let previous = orphanedSince.withLock { $0 }
        for pod in store.list(ObjectScope(resource: "pods")).items {
            guard let node = pod.value[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty, !names.contains(node) else { continue }
            let since = previous[pod.value.uid] ?? now
            if now.timeIntervalSince(since) >= Self.orphanQuarantine {
                _ = try? registry.removeNow(pods, pod)
            } else {
                orphans[pod.value.uid] = since
            }
        }
        orphanedSince.withLock { $0 = orphans }
    }

    func markUnreachable(_ name: String) {
        guard let nodes = Self.nodes else { return }
        let now = KubeTime.format(Date())
        _ = try? registry.replace(nodes, namespace: nil, name: name, expectedRevision: nil, statusOnly: true) { value in
            var next = value
            let conditions = (value[path: ["status", "conditions"]]?.arrayValue ?? []).map { condition -> OrderedJSON in
                var c = condition
                c["status"] = .string("Unknown")
                c["lastTransitionTime"] = .string(now)
                c["reason"] = .string("NodeStatusUnknown")
                c["message"] = .string("Kubelet stopped posting node status.")
                return c
            }
            next[path: ["status", "conditions"]] = .array(conditions)
            return next
        }
        _ = try? registry.replace(nodes, namespace: nil, name: name, expectedRevision: nil, statusOnly: false) { value in
            var next = value
            var taints = (value[path: ["spec", "taints"]]?.arrayValue ?? []).filter { $0["key"]?.stringValue != Self.unreachable }
            for effect in ["NoSchedule", "NoExecute"] {
                var taint: [(String, OrderedJSON)] = [("key", .string(Self.unreachable)), ("effect", .string(effect))]
                if effect == "NoExecute" { taint.append(("timeAdded", .string(now))) }
                taints.append(.object(taint))
            }
            next[path: ["spec", "taints"]] = .array(taints)
            return next
        }
        if let node = registry.get(nodes, namespace: nil, name: name)?.value {
            events.record(node, reason: "NodeNotReady", message: "Node \(name) status is now: NodeNotReady")
        }
        logger.info("node stopped answering", metadata: ["node": "\(name)"])
    }

    func clearUnreachable(_ name: String) {
        guard let nodes = Self.nodes else { return }
        _ = try? registry.replace(nodes, namespace: nil, name: name, expectedRevision: nil, statusOnly: false) { value in
            var next = value
            let taints = (value[path: ["spec", "taints"]]?.arrayValue ?? []).filter { $0["key"]?.stringValue != Self.unreachable }
            next[path: ["spec", "taints"]] = taints.isEmpty ? nil : .array(taints)
            return next
        }
        logger.info("node answers again", metadata: ["node": "\(name)"])
    }

    /// Deletes the pods whose toleration of the unreachable taint has run out.
    func evict(from name: String, now: Date) {
        guard let pods = Self.pods, let nodes = Self.nodes, let node = registry.get(nodes, namespace: nil, name: name)?.value else { return }
        let since = (node[path: ["spec", "taints"]]?.arrayValue ?? [])
            .first { $0["key"]?.stringValue == Self.unreachable && $0["effect"]?.stringValue == "NoExecute" }?["timeAdded"]?.stringValue
            .flatMap(KubeTime.parse)
        guard let since else { return }
        for pod in store.list(ObjectScope(resource: "pods")).items
        where pod.value[path: ["spec", "nodeName"]]?.stringValue == name && pod.value.deletionTimestamp == nil {
            let toleration = (pod.value[path: ["spec", "tolerations"]]?.arrayValue ?? []).first {
                ($0["key"]?.stringValue == Self.unreachable || $0["key"] == nil) && ($0["effect"]?.stringValue ?? "NoExecute") == "NoExecute"
            }
            guard let toleration else {
                evictPod(pod, type: pods)
                continue
            }
            if let seconds = toleration["tolerationSeconds"]?.intValue, now.timeIntervalSince(since) >= Double(seconds) {
                evictPod(pod, type: pods)
            }
        }
    }

    func evictPod(_ pod: StoredObject, type: ResourceType) {
        do {
            _ = try registry.deleteObject(type, namespace: pod.key.namespace, name: pod.key.name, options: DeleteOptions(propagationPolicy: "Background"))
            events.record(pod.value, reason: "TaintManagerEviction", message: "Marking for deletion Pod \(pod.key.namespace)/\(pod.key.name)")
        } catch {
            logger.debug("eviction failed", metadata: ["pod": "\(pod.key)", "error": "\(error)"])
        }
    }
}
