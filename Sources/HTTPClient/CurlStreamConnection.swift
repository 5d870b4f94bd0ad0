import CCurl
import Glibc
import Synchronization

/// A raw byte stream to an HTTP server, over TCP or TLS, for protocols that take the connection
/// over after an HTTP/1.1 upgrade (WebSocket). libcurl makes the connection and its TLS session
/// (`CURLOPT_CONNECT_ONLY`) and moves the bytes (`curl_easy_send`/`curl_easy_recv`), so the CA
/// and TLS settings are those of every other request. One thread may send while another
/// receives: each libcurl call holds the handle's lock, and waiting for the socket happens
/// outside it.
public final class CurlStreamConnection: @unchecked Sendable {
    private let handle: UnsafeMutableRawPointer
    private let socket: curl_socket_t
    private let url: String
    /// Guards every libcurl call on `handle`.
    private let handleLock = Mutex(())
    /// Keeps one `send` whole: a frame is never interleaved with another thread's.
    private let sendLock = Mutex(())

    /// Connects to `url`'s host and port (and does the TLS handshake for https).
    public init(url: String, caCertificatePath: String?, verifyPeer: Bool = true, connectTimeout: Int = 10) throws {
        _ = CurlHTTPClient.globalInit
        guard let handle = curl_easy_init() else {
            throw HTTPTransportError(method: "CONNECT", url: url, curlCode: Int(CURLE_OUT_OF_MEMORY.rawValue), reason: "curl_easy_init failed")
        }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        cz_curl_setopt_string(handle, CURLOPT_URL, url)
        cz_curl_setopt_long(handle, CURLOPT_CONNECT_ONLY, 1)
        cz_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        cz_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, connectTimeout)
        // An upgrade is HTTP/1.1: ALPN must not settle on h2.
        cz_curl_setopt_long(handle, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1)
        if let caCertificatePath { cz_curl_setopt_string(handle, CURLOPT_CAINFO, caCertificatePath) }
        if !verifyPeer {
            cz_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0)
            cz_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0)
        }
        let rc = errorBuffer.withUnsafeMutableBufferPointer { buffer -> CURLcode in
            cz_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, buffer.baseAddress)
            defer { cz_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, nil) }
            return curl_easy_perform(handle)
        }
        var socket: curl_socket_t = -1
        guard rc == CURLE_OK, cz_curl_getinfo_socket(handle, CURLINFO_ACTIVESOCKET, &socket) == CURLE_OK, socket >= 0 else {
            let detail = errorBuffer.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } ?? "" }
            curl_easy_cleanup(handle)
            let reason = detail.isEmpty ? String(cString: curl_easy_strerror(rc)) : detail
            throw HTTPTransportError(method: "CONNECT", url: url, curlCode: Int(rc.rawValue), reason: reason)
        }
        self.handle = handle
        self.socket = socket
        self.url = url
    }

    deinit { curl_easy_cleanup(handle) }

    /// Sends all of `bytes`, waiting while the socket is full.
    public func send(_ bytes: [UInt8]) throws {
        try sendLock.withLock { _ in
            var offset = 0
            while offset < bytes.count {
                var sent = 0
                let rc = handleLock.withLock { _ in
                    bytes.withUnsafeBytes { raw in
                        let rest = UnsafeRawBufferPointer(rebasing: raw[offset...])
                        return curl_easy_send(handle, rest.baseAddress, rest.count, &sent)
                    }
                }
                switch rc {
                case CURLE_OK: offset += sent
                case CURLE_AGAIN: wait(for: Int16(POLLOUT))
                default: throw failure("curl_easy_send", rc)
                }
            }
        }
    }

    /// The next bytes from the server, at most `maximum`; empty at the end of the stream.
    public func receive(maximum: Int = 65536) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: maximum)
        while true {
            var received = 0
            let rc = handleLock.withLock { _ in
                buffer.withUnsafeMutableBytes { curl_easy_recv(handle, $0.baseAddress, $0.count, &received) }
            }
            switch rc {
            case CURLE_OK:
                buffer.removeLast(maximum - received)
                return buffer
            case CURLE_AGAIN: wait(for: Int16(POLLIN))
            default: throw failure("curl_easy_recv", rc)
            }
        }
    }

    /// Ends the connection for both directions at once: a thread blocked in `receive` sees the end.
    public func shutdown() {
        _ = Glibc.shutdown(socket, Int32(SHUT_RDWR))
    }

    /// Waits until the socket is ready; a bounded wait, because TLS may want the other direction
    /// first (a renegotiation), which the next libcurl call then does.
    private func wait(for events: Int16) {
        var entry = pollfd(fd: socket, events: events, revents: 0)
        _ = poll(&entry, 1, 200)
    }

    private func failure(_ call: String, _ rc: CURLcode) -> HTTPTransportError {
        HTTPTransportError(method: call, url: url, curlCode: Int(rc.rawValue), reason: String(cString: curl_easy_strerror(rc)))
    }
}
