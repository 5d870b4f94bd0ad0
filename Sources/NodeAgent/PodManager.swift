import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Synchronization

/// The pods of one node: a worker for every pod bound to it, told of every change to its pod;
/// when the node stops, every worker stops its pod.
final class PodManager: Sendable {
    let context: NodeContext
    private let workers = Mutex<[String: (worker: PodWorker, task: Task<Void, Never>)]>([:])

    init(context: NodeContext) { self.context = context }

    func run() async throws {
        let store = context.store
        let changes = try store.watch(ObjectScope(resource: "pods"), after: store.currentRevision)
        for pod in store.list(ObjectScope(resource: "pods")).items { route(pod.key, pod.value) }
        await withTaskCancellationHandler {
            for await event in changes { route(event.key, event.object) }
        } onCancel: {
            for entry in workers.withLock({ Array($0.values) }) { entry.task.cancel() }
        }
        // Each worker stops its containers as it ends.
        for entry in workers.withLock({ Array($0.values) }) {
            entry.task.cancel()
            await entry.task.value
        }
    }

    func route(_ key: ObjectKey, _ pod: OrderedJSON) {
        guard pod[path: ["spec", "nodeName"]]?.stringValue == context.nodeName else { return }
        let uid = pod.uid
        if let existing = workers.withLock({ $0[uid] }) {
            existing.worker.kick()
            return
        }
        guard context.store.get(key)?.value.uid == uid else { return }
        let worker = PodWorker(key: key, uid: uid, context: context)
        let task = Task { [weak self] in
            await worker.run()
            self?.workers.withLock { _ = $0.removeValue(forKey: uid) }
        }
        workers.withLock { $0[uid] = (worker, task) }
        worker.kick()
    }
}
