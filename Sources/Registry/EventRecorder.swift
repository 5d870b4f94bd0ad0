import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform

/// Records Events as components do: named `<object>.<hex unix nanoseconds>` so that an object's
/// events list in time order, and repeated ones (same object, reason and message) counted on one
/// Event rather than added again.
public final class EventRecorder: Sendable {
    let registry: ObjectRegistry
    let component: String
    let host: String?
    let logger: Logger
    static let events = ResourceCatalog.find(kind: "Event")

    public init(registry: ObjectRegistry, component: String, host: String? = nil, logger: Logger) {
        self.registry = registry
        self.component = component
        self.host = host
        self.logger = logger
    }

    /// `type` is Normal or Warning; `fieldPath` names a container (`spec.containers{kubia}`).
    public func record(_ object: OrderedJSON, type: String = "Normal", reason: String, message: String, fieldPath: String? = nil) {
        guard let events = Self.events else { return }
        let namespace = object.namespace.isEmpty ? "default" : object.namespace
        let now = KubeTime.format(Date())
        var involved: [(String, OrderedJSON)] = [
            ("kind", .string(object.kind ?? "")), ("namespace", .string(object.namespace)), ("name", .string(object.name)),
            ("uid", .string(object.uid)), ("apiVersion", .string(object.apiVersion ?? "v1")),
            ("resourceVersion", .string(object.resourceVersion ?? "")),
        ]
        if let fieldPath { involved.append(("fieldPath", .string(fieldPath))) }
        // A repeat bumps the count of the existing Event.
        let existing = registry.store.list(ObjectScope(resource: events.storageName, namespace: namespace)).items.last { stored in
            let e = stored.value
            return e[path: ["involvedObject", "uid"]]?.stringValue == object.uid && e["reason"]?.stringValue == reason
                && e["message"]?.stringValue == message && e[path: ["involvedObject", "fieldPath"]]?.stringValue == fieldPath
                && e[path: ["source", "component"]]?.stringValue == component
        }
        do {
            if let existing {
                _ = try registry.replace(events, namespace: namespace, name: existing.key.name, expectedRevision: nil, statusOnly: false) { value in
                    var next = value
                    next["count"] = .int((value["count"]?.intValue ?? 1) + 1)
                    next["lastTimestamp"] = .string(now)
                    return next
                }
                return
            }
            var source: [(String, OrderedJSON)] = [("component", .string(component))]
            if let host { source.append(("host", .string(host))) }
            let nanos = UInt64(Date().timeIntervalSince1970 * 1_000_000_000)
            let event: OrderedJSON = .object([
                ("metadata", .object([("name", .string("\(object.name).\(String(nanos, radix: 16))")), ("namespace", .string(namespace))])),
                ("involvedObject", .object(involved)), ("reason", .string(reason)), ("message", .string(message)),
                ("source", .object(source)), ("firstTimestamp", .string(now)), ("lastTimestamp", .string(now)),
                ("count", .int(1)), ("type", .string(type)), ("eventTime", .null),
                ("reportingComponent", .string(component)), ("reportingInstance", .string(host ?? "")),
            ])
            _ = try registry.createObject(event, type: events)
        } catch {
            logger.debug("could not record event", metadata: ["reason": "\(reason)", "error": "\(error)"])
        }
    }
}
