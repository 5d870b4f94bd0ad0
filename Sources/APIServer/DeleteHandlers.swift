import Foundation
import HTTPServer
import KubeModel
import NIOHTTP1
import ObjectStore
import Platform
import Registry

extension DeleteOptions {
    /// From the body (DeleteOptions, JSON or protobuf) or the query.
    init(_ request: HTTPServerRequest, apiVersion: String) throws {
        self.init()
        if request.body.readableBytes > 0, let body = try? request.objectBody(apiVersion: apiVersion, kind: "DeleteOptions") {
            gracePeriodSeconds = body["gracePeriodSeconds"]?.intValue
            propagationPolicy = body["propagationPolicy"]?.stringValue
            if body["orphanDependents"]?.boolValue == true { propagationPolicy = "Orphan" }
            preconditionUID = body[path: ["preconditions", "uid"]]?.stringValue
            preconditionResourceVersion = body[path: ["preconditions", "resourceVersion"]]?.stringValue
        }
        if let grace = request.query["gracePeriodSeconds"].flatMap(Int64.init) { gracePeriodSeconds = grace }
        if let policy = request.query["propagationPolicy"] { propagationPolicy = policy }
        if let policy = propagationPolicy, !["Foreground", "Background", "Orphan"].contains(policy) {
            throw APIError.invalid(kind: "DeleteOptions", name: "", [.notSupported("propagationPolicy", policy, ["Foreground", "Background", "Orphan"])])
        }
    }
}

extension KubernetesAPI {
    func delete(_ request: HTTPServerRequest, _ path: ResourcePath, name: String) throws -> HTTPServerResponse {
        let options = try DeleteOptions(request, apiVersion: path.type.apiVersion)
        let result = try registry.deleteObject(path.type, namespace: path.namespace, name: name, options: options)
        return Self.json(result.value)
    }

    func deleteCollection(_ request: HTTPServerRequest, _ path: ResourcePath) throws -> HTTPServerResponse {
        guard path.type.verbs.contains("deletecollection") else { throw APIError.methodNotAllowed() }
        let options = try DeleteOptions(request, apiVersion: path.type.apiVersion)
        let (labels, fields) = try selectors(request, path.type)
        let (items, revision) = store.list(ObjectScope(resource: path.type.storageName, namespace: path.namespace))
        var deleted: [OrderedJSON] = []
        for item in items where labels.matches(item.value.labels) && fields.matches(item.value, type: path.type) {
            if let result = try? registry.deleteObject(path.type, namespace: item.key.namespace, name: item.key.name, options: options) {
                deleted.append(result.value)
            }
        }
        return Self.json(.object([("kind", .string(path.type.listKind)), ("apiVersion", .string(path.type.apiVersion)),
                                  ("metadata", .object([("resourceVersion", .string(String(revision)))])), ("items", .array(deleted))]))
    }
}
