import Foundation
import HTTPClient
import Images
import Platform

/// kubectl mode's requests to a Kubernetes API, with kubectl's wording for what goes wrong.
struct KubeAPIClient {
    let context: KubeconfigContext

    struct Response {
        var status: Int
        var body: [UInt8]
        var json: OrderedJSON { (try? OrderedJSON(parsing: body)) ?? .null }
    }

    func request(_ method: String, _ path: String, body: OrderedJSON? = nil, contentType: String = "application/json",
                 accept: String = "application/json") throws -> Response {
        var request = makeRequest(method, path, body: body, contentType: contentType, accept: accept)
        request.stallTimeout = 60
        do {
            let response = try CurlHTTPClient.shared.sendBlocking(request)
            return Response(status: response.status, body: response.body)
        } catch {
            throw unreachable(error)
        }
    }

    /// A body that keeps coming (`logs -f`), handed over chunk by chunk.
    func stream(_ path: String, accept: String = "*/*", onBody: @escaping @Sendable ([UInt8]) -> Void) async throws {
        var request = makeRequest("GET", path, body: nil, contentType: "", accept: accept)
        request.stallTimeout = nil
        let status = StatusBox()
        do {
            _ = try await CurlHTTPClient.shared.stream(request, onHead: { status.value = $0.status }, onBody: { buffer in
                if status.value < 300 { onBody(Array(buffer)) } else { status.errorBody += Array(buffer) }
            })
        } catch {
            throw unreachable(error)
        }
        if status.value >= 300 { throw KubeAPIClient.failure(Response(status: status.value, body: status.errorBody)) }
    }

    final class StatusBox: @unchecked Sendable {
        var value = 0
        var errorBody: [UInt8] = []
    }

    func makeRequest(_ method: String, _ path: String, body: OrderedJSON?, contentType: String, accept: String) -> HTTPClientRequest {
        var headers = HTTPHeaderFields([("Accept", accept), ("User-Agent", "onekube-kubectl/\(OnekubeVersion.string)")])
        if let token = context.token { headers.append("Authorization", "Bearer \(token)") }
        if body != nil { headers.append("Content-Type", contentType) }
        var request = HTTPClientRequest(method: method, url: context.server + path, headers: headers, body: body?.serializedBytes(),
                                        connectTimeout: 10)
        request.caCertificatePath = context.caPath
        return request
    }

    /// kubectl's message when nothing answers.
    func unreachable(_ error: Error) -> KubectlError {
        let host = URL(string: context.server).map { "\($0.host ?? "localhost"):\($0.port ?? 443)" } ?? context.server
        return .message("The connection to the server \(host) was refused - did you specify the right host or port?")
    }

    /// `Error from server (NotFound): pods "x" not found`, from a Status body.
    static func failure(_ response: Response) -> KubectlError {
        let status = response.json
        let reason = status["reason"]?.stringValue ?? ""
        let message = status["message"]?.stringValue ?? String(decoding: response.body, as: UTF8.self)
        // kubectl's words for an authentication failure. kubectl meets it first in discovery when
        // its cache is cold, as kubectl mode's always is (it keeps no discovery cache).
        if response.status == 401 {
            return .message("error: You must be logged in to the server (the server has asked for the client to provide credentials)")
        }
        return .message(reason.isEmpty ? "Error from server: \(message)" : "Error from server (\(reason)): \(message)")
    }

    /// A list of `type`, as kubectl's resource builder lists: a BadRequest or NotFound gets the
    /// builder's words in front of the server's message (`Unable to find "/v1, Resource=pods"
    /// that match label selector …`).
    func list(_ type: ResourceDiscovery.ResourceType, namespace: String?, labelSelector: String? = nil, fieldSelector: String? = nil,
              extraQuery: [String] = [], accept: String = "application/json") throws -> OrderedJSON {
        var query: [String] = []
        if let labelSelector { query.append("labelSelector=" + KubectlTargets.escape(labelSelector)) }
        if let fieldSelector { query.append("fieldSelector=" + KubectlTargets.escape(fieldSelector)) }
        query += extraQuery
        let path = type.collectionPath(namespace: namespace) + (query.isEmpty ? "" : "?" + query.joined(separator: "&"))
        var response = try request("GET", path, accept: accept)
        guard (200..<300).contains(response.status) else {
            if response.status == 400 || response.status == 404, case .object = response.json {
                var status = response.json
                let message = status["message"]?.stringValue ?? ""
                let resource = "\(type.group)/\(type.version), Resource=\(type.plural)"
                status["message"] = .string((labelSelector ?? "").isEmpty && (fieldSelector ?? "").isEmpty
                    ? "Unable to list \"\(resource)\": \(message)"
                    : "Unable to find \"\(resource)\" that match label selector \"\(labelSelector ?? "")\", field selector \"\(fieldSelector ?? "")\": \(message)")
                response.body = status.serializedBytes()
            }
            throw Self.failure(response)
        }
        return response.json
    }

    /// The body of a successful answer, or kubectl's error.
    func expect(_ method: String, _ path: String, body: OrderedJSON? = nil, contentType: String = "application/json",
                accept: String = "application/json") throws -> OrderedJSON {
        let response = try request(method, path, body: body, contentType: contentType, accept: accept)
        guard (200..<300).contains(response.status) else { throw Self.failure(response) }
        return response.json
    }
}
