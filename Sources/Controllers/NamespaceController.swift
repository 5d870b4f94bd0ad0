import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle

/// Deletes what a terminating namespace holds, then the namespace: its `kubernetes` finalizer
/// goes when nothing is left inside.
public final class NamespaceController: Service {
    let registry: ObjectRegistry
    let logger: Logger
    let resyncInterval: Duration

    public init(registry: ObjectRegistry, logger: Logger, resyncInterval: Duration = .seconds(2)) {
        self.registry = registry
        self.logger = logger
        self.resyncInterval = resyncInterval
    }

    var store: ObjectStore { registry.store }
    static let namespaces = ResourceCatalog.find(kind: "Namespace")

    public func run() async throws {
        let changes = try ResourceWatcher.changes(of: ResourceCatalog.all.filter { $0.kind == "Namespace" }, in: store)
        reconcileAll()
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in changes where event.object.deletionTimestamp != nil {
                        self.reconcile(event.key.name)
                    }
                }
                // Content may wait on others (pods stopping gracefully): look again until empty.
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: self.resyncInterval)
                        self.reconcileAll()
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    func reconcileAll() {
        for ns in store.list(ObjectScope(resource: "namespaces")).items where ns.value.deletionTimestamp != nil {
            reconcile(ns.key.name)
        }
    }

    func reconcile(_ namespace: String) {
        guard let type = Self.namespaces else { return }
        var remaining = 0
        for resource in ResourceCatalog.all where resource.namespaced {
            for item in store.list(ObjectScope(resource: resource.storageName, namespace: namespace)).items {
                remaining += 1
                if item.value.deletionTimestamp == nil {
                    _ = try? registry.deleteObject(resource, namespace: namespace, name: item.key.name,
                                                   options: DeleteOptions(propagationPolicy: "Background"))
                }
            }
        }
        guard remaining == 0 || !hasContent(namespace) else { return }
        do {
            _ = try registry.replace(type, namespace: nil, name: namespace, expectedRevision: nil, statusOnly: false) { value in
                var next = value
                let finalizers = (value[path: ["spec", "finalizers"]]?.arrayValue ?? []).filter { $0.stringValue != "kubernetes" }
                next[path: ["spec", "finalizers"]] = finalizers.isEmpty ? nil : .array(finalizers)
                return next
            }
            if let stored = store.get(ObjectKey(resource: "namespaces", name: namespace)),
               (stored.value[path: ["spec", "finalizers"]]?.arrayValue ?? []).isEmpty, stored.value.finalizers.isEmpty {
                _ = try registry.removeNow(type, stored)
                logger.info("namespace deleted", metadata: ["namespace": "\(namespace)"])
            }
        } catch {
            logger.debug("namespace not finalized yet", metadata: ["namespace": "\(namespace)", "error": "\(error)"])
        }
    }

    func hasContent(_ namespace: String) -> Bool {
        ResourceCatalog.all.contains { $0.namespaced && !store.list(ObjectScope(resource: $0.storageName, namespace: namespace)).items.isEmpty }
    }
}
