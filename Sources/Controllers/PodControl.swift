import KubeModel
import Logging
import ObjectStore
import Platform
import Registry

/// Creates and deletes a controller's pods, recording the events the Kubernetes controllers
/// record for it (SuccessfulCreate, FailedCreate, SuccessfulDelete), as their shared
/// `controller.RealPodControl` does. A failed delete is only logged: the next pass tries again.
struct PodControl {
    let registry: ObjectRegistry
    let events: EventRecorder
    let logger: Logger

    func create(_ pod: OrderedJSON, for owner: OrderedJSON, type: ResourceType) {
        do {
            let created = try registry.createObject(pod, type: type)
            events.record(owner, reason: "SuccessfulCreate", message: "Created pod: \(created.key.name)")
        } catch {
            events.record(owner, type: "Warning", reason: "FailedCreate", message: "Error creating: \(error)")
        }
    }

    func delete(_ pod: OrderedJSON, of owner: OrderedJSON, type: ResourceType) {
        do {
            _ = try registry.deleteObject(type, namespace: pod.namespace, name: pod.name, options: DeleteOptions(propagationPolicy: "Background"))
            events.record(owner, reason: "SuccessfulDelete", message: "Deleted pod: \(pod.name)")
        } catch {
            logger.debug("could not delete pod", metadata: ["pod": "\(pod.name)", "owner": "\(owner.name)", "error": "\(error)"])
        }
    }
}
