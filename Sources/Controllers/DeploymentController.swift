import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle

/// Rolls Deployments out through ReplicaSets as the deployment controller does: one ReplicaSet per
/// pod template (labelled with its `pod-template-hash`, annotated with its revision), the new one
/// scaled up and the old ones down within maxSurge and maxUnavailable (or all at once with
/// Recreate), status and conditions that `kubectl rollout status` reads, and old ReplicaSets pruned
/// beyond revisionHistoryLimit. `kubectl rollout undo` works through the revisions kept.
public final class DeploymentController: Service {
    let registry: ObjectRegistry
    let logger: Logger
    let events: EventRecorder
    let queue = WorkQueue<ObjectKey>()
    static let deployments = ResourceCatalog.find(kind: "Deployment")
    static let replicaSets = ResourceCatalog.find(kind: "ReplicaSet")
    static let revisionAnnotation = "deployment.kubernetes.io/revision"

    public init(registry: ObjectRegistry, logger: Logger) {
        self.registry = registry
        self.logger = logger
        events = EventRecorder(registry: registry, component: "deployment-controller", logger: logger)
    }

    var store: ObjectStore { registry.store }

    public func run() async throws {
        guard let deployments = Self.deployments, let replicaSets = Self.replicaSets,
              let pods = ResourceCatalog.find(kind: "Pod") else { return }
        try await ReconcileLoop(queue: queue, store: store).run(
            watching: [deployments, replicaSets, pods], initial: [deployments], route: enqueue(for:), reconcile: reconcile)
    }

    func enqueue(for event: WatchEvent) {
        guard let deployments = Self.deployments else { return }
        switch event.key.resource {
        case deployments.storageName:
            queue.add(event.key)
        case "replicasets.apps":
            for owner in event.object.ownerReferences where owner.kind == "Deployment" {
                queue.add(ObjectKey(resource: deployments.storageName, namespace: event.key.namespace, name: owner.name))
            }
        default:
            // A pod's readiness changes its ReplicaSet's availability, which gates the rollout.
            for owner in event.object.ownerReferences where owner.kind == "ReplicaSet" {
                if let rs = store.get(ObjectKey(resource: "replicasets.apps", namespace: event.key.namespace, name: owner.name)) {
                    for deployment in rs.value.ownerReferences where deployment.kind == "Deployment" {
                        queue.add(ObjectKey(resource: deployments.storageName, namespace: event.key.namespace, name: deployment.name))
                    }
                }
            }
        }
    }

    static func templateWithoutHash(_ template: OrderedJSON) -> OrderedJSON {
        var copy = template
        var labels = copy[path: ["metadata", "labels"]]?.stringMap ?? [:]
        labels["pod-template-hash"] = nil
        copy[path: ["metadata", "labels"]] = labels.isEmpty ? nil : .stringMap(labels)
        return copy
    }

    /// "25%" of 4 is 1 (rounded up for surge, down for unavailable); plain numbers pass through.
    static func resolve(_ value: OrderedJSON?, of total: Int64, roundUp: Bool, default fallback: Int64) -> Int64 {
        switch value {
        case .int(let n)?: return n
        case .string(let s)? where s.hasSuffix("%"):
            let percent = Double(s.dropLast()) ?? 0
            let exact = percent * Double(total) / 100
            return Int64(roundUp ? exact.rounded(.up) : exact.rounded(.down))
        case .string(let s)?: return Int64(s) ?? fallback
        default: return fallback
        }
    }

    func reconcile(_ key: ObjectKey) {
        guard let deployments = Self.deployments, let replicaSets = Self.replicaSets,
              let deployment = store.get(key)?.value, deployment.deletionTimestamp == nil else { return }
        let template = deployment[path: ["spec", "template"]] ?? .object([])
        let replicas = deployment[path: ["spec", "replicas"]]?.intValue ?? 1
        let owned = store.list(ObjectScope(resource: replicaSets.storageName, namespace: key.namespace)).items.map(\.value)
            .filter { rs in rs.ownerReferences.contains { $0.uid == deployment.uid && $0.controller } }
        func revision(_ rs: OrderedJSON) -> Int64 { Int64(rs.annotations[Self.revisionAnnotation] ?? "") ?? 0 }
        var newRS = owned.first { Self.templateWithoutHash($0[path: ["spec", "template"]] ?? .object([])) == Self.templateWithoutHash(template) }
        let maxRevision = owned.map(revision).max() ?? 0

        if newRS == nil {
            newRS = createReplicaSet(for: deployment, template: template, revision: maxRevision + 1, type: replicaSets)
        } else if let rs = newRS, revision(rs) < maxRevision {
            // Rolled back to an older template: it becomes the newest revision again.
            newRS = scale(rs, to: rs[path: ["spec", "replicas"]]?.intValue ?? 0, revision: maxRevision + 1)
        }
        guard let current = newRS else { return }
        let oldSets = owned.filter { $0.uid != current.uid }

        let strategy = deployment[path: ["spec", "strategy", "type"]]?.stringValue ?? "RollingUpdate"
        let oldPods = oldSets.reduce(Int64(0)) { $0 + ($1[path: ["status", "replicas"]]?.intValue ?? 0) }
        let newReplicas = current[path: ["spec", "replicas"]]?.intValue ?? 0
        if strategy == "Recreate" {
            for rs in oldSets where (rs[path: ["spec", "replicas"]]?.intValue ?? 0) > 0 { scale(rs, to: 0) }
            if oldPods == 0 && newReplicas != replicas { scale(current, to: replicas) }
        } else {
            let surge = Self.resolve(deployment[path: ["spec", "strategy", "rollingUpdate", "maxSurge"]], of: replicas, roundUp: true, default: 1)
            let unavailable = Self.resolve(deployment[path: ["spec", "strategy", "rollingUpdate", "maxUnavailable"]], of: replicas, roundUp: false, default: 0)
            func counts(_ rs: OrderedJSON) -> RollingStep.Counts {
                .init(spec: rs[path: ["spec", "replicas"]]?.intValue ?? 0, available: rs[path: ["status", "availableReplicas"]]?.intValue ?? 0)
            }
            let sortedOld = oldSets.sorted(by: { revision($0) < revision($1) })
            let step = RollingStep(replicas: replicas, maxSurge: surge, maxUnavailable: unavailable,
                                   new: counts(current), old: sortedOld.map(counts))
            if step.newSpec != newReplicas { scale(current, to: step.newSpec) }
            for (rs, spec) in zip(sortedOld, step.oldSpecs) where spec != counts(rs).spec { scale(rs, to: spec) }
        }
        pruneHistory(deployment, oldSets: oldSets, limit: deployment[path: ["spec", "revisionHistoryLimit"]]?.intValue ?? 10, type: replicaSets)
        updateStatus(key, deployment: deployment, current: store.get(ObjectKey(resource: replicaSets.storageName, namespace: key.namespace, name: current.name))?.value ?? current,
                     all: store.list(ObjectScope(resource: replicaSets.storageName, namespace: key.namespace)).items.map(\.value)
                        .filter { rs in rs.ownerReferences.contains { $0.uid == deployment.uid } },
                     type: deployments)
    }

    func createReplicaSet(for deployment: OrderedJSON, template: OrderedJSON, revision: Int64, type: ResourceType) -> OrderedJSON? {
        let hash = TemplateHash.of(Self.templateWithoutHash(template))
        var labeled = template
        var labels = template[path: ["metadata", "labels"]]?.stringMap ?? [:]
        labels["pod-template-hash"] = hash
        labeled[path: ["metadata", "labels"]] = .stringMap(labels)
        var selector = deployment[path: ["spec", "selector"]] ?? .object([])
        var matchLabels = selector["matchLabels"]?.stringMap ?? [:]
        matchLabels["pod-template-hash"] = hash
        selector["matchLabels"] = .stringMap(matchLabels)
        let rs: OrderedJSON = .object([
            ("metadata", .object([
                ("name", .string("\(deployment.name)-\(hash)")), ("namespace", .string(deployment.namespace)),
                ("labels", .stringMap(labels)),
                ("annotations", .stringMap([Self.revisionAnnotation: String(revision),
                                            "deployment.kubernetes.io/desired-replicas": String(deployment[path: ["spec", "replicas"]]?.intValue ?? 1)])),
                ("ownerReferences", .array([OwnerReference(apiVersion: "apps/v1", kind: "Deployment", name: deployment.name, uid: deployment.uid).json])),
            ])),
            ("spec", .object([("replicas", .int(0)), ("selector", selector), ("template", labeled)])),
        ])
        do {
            let created = try registry.createObject(rs, type: type)
            return created.value
        } catch {
            logger.debug("could not create replica set", metadata: ["deployment": "\(deployment.name)", "error": "\(error)"])
            return store.get(ObjectKey(resource: type.storageName, namespace: deployment.namespace, name: "\(deployment.name)-\(hash)"))?.value
        }
    }

    @discardableResult
    func scale(_ rs: OrderedJSON, to replicas: Int64, revision: Int64? = nil) -> OrderedJSON? {
        guard let replicaSets = Self.replicaSets else { return nil }
        let before = rs[path: ["spec", "replicas"]]?.intValue ?? 0
        let updated = try? registry.replace(replicaSets, namespace: rs.namespace, name: rs.name, expectedRevision: nil, statusOnly: false) { value in
            var next = value
            next[path: ["spec", "replicas"]] = .int(replicas)
            if let revision { next[path: ["metadata", "annotations", Self.revisionAnnotation]] = .string(String(revision)) }
            return next
        }
        if before != replicas, let owner = rs.ownerReferences.first(where: { $0.kind == "Deployment" }),
           let deployment = store.get(ObjectKey(resource: "deployments.apps", namespace: rs.namespace, name: owner.name))?.value {
            let verb = replicas > before ? "up" : "down"
            events.record(deployment, reason: "ScalingReplicaSet", message: "Scaled \(verb) replica set \(rs.name) from \(before) to \(replicas)")
        }
        return updated?.value
    }

    func pruneHistory(_ deployment: OrderedJSON, oldSets: [OrderedJSON], limit: Int64, type: ResourceType) {
        let idle = oldSets.filter { ($0[path: ["spec", "replicas"]]?.intValue ?? 0) == 0 && ($0[path: ["status", "replicas"]]?.intValue ?? 0) == 0 }
            .sorted { (Int64($0.annotations[Self.revisionAnnotation] ?? "") ?? 0) < (Int64($1.annotations[Self.revisionAnnotation] ?? "") ?? 0) }
        guard idle.count > limit else { return }
        for rs in idle.prefix(idle.count - Int(limit)) {
            _ = try? registry.deleteObject(type, namespace: rs.namespace, name: rs.name, options: DeleteOptions(propagationPolicy: "Background"))
        }
    }

    func updateStatus(_ key: ObjectKey, deployment: OrderedJSON, current: OrderedJSON, all: [OrderedJSON], type: ResourceType) {
        let replicas = deployment[path: ["spec", "replicas"]]?.intValue ?? 1
        func sum(_ field: String) -> Int64 { all.reduce(0) { $0 + ($1[path: ["status", field]]?.intValue ?? 0) } }
        let total = sum("replicas")
        let ready = sum("readyReplicas")
        let available = sum("availableReplicas")
        let updated = current[path: ["status", "replicas"]]?.intValue ?? 0
        let unavailableLimit = Self.resolve(deployment[path: ["spec", "strategy", "rollingUpdate", "maxUnavailable"]], of: replicas, roundUp: false, default: 0)
        let now = KubeTime.format(Date())
        let complete = updated == replicas && total == replicas && available == replicas
        _ = try? registry.replace(type, namespace: key.namespace, name: key.name, expectedRevision: nil, statusOnly: true) { value in
            var next = value
            func condition(_ type: String, _ status: String, _ reason: String, _ message: String) -> OrderedJSON {
                let old = (value[path: ["status", "conditions"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
                let changed = old?["status"]?.stringValue != status || old?["reason"]?.stringValue != reason
                return .object([("type", .string(type)), ("status", .string(status)),
                                ("lastUpdateTime", changed ? .string(now) : (old?["lastUpdateTime"] ?? .string(now))),
                                ("lastTransitionTime", old?["status"]?.stringValue == status ? (old?["lastTransitionTime"] ?? .string(now)) : .string(now)),
                                ("reason", .string(reason)), ("message", .string(message))])
            }
            let isAvailable = available >= replicas - unavailableLimit
            var status: [(String, OrderedJSON)] = [("observedGeneration", .int(value.generation)), ("replicas", .int(total)),
                                                   ("updatedReplicas", .int(updated))]
            if ready > 0 { status.append(("readyReplicas", .int(ready))) }
            if available > 0 { status.append(("availableReplicas", .int(available))) }
            if total - available > 0 { status.append(("unavailableReplicas", .int(total - available))) }
            status.append(("conditions", .array([
                condition("Available", isAvailable ? "True" : "False", isAvailable ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                          isAvailable ? "Deployment has minimum availability." : "Deployment does not have minimum availability."),
                condition("Progressing", "True", complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated",
                          complete ? "ReplicaSet \"\(current.name)\" has successfully progressed." : "ReplicaSet \"\(current.name)\" is progressing."),
            ])))
            next["status"] = .object(status)
            return next
        }
        if let revision = current.annotations[Self.revisionAnnotation], deployment.annotations[Self.revisionAnnotation] != revision {
            _ = try? registry.replace(type, namespace: key.namespace, name: key.name, expectedRevision: nil, statusOnly: false) { value in
                var next = value
                next[path: ["metadata", "annotations", Self.revisionAnnotation]] = .string(revision)
                return next
            }
        }
    }
}

/// One pass of a rolling update, from the sets' specs and (possibly lagging) statuses: the new
/// set scaled up as far as maxSurge allows, the old sets (oldest first) down as far as
/// maxUnavailable allows.
struct RollingStep: Equatable {
    struct Counts: Equatable {
        var spec: Int64
        var available: Int64
    }

    let newSpec: Int64
    let oldSpecs: [Int64]

    init(newSpec: Int64, oldSpecs: [Int64]) {
        self.newSpec = newSpec
        self.oldSpecs = oldSpecs
    }

    init(replicas: Int64, maxSurge: Int64, maxUnavailable: Int64, new: Counts, old: [Counts]) {
        var unavailable = maxUnavailable
        if maxSurge == 0 && unavailable == 0 { unavailable = 1 }
        let oldSpec = old.map(\.spec).reduce(0, +)
        let newSpec = min(replicas, max(new.spec, replicas + maxSurge - oldSpec))
        let minAvailable = replicas - unavailable
        var removable = max(0, new.available + old.map(\.available).reduce(0, +) - minAvailable)
        // A set's status lags its spec: just after an old set was scaled down its status still
        // counts the pods going away, and counting them again would take a second pod for one
        // new one. As Kubernetes' reconcileOldReplicaSets does, bound the pass by the specs:
        // what they hold, less the minimum available, less the new set's pods not yet available.
        var budget = max(0, oldSpec + newSpec - minAvailable - max(0, newSpec - new.available))
        var oldSpecs: [Int64] = []
        for set in old {
            // Within that, pods of old sets that are not available can always go.
            let unavailableHere = max(0, set.spec - set.available)
            let cut = max(0, min(set.spec, unavailableHere + removable, budget))
            oldSpecs.append(set.spec - cut)
            removable -= max(0, cut - unavailableHere)
            budget -= cut
        }
        self.newSpec = newSpec
        self.oldSpecs = oldSpecs
    }
}
