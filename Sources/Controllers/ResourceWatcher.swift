import KubeModel
import ObjectStore

/// Merges the store's watches of several resources into one stream of changes, from now on.
enum ResourceWatcher {
    static func changes(of types: [ResourceType], in store: ObjectStore) throws -> AsyncStream<WatchEvent> {
        let revision = store.currentRevision
        let streams = try types.map { try store.watch(ObjectScope(resource: $0.storageName), after: revision) }
        return AsyncStream { continuation in
            let task = Task {
                await withTaskGroup(of: Void.self) { group in
                    for stream in streams {
                        group.addTask {
                            for await event in stream { continuation.yield(event) }
                        }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
