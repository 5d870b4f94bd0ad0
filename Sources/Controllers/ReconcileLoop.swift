import KubeModel
import ObjectStore
import ServiceLifecycle

/// The informer-and-work-queue loop controllers share: watch some resources from now on, let
/// each change name the keys it affects, reconcile one key at a time until graceful shutdown.
struct ReconcileLoop: Sendable {
    let queue: WorkQueue<ObjectKey>
    let store: ObjectStore

    /// Queues every existing object of `initial` first, so what changed while onekube was down is
    /// looked at once.
    func run(watching types: [ResourceType], initial: [ResourceType],
             route: @escaping @Sendable (WatchEvent) -> Void,
             reconcile: @escaping @Sendable (ObjectKey) -> Void) async throws {
        let changes = try ResourceWatcher.changes(of: types, in: store)
        for type in initial {
            for object in store.list(ObjectScope(resource: type.storageName)).items { queue.add(object.key) }
        }
        let queue = self.queue
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await event in changes { route(event) }
                    queue.close()
                }
                group.addTask {
                    while let key = await queue.next() { reconcile(key) }
                }
                await group.next()
                group.cancelAll()
                queue.close()
            }
        }
    }
}
