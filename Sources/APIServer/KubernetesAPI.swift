import Dispatch
import Foundation
import HTTPServer
import KubeModel
import Logging
import NIOCore
import NIOHTTP1
import ObjectStore
import Platform
import Registry

/// The Kubernetes REST API over the object store: transport (auth, routing, encoding) here, the
/// object semantics in the handler files beside it.
public final class KubernetesAPI: HTTPResponder {
    let registry: ObjectRegistry
    let token: String
    let serverAddress: String
    let logger: Logger
    /// Serves pods/log (and later exec) for pods on a node; nil until node agents exist.
    let podLogs: (any PodLogSource)?
    /// Serves exec, attach and port-forward; nil where no pods run.
    let podStreaming: (any PodStreaming)?

    public init(registry: ObjectRegistry, token: String, serverAddress: String,
                podLogs: (any PodLogSource)? = nil, podStreaming: (any PodStreaming)? = nil, logger: Logger) {
        self.registry = registry
        self.token = token
        self.serverAddress = serverAddress
        self.podLogs = podLogs
        self.podStreaming = podStreaming
        self.logger = logger
    }

    public static let maxBodyBytes = 3 << 20
    static let openAPIv2 = OpenAPIv2.protobuf

    var store: ObjectStore { registry.store }

    public func respond(to request: HTTPServerRequest) async -> HTTPServerResponse {
        var response: HTTPServerResponse
        do {
            response = try await Self.offCooperativePool { try self.route(request) }
        } catch let error as APIError {
            response = Self.status(error)
        } catch let error as StoreError {
            response = Self.status(APIError.internalError("\(error)"))
        } catch {
            logger.error("request failed", metadata: ["uri": "\(request.uri)", "error": "\(error)"])
            response = Self.status(APIError.internalError("\(error)"))
        }
        response.headers.replaceOrAdd(name: "Cache-Control", value: "no-cache, private")
        logger.debug("request", metadata: ["method": "\(request.method)", "uri": "\(request.uri)", "status": "\(response.status.code)"])
        return response
    }

    /// Handlers block (store writes wait for their batch's fsync): they run on GCD's global
    /// queue, which adds threads when some block, not on Swift's two cooperative threads.
    static func offCooperativePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do { continuation.resume(returning: try body()) } catch { continuation.resume(throwing: error) }
            }
        }
    }

    func route(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        if request.bodyExceededLimit { throw APIError.tooLarge }
        let path = request.path
        switch path {
        case "/healthz", "/livez", "/readyz":
            return Self.text("ok")
        default: break
        }
        guard authorized(request) else { throw APIError.unauthorized }
        guard request.method == .GET || request.method == .HEAD || path.hasPrefix("/api/") || path.hasPrefix("/apis/") else {
            throw APIError.methodNotAllowed()
        }
        switch path {
        case "/version": return Self.json(Discovery.version)
        case "/api": return Self.json(Discovery.apiVersions(serverAddress: serverAddress))
        case "/apis": return Self.json(Discovery.apiGroupList)
        case "/openapi/v3": return Self.json(Discovery.openAPIRoot)
        case "/openapi/v2":
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "application/com.github.proto-openapi.spec.v2.v1.0+protobuf")
            return HTTPServerResponse(status: .ok, headers: headers, bytes: Self.openAPIv2)
        default: break
        }
        if path == AccessReview.path { return try AccessReview.review(request) }
        if path.hasPrefix("/openapi/v3/") {
            let groupVersion = path.dropFirst("/openapi/v3/".count).replacingOccurrences(of: "apis/", with: "").replacingOccurrences(of: "api/", with: "")
            guard let doc = Discovery.openAPI(groupVersion: groupVersion) else { throw APIError.unknownPath }
            return Self.json(doc)
        }
        let parts = path.split(separator: "/").map(String.init)
        if request.method == .GET {
            if parts.count == 2, parts[0] == "api", let list = Discovery.resourceList(group: "", version: parts[1]) { return Self.json(list) }
            if parts.count == 2, parts[0] == "apis", let group = Discovery.apiGroup(parts[1]) { return Self.json(group) }
            if parts.count == 3, parts[0] == "apis", let list = Discovery.resourceList(group: parts[1], version: parts[2]) { return Self.json(list) }
        }
        guard let resource = try ResourcePath.parse(path) else { throw APIError.unknownPath }
        return try handle(request, resource)
    }

    func authorized(_ request: HTTPServerRequest) -> Bool {
        guard let header = request.headers.first(name: "Authorization"), header.hasPrefix("Bearer ") else { return false }
        return constantTimeEquals(String(header.dropFirst(7)), token)
    }

    func constantTimeEquals(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    // MARK: encoding

    static func json(_ value: OrderedJSON, status: HTTPResponseStatus = .ok) -> HTTPServerResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return HTTPServerResponse(status: status, headers: headers, bytes: value.serializedBytes() + [10])
    }

    static func text(_ text: String, status: HTTPResponseStatus = .ok) -> HTTPServerResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        return HTTPServerResponse(status: status, headers: headers, bytes: Array(text.utf8))
    }

    static func status(_ error: APIError) -> HTTPServerResponse {
        json(error.status, status: HTTPResponseStatus(statusCode: error.code))
    }
}

/// Where pod logs come from (the node agents' runtime).
public protocol PodLogSource: Sendable {
    /// The log of a container; `follow` keeps the stream open while the container runs. Throws
    /// before any output (a `PodLogError`), so that the client gets a Status.
    func logs(namespace: String, pod: String, container: String, options: PodLogOptions) throws -> AsyncStream<[UInt8]>
}

public enum PodLogError: Error {
    case badRequest(String)
}

public struct PodLogOptions: Sendable {
    public var follow: Bool
    public var tailLines: Int?
    public var sinceSeconds: Int?
    /// Unix seconds (fractions kept) from `sinceTime`.
    public var sinceTime: Double?
    public var timestamps: Bool
    public var previous: Bool
    public var limitBytes: Int?
}
