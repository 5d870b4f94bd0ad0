import Foundation
import HTTPServer
import KubeModel
import NIOCore
import NIOHTTP1
import ObjectStore
import Platform
import Registry
import Synchronization

extension KubernetesAPI {
    func key(_ type: ResourceType, namespace: String?, name: String) -> ObjectKey {
        registry.key(type, namespace: namespace, name: name)
    }

    func handle(_ request: HTTPServerRequest, _ path: ResourcePath) throws -> HTTPServerResponse {
        let type = path.type
        guard let name = path.name else {
            switch request.method {
            case .GET:
                if request.query.bool("watch") { return try watch(request, path) }
                return try list(request, path)
            case .POST: return try create(request, path)
            case .DELETE: return try deleteCollection(request, path)
            default: throw APIError.methodNotAllowed()
            }
        }
        if let sub = path.subresource {
            guard type.subresource(sub) != nil else { throw APIError.unknownPath }
            return try handleSubresource(request, path, name: name, subresource: sub)
        }
        switch request.method {
        case .GET: return try get(request, path, name: name)
        case .PUT: return try update(request, path, name: name, statusOnly: false)
        case .PATCH: return try patch(request, path, name: name, statusOnly: false)
        case .DELETE: return try delete(request, path, name: name)
        default: throw APIError.methodNotAllowed()
        }
    }

    func existing(_ type: ResourceType, namespace: String?, name: String) throws -> StoredObject {
        guard let stored = store.get(key(type, namespace: namespace, name: name)) else { throw APIError.notFound(type, name: name) }
        return stored
    }

    // MARK: get and list

    func get(_ request: HTTPServerRequest, _ path: ResourcePath, name: String) throws -> HTTPServerResponse {
        let stored = try existing(path.type, namespace: path.namespace, name: name)
        if request.wantsTable {
            return Self.json(TablePrinter.table(for: [stored.value], type: path.type, resourceVersion: String(stored.revision),
                                                includeObject: request.query["includeObject"] ?? "Metadata"))
        }
        return Self.json(stored.value)
    }

    func selectors(_ request: HTTPServerRequest, _ type: ResourceType) throws -> (LabelSelector, FieldSelector) {
        let labels = try LabelSelector(parsing: request.query["labelSelector"] ?? "")
        let fields = try FieldSelector(parsing: request.query["fieldSelector"] ?? "")
        try fields.validate(for: type)
        return (labels, fields)
    }

    func list(_ request: HTTPServerRequest, _ path: ResourcePath) throws -> HTTPServerResponse {
        let type = path.type
        let (labels, fields) = try selectors(request, type)
        let (stored, revision) = store.list(ObjectScope(resource: type.storageName, namespace: path.namespace))
        var items = stored.map(\.value).filter { labels.matches($0.labels) && fields.matches($0, type: type) }
        var metadata: [(String, OrderedJSON)] = [("resourceVersion", .string(String(revision)))]
        // Pagination: `continue` carries the last key returned; `limit` cuts the page.
        if let token = request.query["continue"], !token.isEmpty {
            guard let data = Data(base64Encoded: token), let after = String(data: data, encoding: .utf8) else {
                throw APIError.badRequest("continue key is not valid: illegal base64 data")
            }
            items = items.filter { "\($0.namespace)/\($0.name)" > after }
        }
        if let limit = request.query["limit"].flatMap(Int.init), limit > 0, items.count > limit {
            let last = items[limit - 1]
            metadata.append(("continue", .string(Data("\(last.namespace)/\(last.name)".utf8).base64EncodedString())))
            metadata.append(("remainingItemCount", .int(Int64(items.count - limit))))
            items = Array(items.prefix(limit))
        }
        if request.wantsTable {
            var table = TablePrinter.table(for: items, type: type, resourceVersion: String(revision),
                                           includeObject: request.query["includeObject"] ?? "Metadata")
            table["metadata"] = .object(metadata)
            return Self.json(table)
        }
        return Self.json(.object([("kind", .string(type.listKind)), ("apiVersion", .string(type.apiVersion)),
                                  ("metadata", .object(metadata)), ("items", .array(items))]))
    }

    // MARK: create

    func create(_ request: HTTPServerRequest, _ path: ResourcePath) throws -> HTTPServerResponse {
        let validation = try FieldValidation(request)
        var (object, warnings) = try validation.apply(try request.objectBody(apiVersion: path.type.apiVersion, kind: path.type.kind),
                                                      type: path.type)
        try checkKind(object, path.type)
        if path.type.namespaced {
            let namespace = path.namespace ?? ""
            if !object.namespace.isEmpty && object.namespace != namespace {
                throw APIError.badRequest("the namespace of the provided object does not match the namespace sent on the request")
            }
            object.namespace = namespace
        }
        if request.query["dryRun"] == "All" {
            return Self.json(try registry.prepareForCreate(object, type: path.type), status: .created).withWarnings(warnings)
        }
        let created = try registry.createObject(object, type: path.type)
        return Self.json(created.value, status: .created).withWarnings(warnings)
    }

    func checkKind(_ object: OrderedJSON, _ type: ResourceType) throws {
        if let kind = object.kind, !kind.isEmpty, kind != type.kind {
            throw APIError.badRequest("the server could not find the requested resource (kind \(kind) does not match \(type.kind))")
        }
        if let apiVersion = object.apiVersion, !apiVersion.isEmpty, apiVersion != type.apiVersion {
            throw APIError.badRequest("the API version in the data (\(apiVersion)) does not match the expected API version (\(type.apiVersion))")
        }
    }

    // MARK: update and patch

    func update(_ request: HTTPServerRequest, _ path: ResourcePath, name: String, statusOnly: Bool) throws -> HTTPServerResponse {
        let (body, warnings) = try FieldValidation(request).apply(
            try request.objectBody(apiVersion: path.type.apiVersion, kind: path.type.kind), type: path.type)
        try checkKind(body, path.type)
        if !body.name.isEmpty && body.name != name {
            throw APIError.badRequest("the name of the object (\(body.name)) does not match the name on the URL (\(name))")
        }
        let expected = body.resourceVersion.flatMap { $0.isEmpty ? nil : Int64($0) }
        let updated = try registry.replace(path.type, namespace: path.namespace, name: name, expectedRevision: expected, statusOnly: statusOnly) { _ in body }
        return Self.json(updated.value).withWarnings(warnings)
    }

    func patch(_ request: HTTPServerRequest, _ path: ResourcePath, name: String, statusOnly: Bool) throws -> HTTPServerResponse {
        let patchBody = try request.jsonBody()
        let contentType = request.contentType
        let type = path.type
        let validation = try FieldValidation(request)
        if contentType == "application/apply-patch+yaml" && store.get(key(type, namespace: path.namespace, name: name)) == nil {
            // Server-side apply creates what does not exist.
            var (object, warnings) = try validation.apply(patchBody, type: type)
            try checkKind(object, type)
            if type.namespaced { object.namespace = path.namespace ?? "" }
            if object.name.isEmpty { object.name = name }
            return Self.json(try registry.createObject(object, type: type).value, status: .created).withWarnings(warnings)
        }
        let precondition = patchBody[path: ["metadata", "resourceVersion"]]?.stringValue.flatMap(Int64.init)
        let warnings = Mutex<[String]>([])
        let updated = try registry.replace(type, namespace: path.namespace, name: name, expectedRevision: precondition, statusOnly: statusOnly) { current in
            let patched: OrderedJSON
            switch contentType {
            case "application/merge-patch+json": patched = Patch.merge(current, patchBody)
            case "application/strategic-merge-patch+json", "application/apply-patch+yaml": patched = Patch.strategicMerge(current, patchBody)
            case "application/json-patch+json": patched = try Patch.jsonPatch(current, patchBody)
            default: throw APIError.unsupportedMediaType(accepted: APIError.patchMediaTypes)
            }
            // The patched object is decoded as a typed one would be: checked, and pruned. Only
            // what the patch brought counts; the stored object is the server's own.
            let (object, found) = try validation.apply(patched, type: type, alreadyStored: current)
            warnings.withLock { $0 = found }
            return object
        }
        return Self.json(updated.value).withWarnings(warnings.withLock { $0 })
    }
}
