import Foundation
import HTTPClient
import Logging
import Platform
import Synchronization

/// Where images come from: Docker Hub mirrors, registries allowed over plain HTTP.
public struct RegistryConfiguration: Sendable {
    /// Base URLs tried first for docker.io pulls, as Docker's `registry-mirrors`.
    public var mirrors: [String]
    /// `host[:port]` that may be reached over plain HTTP.
    public var insecureRegistries: [String]
    /// Docker Hub itself is never asked, only the mirrors (containerd's hosts.toml with the mirror
    /// as `server`): for machines that must not reach the internet.
    public var mirrorsOnly: Bool

    public init(mirrors: [String] = [], insecureRegistries: [String] = [], mirrorsOnly: Bool = false) {
        self.mirrors = mirrors.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.insecureRegistries = insecureRegistries
        self.mirrorsOnly = mirrorsOnly
    }

    /// Docker treats loopback registries as insecure without being told.
    public func isInsecure(_ domain: String) -> Bool {
        if insecureRegistries.contains(domain) { return true }
        let host = Self.hostPart(of: domain)
        return host == "localhost" || host.hasPrefix("127.") || host == "::1"
    }

    static func hostPart(of domain: String) -> String {
        if domain.hasPrefix("["), let close = domain.firstIndex(of: "]") {
            return String(domain[domain.index(after: domain.startIndex)..<close])
        }
        return String(domain.split(separator: ":", maxSplits: 1).first ?? "")
    }

    /// The base URLs to try, in order, for a registry domain.
    public func endpoints(for domain: String) -> [RegistryEndpoint] {
        if domain == ImageReference.defaultDomain {
            let hub = mirrorsOnly ? [] : [RegistryEndpoint(baseURL: "https://registry-1.docker.io", isMirror: false)]
            return mirrors.map { RegistryEndpoint(baseURL: $0, isMirror: true) } + hub
        }
        let scheme = isInsecure(domain) ? "http" : "https"
        return [RegistryEndpoint(baseURL: "\(scheme)://\(domain)", isMirror: false)]
    }
}

public struct RegistryEndpoint: Sendable, Equatable {
    public var baseURL: String
    public var isMirror: Bool
}

/// A manifest or index as the registry served it: the exact bytes, their digest and media type.
public struct FetchedManifest: Sendable {
    public var bytes: [UInt8]
    public var mediaType: String
    public var digest: Digest
    /// `ratelimit-remaining` when the registry reports it (Docker Hub).
    public var rateLimitRemaining: Int?
}

/// Talks to one repository on one registry endpoint: the Bearer/Basic challenge flow with a token
/// per scope, manifests with digest verification, blobs streamed to disk with verification and
/// resume, redirects followed without carrying credentials to other hosts.
public final class RegistryRepositoryClient: Sendable {
    public let endpoint: RegistryEndpoint
    public let repository: String
    let reference: ImageReference
    let credential: RegistryCredential?
    let http: CurlHTTPClient
    let tokens: TokenCache
    let logger: Logger
    let maxAttempts = 5

    init(endpoint: RegistryEndpoint, reference: ImageReference, credential: RegistryCredential?,
         http: CurlHTTPClient, tokens: TokenCache, logger: Logger) {
        self.endpoint = endpoint
        self.repository = reference.path
        self.reference = reference
        self.credential = credential
        self.http = http
        self.tokens = tokens
        self.logger = logger
    }

    var pullScope: String { "repository:\(repository):pull" }

    // MARK: manifests

    public func fetchManifest(_ ref: String) async throws -> FetchedManifest {
        let url = "\(endpoint.baseURL)/v2/\(repository)/manifests/\(ref)"
        var headers = HTTPHeaderFields()
        headers.append("Accept", MediaType.manifestAccept.joined(separator: ", "))
        let request = HTTPClientRequest(url: url, headers: headers)
        let capture = ResponseCapture(limit: 8 << 20)
        let head = try await retrying {
            capture.reset()
            return try await self.send(request, capture: capture)
        }
        guard head.status == 200 else {
            throw RegistryFailure.forManifest(status: head.status, body: capture.errorBody, reference: reference)
        }
        let bytes = capture.successBody
        let digest = Digest.sha256(of: bytes)
        if let header = head.headers["Docker-Content-Digest"], let claimed = try? Digest(parsing: header),
           claimed.algorithm == "sha256", claimed != digest {
            throw OnekubeError(.digestMismatch, "manifest verification failed for \(reference.familiarString): registry says \(claimed), content is \(digest)")
        }
        if let wanted = try? Digest(parsing: ref), wanted != digest {
            throw OnekubeError(.digestMismatch, "manifest verification failed for digest \(wanted): content is \(digest)")
        }
        let mediaType = try Self.manifestMediaType(contentType: head.headers["Content-Type"], body: bytes)
        let remaining = head.headers["ratelimit-remaining"].flatMap { Int($0.split(separator: ";").first ?? "") }
        return FetchedManifest(bytes: bytes, mediaType: mediaType, digest: digest, rateLimitRemaining: remaining)
    }

    /// The media type from Content-Type, cross-checked against the body's own `mediaType`.
    static func manifestMediaType(contentType: String?, body: [UInt8]) throws -> String {
        let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        let declared = object?["mediaType"] as? String
        let header = contentType.map(MediaType.essence) ?? ""
        let headerIsSpecific = MediaType.manifestAccept.contains(header)
        if let declared, headerIsSpecific, declared != header {
            throw OnekubeError(.invalidArgument, "manifest media type mismatch: Content-Type is \(header), manifest says \(declared)")
        }
        if headerIsSpecific { return header }
        if let declared { return declared }
        if (object?["schemaVersion"] as? Int) == 1 { return MediaType.schema1 }
        if object?["manifests"] != nil { return MediaType.ociIndex }
        if object?["layers"] != nil { return MediaType.ociManifest }
        throw OnekubeError(.unsupported, "unsupported manifest media type \"\(header)\"")
    }

    // MARK: blobs

    /// Small blobs (configs) into memory, verified.
    public func fetchBlob(_ descriptor: Descriptor) async throws -> [UInt8] {
        let url = "\(endpoint.baseURL)/v2/\(repository)/blobs/\(descriptor.digest)"
        let capture = ResponseCapture(limit: max(Int(descriptor.size), 0) + 1)
        let head = try await retrying {
            capture.reset()
            return try await self.send(HTTPClientRequest(url: url), capture: capture)
        }
        guard head.status == 200 else {
            throw RegistryFailure.forBlob(status: head.status, body: capture.errorBody, digest: descriptor.digest)
        }
        let bytes = capture.successBody
        guard Int64(bytes.count) == descriptor.size, Digest.sha256(of: bytes) == descriptor.digest else {
            throw OnekubeError(.digestMismatch, "blob verification failed for digest \(descriptor.digest)")
        }
        return bytes
    }

    /// Streams a blob into `partialPath`, resuming from what is already there (Range), retrying
    /// transient failures, verifying size and sha256. On a verification failure the partial file is
    /// removed, so a retry starts clean.
    public func downloadBlob(
        _ descriptor: Descriptor, to partialPath: String, progress: @escaping @Sendable (Int64) -> Void
    ) async throws {
        let sink = try BlobFileSink(path: partialPath, expectedSize: descriptor.size)
        defer { sink.close() }
        let url = "\(endpoint.baseURL)/v2/\(repository)/blobs/\(descriptor.digest)"
        var attempt = 0
        while true {
            attempt += 1
            let capture = ResponseCapture(limit: 1 << 20)
            capture.sink = sink
            var headers = HTTPHeaderFields()
            let offset = sink.written
            if offset > 0 { headers.append("Range", "bytes=\(offset)-") }
            sink.onProgress = progress
            do {
                let head = try await send(HTTPClientRequest(url: url, headers: headers), capture: capture)
                if head.status == 416 && sink.written == descriptor.size { break }
                if head.status == 200 || head.status == 206 {
                    if sink.written == descriptor.size { break }
                    throw OnekubeError(.unavailable, "unexpected EOF downloading \(descriptor.digest.shortHex)")
                }
                let failure = RegistryFailure.forBlob(status: head.status, body: capture.errorBody, digest: descriptor.digest)
                if head.status >= 500, attempt < maxAttempts {
                    try await backoff(attempt, failure)
                    continue
                }
                throw failure
            } catch let error as HTTPTransportError where error.isTransient && attempt < maxAttempts {
                try await backoff(attempt, error)
            } catch let error as OnekubeError where error.code == .unavailable && attempt < maxAttempts {
                try await backoff(attempt, error)
            }
        }
        guard sink.written == descriptor.size, sink.hexDigest() == descriptor.digest.hex else {
            sink.close()
            unlink(partialPath)
            throw OnekubeError(.digestMismatch, "filesystem layer verification failed for digest \(descriptor.digest)")
        }
        try sink.sync()
    }

    private func backoff(_ attempt: Int, _ error: Error) async throws {
        let delay = min(0.25 * pow(2.0, Double(attempt - 1)), 4.0)
        logger.info("registry request failed, retrying", metadata: ["attempt": "\(attempt)", "error": "\(error)", "delay": "\(delay)"])
        try await Task.sleep(nanoseconds: UInt64(delay * 1e9))
    }

    /// Retries transport failures and 5xx answers; everything else is returned to the caller.
    private func retrying(_ body: @Sendable () async throws -> HTTPClientResponseHead) async throws -> HTTPClientResponseHead {
        var attempt = 0
        while true {
            attempt += 1
            do {
                let head = try await body()
                if head.status >= 500 && attempt < maxAttempts {
                    try await backoff(attempt, OnekubeError(.unavailable, "HTTP \(head.status)"))
                    continue
                }
                return head
            } catch let error as HTTPTransportError where error.isTransient && attempt < maxAttempts {
                try await backoff(attempt, error)
            }
        }
    }

    // MARK: transport with auth and redirects

    /// Sends with the cached authorization for this scope; on a 401 answers the challenge (Bearer:
    /// token from the realm; Basic: the stored credential) and retries once.
    func send(_ request: HTTPClientRequest, capture: ResponseCapture, scope: String? = nil) async throws -> HTTPClientResponseHead {
        let scope = scope ?? pullScope
        // Per user: an authorization earned with one client's credential is not another's (nor an anonymous one's).
        let authKey = "\(Self.origin(of: request.url) ?? "")|\(scope)|\(credential?.username ?? "")"
        let cached = tokens.authorization(for: authKey)
        let head = try await sendFollowingRedirects(request, authorization: cached, capture: capture)
        guard head.status == 401 else { return head }
        let challenges = AuthChallenge.parse(head.headers.values("WWW-Authenticate").joined(separator: ", "))
        let authorization: (String, Date)
        if let bearer = challenges.first(where: { $0.scheme == "bearer" }) {
            // A cached token that was refused has expired or been revoked: fetch a new one.
            authorization = try await tokens.bearerAuthorization(
                challenge: bearer, scope: scope, credential: credential, http: http, refresh: cached != nil)
        } else if challenges.contains(where: { $0.scheme == "basic" }), let credential {
            authorization = (credential.basicAuthorization, Date.distantFuture)
        } else {
            return head
        }
        tokens.store(authorization, for: authKey)
        capture.reset()
        return try await sendFollowingRedirects(request, authorization: authorization, capture: capture)
    }

    /// Follows 3xx answers itself so that Authorization never goes to another scheme, host or port
    /// (Docker Hub redirects blobs to a CDN that rejects it).
    func sendFollowingRedirects(
        _ request: HTTPClientRequest, authorization: (String, Date)?, capture: ResponseCapture
    ) async throws -> HTTPClientResponseHead {
        var current = request
        let origin = Self.origin(of: request.url)
        for _ in 0..<6 {
            var withAuth = current
            if let authorization, Self.origin(of: current.url) == origin {
                withAuth.headers.append("Authorization", authorization.0)
            }
            withAuth.headers.append("User-Agent", "onekube/\(OnekubeVersion.string)")
            let head = try await http.stream(withAuth, onHead: { try capture.begin($0) }, onBody: { try capture.receive($0) })
            guard [301, 302, 303, 307, 308].contains(head.status), let location = head.headers["Location"],
                  let next = URL(string: location, relativeTo: URL(string: current.url))?.absoluteString else {
                return head
            }
            logger.debug("following redirect", metadata: ["to": "\(next)"])
            current.url = next
            if head.status == 303 { current.method = "GET"; current.body = nil }
            capture.reset()
        }
        throw OnekubeError(.unavailable, "too many redirects fetching \(request.url)")
    }

    /// scheme://host:port, with default ports made explicit.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
              let host = components.host?.lowercased() else { return nil }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        return "\(scheme)://\(host):\(port)"
    }
}

/// Collects an answer: success bodies go to the sink (or memory), error bodies to memory for the
/// registry's error JSON; more than `limit` bytes in memory is an error.
final class ResponseCapture: @unchecked Sendable {
    let limit: Int
    var sink: BlobFileSink?
    private(set) var status = 0
    private(set) var successBody: [UInt8] = []
    private(set) var errorBody: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    func reset() {
        status = 0
        successBody = []
        errorBody = []
    }

    func begin(_ head: HTTPClientResponseHead) throws {
        status = head.status
        if let sink, head.status == 200 || head.status == 206 {
            try sink.begin(status: head.status, contentRange: head.headers["Content-Range"])
        }
    }

    func receive(_ bytes: UnsafeRawBufferPointer) throws {
        if (200..<300).contains(status) {
            if let sink { return try sink.write(bytes) }
            guard successBody.count + bytes.count <= limit else {
                throw OnekubeError(.invalidArgument, "response exceeds \(limit) bytes")
            }
            successBody.append(contentsOf: bytes)
        } else if errorBody.count < 1 << 20 {
            errorBody.append(contentsOf: bytes)
        }
    }
}

/// A partial blob on disk and the running sha256 of what it holds.
final class BlobFileSink: @unchecked Sendable {
    let path: String
    let expectedSize: Int64
    private var fd: Int32
    private var hasher = SHA256Hasher()
    private(set) var written: Int64 = 0
    var onProgress: (@Sendable (Int64) -> Void)?

    init(path: String, expectedSize: Int64) throws {
        self.path = path
        self.expectedSize = expectedSize
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        // Resume: what an earlier attempt left is hashed and kept.
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw SystemError("read", path: path) }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            written += Int64(n)
        }
        if written > expectedSize { try restart() }
    }

    func begin(status: Int, contentRange: String?) throws {
        if status == 200 {
            if written > 0 { try restart() }
            return
        }
        // 206: "bytes <start>-<end>/<total>" must start where we are.
        let start = contentRange?.split(separator: " ").last?.split(separator: "-").first.flatMap { Int64($0) }
        if start != written { throw OnekubeError(.unavailable, "registry resumed at \(start ?? -1), expected \(written)") }
    }

    private func restart() throws {
        guard ftruncate(fd, 0) == 0 else { throw SystemError("ftruncate", path: path) }
        lseek(fd, 0, SEEK_SET)
        hasher = SHA256Hasher()
        written = 0
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        guard written + Int64(bytes.count) <= expectedSize else {
            throw OnekubeError(.digestMismatch, "blob is larger than its descriptor's \(expectedSize) bytes")
        }
        try FileSystem.writeAll(fd, bytes, path: path)
        hasher.update(bytes)
        written += Int64(bytes.count)
        onProgress?(written)
    }

    func hexDigest() -> String {
        let result = hasher.finalizeHex()
        hasher = SHA256Hasher()
        return result
    }

    func sync() throws {
        guard fd >= 0 else { return }
        if fsync(fd) != 0 { throw SystemError("fsync", path: path) }
    }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }
}

/// Bearer tokens per (realm, service, scope, account) and the Authorization value per
/// (origin, scope), each with its expiry.
final class TokenCache: Sendable {
    private let entries = Mutex<[String: (String, Date)]>([:])

    func authorization(for key: String) -> (String, Date)? {
        entries.withLock { entries in
            guard let entry = entries[key], entry.1 > Date() else { return nil }
            return entry
        }
    }

    func store(_ value: (String, Date), for key: String) {
        entries.withLock { $0[key] = value }
    }

    func bearerAuthorization(
        challenge: AuthChallenge, scope: String, credential: RegistryCredential?, http: CurlHTTPClient, refresh: Bool = false
    ) async throws -> (String, Date) {
        guard let realm = challenge.realm, var components = URLComponents(string: realm),
              components.scheme == "https" || components.scheme == "http" else {
            throw OnekubeError(.unauthorized, "registry sent a Bearer challenge without a usable realm")
        }
        // An empty scope (a login check) asks for a token that only proves the credentials.
        let scopes = Array(Set((challenge.scopes + [scope]).filter { !$0.isEmpty })).sorted()
        var items = components.queryItems ?? []
        if let service = challenge.service { items.append(URLQueryItem(name: "service", value: service)) }
        items += scopes.map { URLQueryItem(name: "scope", value: $0) }
        components.queryItems = items
        // URLComponents leaves ':' and '/' alone; registries accept either form.
        guard let url = components.url?.absoluteString else {
            throw OnekubeError(.unauthorized, "bad token realm \(realm)")
        }
        let key = "token|\(url)|\(credential?.username ?? "")"
        if !refresh, let cached = authorization(for: key) { return cached }

        var headers = HTTPHeaderFields()
        if let credential { headers.append("Authorization", credential.basicAuthorization) }
        let response = try await http.send(HTTPClientRequest(url: url, headers: headers))
        guard response.status == 200 else {
            if response.status == 401 {
                throw OnekubeError(.unauthorized, "unauthorized: incorrect username or password")
            }
            throw OnekubeError(.unauthorized, "fetching token from \(realm): HTTP \(response.status)")
        }
        struct TokenResponse: Decodable {
            var token: String?
            var access_token: String?
            var expires_in: Int?
            var issued_at: String?
        }
        guard let parsed = try? JSONDecoder().decode(TokenResponse.self, from: Data(response.body)),
              let token = parsed.token ?? parsed.access_token, !token.isEmpty else {
            throw OnekubeError(.unauthorized, "token server \(realm) answered without a token")
        }
        let lifetime = Double(max(parsed.expires_in ?? 60, 60))
        let issued = parsed.issued_at.flatMap { ISO8601DateFormatter.withFractions.date(from: $0) } ?? Date()
        // Refresh a little early so a token never expires in flight.
        let value = ("Bearer \(token)", issued.addingTimeInterval(lifetime - 5))
        store(value, for: key)
        return value
    }
}

extension ISO8601DateFormatter {
    nonisolated(unsafe) static let withFractions: ISO8601DateFormatter = {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }()
}

public enum OnekubeVersion {
    public static let string = "0.1.0"
}
