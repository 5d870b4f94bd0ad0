import NIOCore
import NIOHTTP1

/// A fully received request.
public struct HTTPServerRequest: Sendable {
    public var method: HTTPMethod
    /// The raw request target (`/v1.50/images/json?all=1`).
    public var uri: String
    /// The decoded path without the query.
    public var path: String
    public var query: QueryParameters
    public var headers: HTTPHeaders
    public var body: ByteBuffer
    /// The body was larger than the server's limit and was dropped; the responder answers.
    public var bodyExceededLimit = false
    /// Where the body is when the server's BodySpool took it (`body` is empty then). The file is
    /// the responder's to read until its answer has been written; the server removes it.
    public var bodyFile: String?

    public init(method: HTTPMethod, uri: String, headers: HTTPHeaders, body: ByteBuffer) {
        self.method = method
        self.uri = uri
        let split = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        self.path = QueryParameters.percentDecode(String(split.first ?? ""), plusIsSpace: false)
        self.query = QueryParameters(split.count > 1 ? String(split[1]) : "")
        self.headers = headers
        self.body = body
    }

    public var bodyBytes: [UInt8] { Array(body.readableBytesView) }
}

/// Form-encoded query parameters as Go writes them: `+` is a space, keys may repeat.
public struct QueryParameters: Sendable {
    public private(set) var pairs: [(String, String)] = []

    public init(_ query: String) {
        for item in query.split(separator: "&") where !item.isEmpty {
            let kv = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let key = Self.percentDecode(String(kv[0]), plusIsSpace: true)
            let value = kv.count > 1 ? Self.percentDecode(String(kv[1]), plusIsSpace: true) : ""
            pairs.append((key, value))
        }
    }

    public subscript(key: String) -> String? { pairs.first(where: { $0.0 == key })?.1 }

    public func all(_ key: String) -> [String] { pairs.filter { $0.0 == key }.map(\.1) }

    /// Docker's booleans: `1`, `true`, `True` are true; absent, `0`, `false` are false.
    public func bool(_ key: String) -> Bool {
        guard let value = self[key]?.lowercased() else { return false }
        return value == "1" || value == "true" || value == "yes"
    }

    public static func percentDecode(_ s: String, plusIsSpace: Bool) -> String {
        var out: [UInt8] = []
        let bytes = Array(s.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == 37, i + 2 < bytes.count, let hi = hexValue(bytes[i + 1]), let lo = hexValue(bytes[i + 2]) {
                out.append(hi << 4 | lo)
                i += 3
            } else {
                out.append(plusIsSpace && b == 43 ? 32 : b)
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case 48...57: return c - 48
        case 65...70: return c - 55
        case 97...102: return c - 87
        default: return nil
        }
    }
}

/// Writes a streamed response body; every write is flushed and awaited, so a slow client slows
/// the producer and a vanished client makes the write throw.
public struct HTTPBodyWriter: Sendable {
    let channel: Channel

    public func write(_ bytes: [UInt8]) async throws {
        try await write(ByteBuffer(bytes: bytes))
    }

    public func write(_ string: String) async throws {
        try await write(ByteBuffer(string: string))
    }

    public func write(_ buffer: ByteBuffer) async throws {
        try await channel.writeAndFlush(HTTPServerResponsePart.body(.byteBuffer(buffer))).get()
    }

    /// Returns when the connection closes (the client left): long polls use it to stop.
    public func waitForClose() async {
        try? await channel.closeFuture.get()
    }
}

public struct HTTPServerResponse: Sendable {
    public enum Body: Sendable {
        case bytes(ByteBuffer)
        /// Sent with chunked transfer encoding as the closure writes.
        case stream(@Sendable (HTTPBodyWriter) async throws -> Void)
        /// `101` with the response's headers, sent at once; then the connection is a raw byte
        /// pipe handed to the closure (Docker's attach and exec hijack, WebSocket upgrades).
        case upgrade(@Sendable (UpgradedConnection) async throws -> Void)
    }

    public var status: HTTPResponseStatus
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], body: Body = .bytes(ByteBuffer())) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public init(status: HTTPResponseStatus, headers: HTTPHeaders = [:], bytes: [UInt8]) {
        self.init(status: status, headers: headers, body: .bytes(ByteBuffer(bytes: bytes)))
    }
}

/// What a server does with requests.
public protocol HTTPResponder: Sendable {
    func respond(to request: HTTPServerRequest) async -> HTTPServerResponse
}

/// A connection after a `101`: raw bytes in both directions. `inbound` ends when the client
/// half-closes or closes; `finishOutput` half-closes our side. The connection closes when the
/// upgrade closure returns; every write has reached the socket by then.
public struct UpgradedConnection: Sendable {
    public let inbound: AsyncStream<ByteBuffer>
    let channel: Channel

    /// Completes once the bytes are written to the socket (not just queued).
    public func write(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Queues the bytes behind every earlier queued write, without waiting: callers that encode
    /// frames with shared state (SPDY's header compression) queue under their lock to keep the
    /// wire order. The future completes once the bytes are written.
    public func queue(_ bytes: [UInt8]) -> EventLoopFuture<Void> {
        channel.writeAndFlush(ByteBuffer(bytes: bytes))
    }

    /// Half-closes our side (the client reads EOF).
    public func finishOutput() async {
        try? await channel.close(mode: .output).get()
    }
}
