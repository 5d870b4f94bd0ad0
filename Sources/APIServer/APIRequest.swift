import HTTPServer
import KubeModel
import KubeProtobuf
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

    /// A patch body, or the JSON form of a create or update body (`objectBody`).
    func jsonBody() throws -> OrderedJSON {
        // Patches are JSON or YAML documents; the apiserver has no protobuf patch either.
        if contentType == KubernetesProtobuf.contentType { throw APIError.unsupportedMediaType(accepted: APIError.patchMediaTypes) }
        guard body.readableBytes > 0 else { throw APIError.badRequest("the request body is empty") }
        do {
            return try OrderedJSON(parsing: bodyBytes)
        } catch {
            throw APIError.badRequest("the object provided is unrecognized (must be of type JSON): \(error)")
        }
    }

    /// A create or update body as JSON: sent as JSON, or as Kubernetes protobuf and decoded to the
    /// JSON of the same object. client-go's typed clients (kubectl's `create namespace`, `create
    /// deployment`, …) send protobuf and do not retry with JSON, so refusing it would fail them.
    /// `kind` in `apiVersion` is what the URL takes, and what a body that names no kind is.
    func objectBody(apiVersion: String, kind: String) throws -> OrderedJSON {
        guard contentType == KubernetesProtobuf.contentType else { return try jsonBody() }
        guard KubernetesProtobuf.hasSchema(apiVersion: apiVersion, kind: kind) else {
            // As the apiserver answers for kinds without a protobuf form (custom resources).
            throw APIError.unsupportedMediaType(accepted: ["application/json"])
        }
        do {
            return try KubernetesProtobuf.decodeObject(bodyBytes, defaultAPIVersion: apiVersion, defaultKind: kind)
        } catch {
            throw APIError.undecodable(error, into: kind, body: bodyBytes)
        }
    }
}

extension APIError {
    /// The apiserver's 400 for a body its decoder refused (`transformDecodeError`): worded after the
    /// body's own kind once the envelope named one, else with the first bytes of the body.
    static func undecodable(_ error: ProtobufDecodingError, into kind: String, body: [UInt8]) -> APIError {
        switch error.stage {
        case .object(let apiVersion, let bodyKind):
            let version = apiVersion.split(separator: "/").last.map(String.init) ?? apiVersion
            return .badRequest("\(bodyKind) in version \"\(version)\" cannot be handled as a \(kind): \(error.reason)")
        case .envelope:
            return .badRequest("the object provided is unrecognized (must be of type \(kind)): \(error.reason) (\(summary(of: body)))")
        }
    }

    /// apiserver's summarizeData: the first 30 bytes, as text for JSON and in hex otherwise.
    static func summary(of body: [UInt8]) -> String {
        guard let first = body.first else { return "<empty>" }
        let head = body.prefix(30)
        let more = body.count > 30 ? " ..." : ""
        if first == UInt8(ascii: "{") { return String(decoding: head, as: UTF8.self) + more }
        let digits = Array("0123456789abcdef")
        return String(head.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }) + more
    }
}
