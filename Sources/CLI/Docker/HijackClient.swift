import Foundation
import Glibc
import HTTPClient
import Platform

/// A raw HTTP/1.1 connection on the daemon's unix socket, for what libcurl cannot do: Docker's
/// hijacked connections (attach, exec start: answered `101`, then a byte pipe in both
/// directions), and `wait`, whose headers must have arrived before the container is started.
final class HijackedConnection: @unchecked Sendable {
    let fd: Int32
    private var pending: [UInt8]

    private init(fd: Int32, pending: [UInt8]) {
        self.fd = fd
        self.pending = pending
    }

    deinit { close(fd) }

    /// Sends the request and returns the connection once the daemon answered 101; any other
    /// answer becomes docker's `Error response from daemon` error.
    static func open(_ client: DockerClient, path: String, query: [(String, String)] = [], body: [UInt8]? = nil) throws -> HijackedConnection {
        let connection = try connect(client)
        try connection.send(path: path, query: query, upgrade: true, body: body)
        let head = try connection.readHead()
        guard head.status == 101 else {
            let errorBody = connection.readBody(head)
            throw DockerCLIError(message: "Error response from daemon: " + DockerClient.errorMessage(status: head.status, body: errorBody))
        }
        return connection
    }

    static func connect(_ client: DockerClient) throws -> HijackedConnection {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(client.socketPath.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(fd)
            throw DockerCLIError(message: "socket path too long: \(client.socketPath)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in pathBytes.enumerated() { raw[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw DockerCLIError(message: "onekube is not running (start it with: sudo onekube start)")
        }
        return HijackedConnection(fd: fd, pending: [])
    }

    func send(method: String = "POST", path: String, query: [(String, String)] = [], upgrade: Bool, body: [UInt8]? = nil) throws {
        var target = DockerClient.apiPrefix + path
        if !query.isEmpty { target += "?" + DockerClient.encodeQuery(query) }
        var head = "\(method) \(target) HTTP/1.1\r\nHost: docker\r\nUser-Agent: onekube-docker\r\n"
        if upgrade { head += "Connection: Upgrade\r\nUpgrade: tcp\r\n" }
        if let body {
            head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        } else {
            head += "Content-Type: text/plain\r\nContent-Length: 0\r\n\r\n"
        }
        try write(Array(head.utf8) + (body ?? []))
    }

    /// Reads the status line and headers; bytes after them stay pending for `read`.
    func readHead() throws -> HTTPResponseHead {
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let parsed: (head: HTTPResponseHead, end: Int)?
            do {
                parsed = try HTTPResponseHead.parse(buffer)
            } catch let error as HTTPResponseHeadError {
                throw DockerCLIError(message: "invalid answer from daemon: \(error.statusLine)")
            }
            if let (head, end) = parsed {
                pending = Array(buffer[end...])
                return head
            }
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw DockerCLIError(message: "error during connect: the daemon closed the connection") }
            buffer += chunk[0..<n]
        }
    }

    /// The whole body: Content-Length, chunked, or up to EOF.
    func readBody(_ head: HTTPResponseHead) -> [UInt8] {
        var raw: [UInt8] = []
        while true {
            if let body = head.body(from: raw, ended: false) { return body }
            let bytes = read()
            if bytes.isEmpty { return head.body(from: raw, ended: true) ?? raw }
            raw += bytes
        }
    }

    /// The next bytes from the daemon; empty at EOF.
    func read() -> [UInt8] {
        if !pending.isEmpty {
            defer { pending = [] }
            return pending
        }
        var chunk = [UInt8](repeating: 0, count: 32768)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            return n > 0 ? Array(chunk[0..<n]) : []
        }
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: "attach connection") }
    }

    /// Our stdin ended: half-close, so that the daemon closes the process's stdin.
    func closeWrite() {
        shutdown(fd, Int32(SHUT_WR))
    }
}
