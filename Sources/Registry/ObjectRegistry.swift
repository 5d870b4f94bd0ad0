import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform

/// The object semantics every writer shares — the REST API and the in-process controllers alike:
/// metadata on create, defaults, validation, namespace admission, service address allocation,
/// the update rules, finalizers and graceful deletion. Transport stays in the API server.
public struct DeleteOptions: Sendable {
    public var gracePeriodSeconds: Int64?
    public var propagationPolicy: String?
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?

    public init(gracePeriodSeconds: Int64? = nil, propagationPolicy: String? = nil) {
        self.gracePeriodSeconds = gracePeriodSeconds
        self.propagationPolicy = propagationPolicy
    }
}

public final class ObjectRegistry: Sendable {
    public let store: ObjectStore
    public let allocator: ServiceAllocator
    /// How long pods tolerate a not-ready or unreachable node before eviction.
    public let defaultTolerationSeconds: Int64
    let logger: Logger

    public init(store: ObjectStore, allocator: ServiceAllocator, defaultTolerationSeconds: Int64 = 300, logger: Logger) {
        self.store = store
        self.allocator = allocator
        self.defaultTolerationSeconds = defaultTolerationSeconds
        self.logger = logger
    }

    public func key(_ type: ResourceType, namespace: String?, name: String) -> ObjectKey {
        ObjectKey(resource: type.storageName, namespace: type.namespaced ? (namespace ?? "") : "", name: name)
    }

    public func get(_ type: ResourceType, namespace: String?, name: String) -> StoredObject? {
        store.get(key(type, namespace: namespace, name: name))
    }

    /// Everything a create does after decoding: metadata, defaults, validation, admission, store.
    public func createObject(_ object: OrderedJSON, type: ResourceType) throws -> StoredObject {
        var prepared = try prepareForCreate(object, type: type)
        if type.namespaced { try admitIntoNamespace(prepared.namespace, type: type, name: prepared.name) }
        if type.kind == "Service" { prepared = try allocator.allocate(for: prepared, previous: nil) }
        do {
            return try store.create(key(type, namespace: prepared.namespace, name: prepared.name), prepared)
        } catch StoreError.alreadyExists {
            if type.kind == "Service" { allocator.release(prepared) }
            throw APIError.alreadyExists(type, name: prepared.name)
        }
    }

    static let nameSuffixAlphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    public func prepareForCreate(_ input: OrderedJSON, type: ResourceType) throws -> OrderedJSON {
        try StructuralCheck.check(input, type: type)
        var object = input
        object["kind"] = .string(type.kind)
        object["apiVersion"] = .string(type.apiVersion)
        if object.name.isEmpty, let generate = object[path: ["metadata", "generateName"]]?.stringValue, !generate.isEmpty {
            object.name = generate + String((0..<5).compactMap { _ in Self.nameSuffixAlphabet.randomElement() })
        }
        var metadata = object["metadata"] ?? .object([])
        for transient in ["resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields"] {
            metadata[transient] = nil
        }
        metadata["uid"] = .string(UUID().uuidString.lowercased())
        metadata["creationTimestamp"] = .string(KubeTime.format(Date()))
        if Self.hasGeneration(type) { metadata["generation"] = .int(1) }
        object["metadata"] = metadata
        object = Self.reorderTopLevel(object)
        if Self.statusIsOwnedByControllers(type) { object["status"] = .object([]) }
        Defaulting.apply(&object, type: type, tolerationSeconds: defaultTolerationSeconds)
        let problems = Validation.validate(object, type: type)
        if !problems.isEmpty { throw APIError.invalid(kind: type.kind, name: object.name, problems) }
        return object
    }

    public static func hasGeneration(_ type: ResourceType) -> Bool {
        ["ReplicationController", "ReplicaSet", "Deployment", "DaemonSet", "Job"].contains(type.kind)
    }

    /// Kinds whose status a create or update of the main resource must not set.
    public static func statusIsOwnedByControllers(_ type: ResourceType) -> Bool {
        ["Pod", "ReplicationController", "ReplicaSet", "Deployment", "DaemonSet", "Job", "Service", "Namespace"].contains(type.kind)
    }

    /// kind, apiVersion, metadata first, as the apiserver encodes objects.
    public static func reorderTopLevel(_ object: OrderedJSON) -> OrderedJSON {
        guard case .object(let pairs) = object else { return object }
        let head = ["kind", "apiVersion", "metadata"].compactMap { key in pairs.first { $0.0 == key } }
        return .object(head + pairs.filter { !["kind", "apiVersion", "metadata"].contains($0.0) })
    }

    func admitIntoNamespace(_ namespace: String, type: ResourceType, name: String) throws {
        guard let ns = store.get(ObjectKey(resource: "namespaces", name: namespace)) else {
            throw APIError.notFound(ResourceCatalog.find(kind: "Namespace") ?? type, name: namespace)
        }
        if ns.value.deletionTimestamp != nil || ns.value[path: ["status", "phase"]]?.stringValue == "Terminating" {
            throw APIError.forbidden(type, name: name, "unable to create new content in namespace \(namespace) because it is being terminated")
        }
    }

    /// Read-modify-write with the apiserver's update rules: identity and creation metadata are
    /// kept; the main resource cannot change status and /status cannot change the rest; spec
    /// changes bump generation; a deleting object whose finalizers are gone is removed.
    public func replace(_ type: ResourceType, namespace: String?, name: String, expectedRevision: Int64?, statusOnly: Bool,
                 _ change: @escaping (OrderedJSON) throws -> OrderedJSON) throws -> StoredObject {
        let objectKey = key(type, namespace: namespace, name: name)
        var serviceBefore: OrderedJSON?
        do {
            let stored = try store.update(objectKey, expectedRevision: expectedRevision) { current in
                var next = try change(current.value)
                next = try self.prepareForUpdate(next, current: current.value, type: type, statusOnly: statusOnly)
                if type.kind == "Service" {
                    serviceBefore = current.value
                    next = try self.allocator.allocate(for: next, previous: current.value)
                }
                return next
            }
            if let serviceBefore { allocator.releaseUnused(before: serviceBefore, after: stored.value) }
            // A deleting object goes when its last finalizer does (a namespace also waits for
            // the `kubernetes` finalizer in its spec).
            if stored.value.deletionTimestamp != nil && stored.value.finalizers.isEmpty
                && (stored.value[path: ["spec", "finalizers"]]?.arrayValue ?? []).isEmpty {
                return try removeNow(type, stored)
            }
            return stored
        } catch StoreError.notFound {
            throw APIError.notFound(type, name: name)
        } catch StoreError.conflict {
            throw APIError.conflict(type, name: name)
        }
    }

    func prepareForUpdate(_ proposed: OrderedJSON, current: OrderedJSON, type: ResourceType, statusOnly: Bool) throws -> OrderedJSON {
        try StructuralCheck.check(proposed, type: type)
        var next = proposed
        next["kind"] = .string(type.kind)
        next["apiVersion"] = .string(type.apiVersion)
        if statusOnly {
            var merged = current
            merged["status"] = next["status"]
            next = merged
        } else if Self.statusIsOwnedByControllers(type) {
            next["status"] = current["status"]
        }
        var metadata = next["metadata"] ?? .object([])
        for kept in ["name", "namespace", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation"] {
            metadata[kept] = current[path: ["metadata", kept]]
        }
        // A deleting object may lose finalizers but gain none.
        if current.deletionTimestamp != nil {
            let added = Set((metadata["finalizers"]?.arrayValue ?? []).compactMap(\.stringValue)).subtracting(current.finalizers)
            if !added.isEmpty {
                throw APIError.invalid(kind: type.kind, name: current.name, [.forbidden("metadata.finalizers", "no new finalizers can be added if the object is being deleted, found new finalizers \(added.sorted())")])
            }
        }
        next["metadata"] = metadata
        if Self.hasGeneration(type) && !statusOnly && next["spec"] != current["spec"] {
            next[path: ["metadata", "generation"]] = .int(current.generation + 1)
        }
        next = Self.reorderTopLevel(next)
        Defaulting.apply(&next, type: type, tolerationSeconds: defaultTolerationSeconds)
        try checkImmutable(next, current: current, type: type)
        let problems = Validation.validate(next, type: type)
        if !problems.isEmpty { throw APIError.invalid(kind: type.kind, name: current.name, problems) }
        return next
    }

    func checkImmutable(_ next: OrderedJSON, current: OrderedJSON, type: ResourceType) throws {
        var problems: [FieldError] = []
        switch type.kind {
        case "Pod":
            let fields = ["nodeName", "restartPolicy", "serviceAccountName", "hostNetwork", "volumes"]
            for field in fields where next[path: ["spec", field]] != current[path: ["spec", field]] && current[path: ["spec", field]] != nil {
                problems.append(.forbidden("spec", "pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)"))
                break
            }
        case "Service":
            let before = current[path: ["spec", "clusterIP"]]?.stringValue ?? ""
            let after = next[path: ["spec", "clusterIP"]]?.stringValue ?? ""
            if !before.isEmpty && !after.isEmpty && before != after {
                problems.append(.invalid("spec.clusterIPs[0]", after, "may not change once set"))
            }
        case "ReplicaSet", "Deployment", "DaemonSet":
            if next[path: ["spec", "selector"]] != current[path: ["spec", "selector"]] {
                problems.append(.invalid("spec.selector", LabelSelector(labelSelectorJSON: next[path: ["spec", "selector"]] ?? .object([])).description, "field is immutable"))
            }
        default: break
        }
        if !problems.isEmpty { throw APIError.invalid(kind: type.kind, name: current.name, problems) }
    }

    /// Deletes as the apiserver does: objects with finalizers (or Foreground propagation, or a
    /// grace period for a pod on a node, or a namespace) get a deletionTimestamp and go when the
    /// last finalizer is removed; Orphan adds the orphan finalizer; everything else goes now and
    /// the garbage collector follows the ownerReferences.
    public func deleteObject(_ type: ResourceType, namespace: String?, name: String, options: DeleteOptions) throws -> StoredObject {
        let objectKey = key(type, namespace: namespace, name: name)
        guard let current = store.get(objectKey) else { throw APIError.notFound(type, name: name) }
        if let uid = options.preconditionUID, uid != current.value.uid {
            throw APIError.conflict(type, name: name, because: "Precondition failed: UID in precondition: \(uid), UID in object meta: \(current.value.uid)")
        }
        if let rv = options.preconditionResourceVersion, rv != current.value.resourceVersion {
            throw APIError.conflict(type, name: name, because: "Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(current.value.resourceVersion ?? "")")
        }
        var finalizers = current.value.finalizers
        switch options.propagationPolicy {
        case "Foreground": if !finalizers.contains("foregroundDeletion") { finalizers.append("foregroundDeletion") }
        case "Orphan": if !finalizers.contains("orphan") { finalizers.append("orphan") }
        default: break
        }
        let grace = gracePeriod(type, current.value, requested: options.gracePeriodSeconds)
        let graceful = grace > 0
        let isNamespace = type.kind == "Namespace"
        if finalizers.isEmpty && !graceful && !isNamespace {
            return try removeNow(type, current)
        }
        if current.value.deletionTimestamp != nil && !(type.kind == "Pod" && options.gracePeriodSeconds == 0) {
            return current  // already being deleted
        }
        do {
            let updated = try store.update(objectKey) { stored in
                var value = stored.value
                value.finalizers = finalizers
                if value.deletionTimestamp == nil {
                    value[path: ["metadata", "deletionTimestamp"]] = .string(KubeTime.format(Date().addingTimeInterval(TimeInterval(grace))))
                }
                value[path: ["metadata", "deletionGracePeriodSeconds"]] = .int(grace)
                if isNamespace { value[path: ["status", "phase"]] = .string("Terminating") }
                return value
            }
            // A forced pod deletion with nothing else holding it goes at once.
            if type.kind == "Pod" && grace == 0 && finalizers.isEmpty { return try removeNow(type, updated) }
            return updated
        } catch StoreError.notFound {
            throw APIError.notFound(type, name: name)
        }
    }

    /// Pods bound to a node stop gracefully (the node agent finishes the deletion); an unbound
    /// pod has nothing to stop.
    func gracePeriod(_ type: ResourceType, _ object: OrderedJSON, requested: Int64?) -> Int64 {
        guard type.kind == "Pod" else { return 0 }
        guard let node = object[path: ["spec", "nodeName"]]?.stringValue, !node.isEmpty else { return 0 }
        let phase = object[path: ["status", "phase"]]?.stringValue
        if phase == "Succeeded" || phase == "Failed" { return 0 }
        return requested ?? object[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30
    }

    public func removeNow(_ type: ResourceType, _ stored: StoredObject) throws -> StoredObject {
        do {
            let removed = try store.delete(stored.key)
            if type.kind == "Service" { allocator.release(removed.value) }
            return removed
        } catch StoreError.notFound {
            throw APIError.notFound(type, name: stored.key.name)
        }
    }

    public func bindPod(namespace: String, name: String, node: String) throws {
        let type = ResourceCatalog.all.first { $0.kind == "Pod" }
        guard let pods = type else { return }
        do {
            try store.update(key(pods, namespace: namespace, name: name)) { stored in
                if let assigned = stored.value[path: ["spec", "nodeName"]]?.stringValue, !assigned.isEmpty {
                    throw APIError.conflict(pods, name: name, because: "pod \(name) is already assigned to node \"\(assigned)\"")
                }
                if stored.value.deletionTimestamp != nil {
                    throw APIError.conflict(pods, name: name, because: "pod \(name) is being deleted, cannot be assigned to a host")
                }
                var value = stored.value
                value[path: ["spec", "nodeName"]] = .string(node)
                return value
            }
        } catch StoreError.notFound {
            throw APIError.notFound(pods, name: name)
        }
    }

}
