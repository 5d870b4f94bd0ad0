import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle
import Synchronization

/// Binds pods to nodes: unbound pods for `default-scheduler` are tried when they appear and again
/// whenever nodes or other pods change; a pod that fits nowhere stays Pending with a
/// FailedScheduling event and an Unschedulable PodScheduled condition saying why.
public final class Scheduler: Service {
    let registry: ObjectRegistry
    let logger: Logger
    let events: EventRecorder
    let queue = WorkQueue<ObjectKey>()
    /// The last unschedulable message per pod, so a retry with the same outcome is not recorded again.
    private let lastFailure = Mutex<[ObjectKey: String]>([:])
    static let pods = ResourceCatalog.find(kind: "Pod")
    static let nodes = ResourceCatalog.find(kind: "Node")

    public init(registry: ObjectRegistry, logger: Logger) {
        self.registry = registry
        self.logger = logger
        events = EventRecorder(registry: registry, component: "default-scheduler", logger: logger)
    }

    var store: ObjectStore { registry.store }

    public func run() async throws {
        guard let pods = Self.pods, let nodes = Self.nodes else { return }
        let changes = try ResourceWatcher.changes(of: [pods, nodes], in: store)
        requeuePending()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in changes {
                        if event.key.resource == "pods", event.kind != .deleted, Self.needsScheduling(event.object) {
                            self.queue.add(event.key)
                        } else if event.key.resource == "nodes" || event.kind == .deleted || event.previous?[path: ["spec", "nodeName"]] != event.object[path: ["spec", "nodeName"]] {
                            // Room may have appeared: try the waiting pods again.
                            self.requeuePending()
                        }
                    }
                    self.queue.close()
                }
                group.addTask {
                    while let key = await self.queue.next() { self.schedule(key) }
                }
                await group.next()
                group.cancelAll()
                self.queue.close()
            }
        }
    }

    static func needsScheduling(_ pod: OrderedJSON) -> Bool {
        (pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty && pod.deletionTimestamp == nil
            && (pod[path: ["spec", "schedulerName"]]?.stringValue ?? "default-scheduler") == "default-scheduler"
            && !["Succeeded", "Failed"].contains(pod[path: ["status", "phase"]]?.stringValue ?? "")
    }

    func requeuePending() {
        for pod in store.list(ObjectScope(resource: "pods")).items where Self.needsScheduling(pod.value) { queue.add(pod.key) }
    }

    func schedule(_ key: ObjectKey) {
        guard let pods = Self.pods, let stored = store.get(key), Self.needsScheduling(stored.value) else { return }
        let pod = stored.value
        let allPods = store.list(ObjectScope(resource: "pods")).items.map(\.value)
            .filter { !["Succeeded", "Failed"].contains($0[path: ["status", "phase"]]?.stringValue ?? "") }
        let views = store.list(ObjectScope(resource: "nodes")).items.map { node in
            SchedulingDecision.NodeView(node: node.value, pods: allPods.filter { $0[path: ["spec", "nodeName"]]?.stringValue == node.key.name })
        }
        switch SchedulingDecision.decide(pod, nodes: views) {
        case .bind(let node):
            do {
                try registry.bindPod(namespace: key.namespace, name: key.name, node: node)
                _ = lastFailure.withLock { $0.removeValue(forKey: key) }
                _ = try? registry.replace(pods, namespace: key.namespace, name: key.name, expectedRevision: nil, statusOnly: true) { value in
                    var next = value
                    Self.setScheduledCondition(&next, status: "True", reason: nil, message: nil)
                    return next
                }
                events.record(pod, reason: "Scheduled", message: "Successfully assigned \(key.namespace)/\(key.name) to \(node)")
            } catch {
                logger.debug("binding failed", metadata: ["pod": "\(key)", "error": "\(error)"])
            }
        case .unschedulable(let message):
            let repeated = lastFailure.withLock { failures -> Bool in
                defer { failures[key] = message }
                return failures[key] == message
            }
            guard !repeated else { return }
            _ = try? registry.replace(pods, namespace: key.namespace, name: key.name, expectedRevision: nil, statusOnly: true) { value in
                var next = value
                Self.setScheduledCondition(&next, status: "False", reason: "Unschedulable", message: message)
                return next
            }
            events.record(pod, type: "Warning", reason: "FailedScheduling", message: message)
        }
    }

    static func setScheduledCondition(_ pod: inout OrderedJSON, status: String, reason: String?, message: String?) {
        var conditions = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "PodScheduled" }
        var condition: [(String, OrderedJSON)] = [("type", .string("PodScheduled")), ("status", .string(status)),
                                                  ("lastProbeTime", .null), ("lastTransitionTime", .string(KubeTime.format(Date())))]
        if let reason { condition.append(("reason", .string(reason))) }
        if let message { condition.append(("message", .string(message))) }
        conditions.append(.object(condition))
        pod[path: ["status", "conditions"]] = .array(conditions)
    }
}
