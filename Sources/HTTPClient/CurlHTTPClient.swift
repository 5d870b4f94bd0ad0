import CCurl
import Foundation
import Platform
import Synchronization

public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: HTTPHeaderFields
    public var body: [UInt8]?
    /// Talk HTTP over this unix socket instead of TCP (the Docker Engine API).
    public var unixSocketPath: String?
    /// Abort when less than one byte arrives for this many seconds; nil for long polls.
    public var stallTimeout: Int?
    public var connectTimeout: Int
    /// Trust this CA (PEM file) instead of the system store.
    public var caCertificatePath: String?

    public init(
        method: String = "GET", url: String, headers: HTTPHeaderFields = HTTPHeaderFields(),
        body: [UInt8]? = nil, unixSocketPath: String? = nil, stallTimeout: Int? = 60, connectTimeout: Int = 30
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.unixSocketPath = unixSocketPath
        self.stallTimeout = stallTimeout
        self.connectTimeout = connectTimeout
    }
}

public struct HTTPClientResponseHead: Sendable {
    public var status: Int
    public var headers: HTTPHeaderFields
    /// The status line's reason phrase (`Not Found`; HTTP/2 has none).
    public var reason = ""
}

public struct HTTPClientResponse: Sendable {
    public var head: HTTPClientResponseHead
    public var body: [UInt8]

    public init(head: HTTPClientResponseHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }
    public var status: Int { head.status }
    public var headers: HTTPHeaderFields { head.headers }
}

/// A transport failure (no HTTP status): connection refused, TLS, timeout, reset.
public struct HTTPTransportError: Error, CustomStringConvertible, Sendable {
    public let method: String
    public let url: String
    public let curlCode: Int
    public let reason: String
    public var description: String { "\(method.capitalized) \"\(url)\": \(reason)" }

    /// Connection-level failures that a retry may cure.
    public var isTransient: Bool {
        let transient: [CURLcode] = [
            CURLE_COULDNT_CONNECT, CURLE_OPERATION_TIMEDOUT, CURLE_RECV_ERROR, CURLE_SEND_ERROR,
            CURLE_PARTIAL_FILE, CURLE_GOT_NOTHING, CURLE_HTTP2, CURLE_HTTP2_STREAM, CURLE_SSL_CONNECT_ERROR,
        ]
        return transient.contains { Int($0.rawValue) == curlCode }
    }
}

/// HTTP/1.1 client on libcurl. Each transfer blocks its calling thread, so async callers go through
/// `onDedicatedThread`. Easy handles are pooled: a reused handle keeps its connections alive.
public final class CurlHTTPClient: Sendable {
    public static let shared = CurlHTTPClient()

    private let pool = Mutex<[HandleBox]>([])

    public init() {
        _ = CurlHTTPClient.globalInit
    }

    static let globalInit: Void = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT))
    }()

    /// Buffers the whole body.
    public func send(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        try await onDedicatedThread(name: "onekube-http") { try self.sendBlocking(request) }
    }

    public func sendBlocking(_ request: HTTPClientRequest) throws -> HTTPClientResponse {
        let collector = BodyCollector()
        let head = try performBlocking(request, onHead: { _ in }, onBody: { collector.bytes.append(contentsOf: $0) })
        return HTTPClientResponse(head: head, body: collector.bytes)
    }

    /// Streams the body: `onHead` once before the first body bytes (or after the transfer when the
    /// body is empty), then `onBody` per chunk. Throwing from either aborts the transfer with that error.
    public func stream(
        _ request: HTTPClientRequest,
        onHead: @escaping @Sendable (HTTPClientResponseHead) throws -> Void,
        onBody: @escaping @Sendable (UnsafeRawBufferPointer) throws -> Void
    ) async throws -> HTTPClientResponseHead {
        try await onDedicatedThread(name: "onekube-http") {
            try self.performBlocking(request, onHead: onHead, onBody: onBody)
        }
    }

    public func performBlocking(
        _ request: HTTPClientRequest,
        onHead: (HTTPClientResponseHead) throws -> Void,
        onBody: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> HTTPClientResponseHead {
        let box = takeHandle()
        defer { returnHandle(box) }
        let handle = box.handle
        curl_easy_reset(handle)

        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }

        return try withoutActuallyEscaping(onHead) { onHead in
            try withoutActuallyEscaping(onBody) { onBody in
                let context = TransferContext(onHead: onHead, onBody: onBody)
                let unmanaged = Unmanaged.passRetained(context)
                defer { unmanaged.release() }
                let userdata = unmanaged.toOpaque()

                cz_curl_setopt_string(handle, CURLOPT_URL, request.url)
                cz_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
                cz_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0)
                cz_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, request.connectTimeout)
                if let stall = request.stallTimeout {
                    cz_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1)
                    cz_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, stall)
                }
                if let ca = request.caCertificatePath {
                    cz_curl_setopt_string(handle, CURLOPT_CAINFO, ca)
                }
                if let socket = request.unixSocketPath {
                    cz_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket)
                }
                errorBuffer.withUnsafeMutableBufferPointer {
                    _ = cz_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, $0.baseAddress)
                }

                switch request.method {
                case "GET": break
                case "HEAD": cz_curl_setopt_long(handle, CURLOPT_NOBODY, 1)
                default: cz_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
                }
                if let body = request.body ?? (["POST", "PUT", "PATCH"].contains(request.method) ? [] : nil) {
                    cz_curl_setopt_offt(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
                    if body.isEmpty {
                        cz_curl_setopt_string(handle, CURLOPT_COPYPOSTFIELDS, "")
                    } else {
                        body.withUnsafeBytes {
                            _ = cz_curl_setopt_pointer(handle, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: $0.baseAddress))
                        }
                    }
                }

                // An empty "Expect:" stops curl from waiting for 100-continue on bodies.
                var headers = request.headers
                if request.body != nil && headers["Expect"] == nil { headers.append("Expect", "") }
                for (name, value) in headers {
                    let line = value.isEmpty ? "\(name):" : "\(name): \(value)"
                    headerList = curl_slist_append(headerList, line)
                }
                cz_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)

                cz_curl_setopt_header_function(handle) { ptr, size, count, userdata in
                    guard let userdata else { return 0 }
                    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
                    context.headerLine(UnsafeRawBufferPointer(start: ptr, count: size * count))
                    return size * count
                }
                cz_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, userdata)
                cz_curl_setopt_write_function(handle) { ptr, size, count, userdata in
                    guard let userdata else { return 0 }
                    let context = Unmanaged<TransferContext>.fromOpaque(userdata).takeUnretainedValue()
                    return context.body(UnsafeRawBufferPointer(start: ptr, count: size * count)) ? size * count : 0
                }
                cz_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, userdata)

                let rc = curl_easy_perform(handle)
                if let failure = context.failure { throw failure }
                guard rc == CURLE_OK else {
                    let detail = errorBuffer.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } ?? "" }
                    let reason = detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail
                    box.poisoned = true
                    throw HTTPTransportError(method: request.method, url: request.url, curlCode: Int(rc.rawValue), reason: reason)
                }
                if !context.headDelivered {
                    try context.deliverHead()
                }
                return context.head
            }
        }
    }

    private func takeHandle() -> HandleBox {
        if let box = pool.withLock({ $0.popLast() }) { return box }
        return HandleBox()
    }

    private func returnHandle(_ box: HandleBox) {
        guard !box.poisoned else { return }
        pool.withLock { handles in
            if handles.count < 16 { handles.append(box) }
        }
    }
}

private final class HandleBox: @unchecked Sendable {
    let handle: UnsafeMutableRawPointer
    var poisoned = false

    init() {
        guard let handle = curl_easy_init() else { preconditionFailure("curl_easy_init: out of memory") }
        self.handle = handle
    }

    deinit { curl_easy_cleanup(handle) }
}

private final class BodyCollector: @unchecked Sendable {
    var bytes: [UInt8] = []
}

private final class TransferContext {
    let onHead: (HTTPClientResponseHead) throws -> Void
    let onBody: (UnsafeRawBufferPointer) throws -> Void
    var head = HTTPClientResponseHead(status: 0, headers: HTTPHeaderFields())
    var headDelivered = false
    var failure: Error?

    init(onHead: @escaping (HTTPClientResponseHead) throws -> Void, onBody: @escaping (UnsafeRawBufferPointer) throws -> Void) {
        self.onHead = onHead
        self.onBody = onBody
    }

    func headerLine(_ raw: UnsafeRawBufferPointer) {
        var line = String(decoding: raw, as: UTF8.self)
        // By scalars: "\r\n" is one Character, so hasSuffix("\n") never matched it.
        while let last = line.unicodeScalars.last, last == "\n" || last == "\r" { line.unicodeScalars.removeLast() }
        if line.hasPrefix("HTTP/") {
            // A new response (after 100 Continue): start over.
            let parts = line.split(separator: " ", maxSplits: 2)
            head = HTTPClientResponseHead(status: parts.count > 1 ? Int(parts[1]) ?? 0 : 0, headers: HTTPHeaderFields(),
                                          reason: parts.count > 2 ? String(parts[2]) : "")
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            head.headers.append(name, value)
        }
    }

    func deliverHead() throws {
        headDelivered = true
        try onHead(head)
    }

    func body(_ bytes: UnsafeRawBufferPointer) -> Bool {
        do {
            if !headDelivered { try deliverHead() }
            try onBody(bytes)
            return true
        } catch {
            failure = error
            return false
        }
    }
}
