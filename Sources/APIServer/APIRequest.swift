import HTTPServer
import KubeModel
import NIOHTTP1
import Platform

/// What a Kubernetes REST path names: `/api/v1/namespaces/NS/pods/NAME/log`.
struct ResourcePath: Sendable {
    var type: ResourceType
    var namespace: String?
    var name: String?
    var subresource: String?

    /// nil when the path is not a resource path of a served group/version.
    static func parse(_ path: String) throws -> ResourcePath? {
        var parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        let group: String
        let version: String
        if parts.first == "api", parts.count >= 3 {
            group = ""
            version = parts[1]
            parts.removeFirst(2)
        } else if parts.first == "apis", parts.count >= 4 {
            group = parts[1]
            version = parts[2]
            parts.removeFirst(3)
        } else {
            return nil
        }
        var namespace: String?
        // namespaces/NS/<resource>…, but namespaces/NAME and namespaces/NAME/status are the
        // namespace object itself.
        if parts.count >= 3, parts[0] == "namespaces", !["status", "finalize"].contains(parts[2]) {
            namespace = parts[1]
            parts.removeFirst(2)
        }
        guard let plural = parts.first, let type = ResourceCatalog.find(group: group, version: version, plural: plural) else {
            return nil
        }
        guard parts.count <= 3 else { return nil }
        if namespace != nil && !type.namespaced { return nil }
        return ResourcePath(type: type, namespace: namespace, name: parts.count > 1 ? parts[1] : nil,
                            subresource: parts.count > 2 ? parts[2] : nil)
    }
}

extension HTTPServerRequest {
    /// kubectl's human-readable `get` asks for `application/json;as=Table;v=v1;g=meta.k8s.io`.
    var wantsTable: Bool {
        headers[canonicalForm: "Accept"].contains { $0.contains("as=Table") }
    }

    var contentType: String {
        (headers.first(name: "Content-Type") ?? "application/json").split(separator: ";").first.map {
            $0.trimmingCharacters(in: .whitespaces)
        } ?? "application/json"
    }

    func jsonBody() throws -> OrderedJSON {
        // client-go's typed clients try protobuf first and fall back to JSON on 415.
        if contentType == "application/vnd.kubernetes.protobuf" { throw APIError.unsupportedMediaType(contentType) }
        guard body.readableBytes > 0 else { throw APIError.badRequest("the request body is empty") }
        do {
            return try OrderedJSON(parsing: bodyBytes)
        } catch {
            throw APIError.badRequest("the object provided is unrecognized (must be of type JSON): \(error)")
        }
    }
}

import Foundation
