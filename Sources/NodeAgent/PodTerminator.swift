import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle

/// Finishes the graceful deletion of pods bound to this node: once a pod marked for deletion has
/// no process left (the runtime's pod workers report that), it is removed from the store, which is
/// what `kubectl delete` waits for. Until containers run here, nothing runs, so that is at once.
public final class PodTerminator: Service {
    let registry: ObjectRegistry
    let nodeName: String
    let logger: Logger
    static let pods = ResourceCatalog.find(kind: "Pod")

    public init(registry: ObjectRegistry, nodeName: String, logger: Logger) {
        self.registry = registry
        self.nodeName = nodeName
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await self.watchLoop() }
    }

    func watchLoop() async throws {
        guard let pods = Self.pods else { return }
        let revision = registry.store.currentRevision
        let changes = try registry.store.watch(ObjectScope(resource: pods.storageName), after: revision)
        for pod in registry.store.list(ObjectScope(resource: pods.storageName)).items { finish(pod.value) }
        for await event in changes where event.kind != .deleted { finish(event.object) }
    }

    func finish(_ pod: OrderedJSON) {
        guard let pods = Self.pods, pod.deletionTimestamp != nil, pod[path: ["spec", "nodeName"]]?.stringValue == nodeName,
              pod.finalizers.isEmpty, let stored = registry.get(pods, namespace: pod.namespace, name: pod.name) else { return }
        do {
            _ = try registry.removeNow(pods, stored)
        } catch {
            logger.debug("could not remove terminated pod", metadata: ["pod": "\(pod.name)", "error": "\(error)"])
        }
    }
}
