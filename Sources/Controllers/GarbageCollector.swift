import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle

/// Follows ownerReferences as Kubernetes' garbage collector does: dependents of a deleted owner
/// are deleted (Background); an owner deleting in the Foreground waits for its blocking
/// dependents, then loses its `foregroundDeletion` finalizer; Orphan strips the references and
/// the `orphan` finalizer. A periodic sweep catches dependents whose owner vanished while
/// nobody watched (a restart).
public final class GarbageCollector: Service {
    let registry: ObjectRegistry
    let logger: Logger
    let sweepInterval: Duration

    public init(registry: ObjectRegistry, logger: Logger, sweepInterval: Duration = .seconds(30)) {
        self.registry = registry
        self.logger = logger
        self.sweepInterval = sweepInterval
    }

    var store: ObjectStore { registry.store }

    public func run() async throws {
        let changes = try ResourceWatcher.changes(of: ResourceCatalog.all, in: store)
        sweep()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in changes { self.handle(event) }
                }
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.sweepInterval)
                        self.sweep()
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    func handle(_ event: WatchEvent) {
        let object = event.object
        switch event.kind {
        case .deleted:
            collectDependents(ofUID: object.uid)
            // An owner deleting in the foreground may have been waiting for this one.
            for owner in object.ownerReferences where owner.blockOwnerDeletion { finishForeground(ownerUID: owner.uid) }
        case .modified, .added:
            guard object.deletionTimestamp != nil else { return }
            if object.finalizers.contains("orphan") { orphanDependents(of: object, key: event.key) }
            if object.finalizers.contains("foregroundDeletion") { deleteForeground(object) }
        }
    }

    /// Everything whose ownerReferences name `uid`, across all resources.
    func dependents(ofUID uid: String) -> [(ResourceType, StoredObject)] {
        guard !uid.isEmpty else { return [] }
        var found: [(ResourceType, StoredObject)] = []
        for type in ResourceCatalog.all {
            for item in store.list(ObjectScope(resource: type.storageName)).items where item.value.ownerReferences.contains(where: { $0.uid == uid }) {
                found.append((type, item))
            }
        }
        return found
    }

    func collectDependents(ofUID uid: String) {
        for (type, dependent) in dependents(ofUID: uid) {
            // Only when no other owner keeps it alive.
            let otherOwners = dependent.value.ownerReferences.filter { $0.uid != uid && ownerExists($0, namespace: dependent.key.namespace) }
            guard otherOwners.isEmpty, dependent.value.deletionTimestamp == nil else { continue }
            delete(type, dependent, policy: "Background")
        }
    }

    func deleteForeground(_ owner: OrderedJSON) {
        for (type, dependent) in dependents(ofUID: owner.uid) where dependent.value.deletionTimestamp == nil {
            delete(type, dependent, policy: "Foreground")
        }
        finishForeground(ownerUID: owner.uid)
    }

    /// Removes `foregroundDeletion` from the owner once no blocking dependent is left.
    func finishForeground(ownerUID: String) {
        let stillBlocking = dependents(ofUID: ownerUID).contains { _, dependent in
            dependent.value.ownerReferences.contains { $0.uid == ownerUID && $0.blockOwnerDeletion }
        }
        guard !stillBlocking else { return }
        for type in ResourceCatalog.all {
            for owner in store.list(ObjectScope(resource: type.storageName)).items
            where owner.value.uid == ownerUID && owner.value.finalizers.contains("foregroundDeletion") {
                removeFinalizer("foregroundDeletion", from: owner, type: type)
            }
        }
    }

    func orphanDependents(of owner: OrderedJSON, key: ObjectKey) {
        for (type, dependent) in dependents(ofUID: owner.uid) {
            _ = try? registry.replace(type, namespace: dependent.key.namespace, name: dependent.key.name, expectedRevision: nil, statusOnly: false) { value in
                var next = value
                let kept = (value[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).filter { $0["uid"]?.stringValue != owner.uid }
                next[path: ["metadata", "ownerReferences"]] = kept.isEmpty ? nil : .array(kept)
                return next
            }
        }
        if let stored = store.get(key), let type = ResourceCatalog.all.first(where: { $0.storageName == key.resource }) {
            removeFinalizer("orphan", from: stored, type: type)
        }
    }

    func removeFinalizer(_ finalizer: String, from stored: StoredObject, type: ResourceType) {
        do {
            _ = try registry.replace(type, namespace: stored.key.namespace, name: stored.key.name, expectedRevision: nil, statusOnly: false) { value in
                var next = value
                next.finalizers = value.finalizers.filter { $0 != finalizer }
                return next
            }
        } catch {
            logger.debug("could not remove finalizer", metadata: ["object": "\(stored.key)", "error": "\(error)"])
        }
    }

    func delete(_ type: ResourceType, _ dependent: StoredObject, policy: String) {
        do {
            _ = try registry.deleteObject(type, namespace: dependent.key.namespace, name: dependent.key.name,
                                          options: DeleteOptions(propagationPolicy: policy))
            logger.debug("deleted dependent", metadata: ["object": "\(dependent.key)"])
        } catch {
            logger.debug("could not delete dependent", metadata: ["object": "\(dependent.key)", "error": "\(error)"])
        }
    }

    func ownerExists(_ reference: OwnerReference, namespace: String) -> Bool {
        guard let type = ResourceCatalog.find(apiVersion: reference.apiVersion, kind: reference.kind) else { return false }
        return registry.get(type, namespace: namespace, name: reference.name)?.value.uid == reference.uid
    }

    /// Dependents all of whose owners are gone, and deletions waiting on the collector.
    func sweep() {
        for type in ResourceCatalog.all {
            for item in store.list(ObjectScope(resource: type.storageName)).items {
                if item.value.deletionTimestamp != nil {
                    if item.value.finalizers.contains("foregroundDeletion") { deleteForeground(item.value) }
                    if item.value.finalizers.contains("orphan") { orphanDependents(of: item.value, key: item.key) }
                    continue
                }
                guard !item.value.ownerReferences.isEmpty else { continue }
                if !item.value.ownerReferences.contains(where: { ownerExists($0, namespace: item.key.namespace) }) {
                    delete(type, item, policy: "Background")
                }
            }
        }
    }
}
