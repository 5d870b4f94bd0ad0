import Dispatch
import Foundation
import Glibc
import Platform

/// One probe of a container, as the kubelet's prober runs it: httpGet (2xx–3xx is success),
/// tcpSocket (a connection is success) or exec (exit code 0), each within its timeout. The
/// message on failure is worded as the kubelet's events word it.
public struct ProbeRunner: Sendable {
    public enum Result: Sendable, Equatable {
        case success
        case failure(String)
    }

    let runtime: PodRuntime

    public init(runtime: PodRuntime) { self.runtime = runtime }

    public func run(_ probe: OrderedJSON, container: OrderedJSON, containerID: String, podIP: String?) async -> Result {
        let timeout = max(1, probe["timeoutSeconds"]?.intValue ?? 1)
        if let command = probe[path: ["exec", "command"]]?.arrayValue?.compactMap(\.stringValue) {
            let (code, output) = await runtime.exec(containerID, command: command, timeout: .seconds(timeout))
            return code == 0 ? .success : .failure(output.isEmpty ? "command \(command) exited with \(code)" : output)
        }
        guard let podIP else { return .failure("pod has no IP") }
        if let http = probe["httpGet"] {
            guard let port = Self.port(http["port"], container: container) else { return .failure("invalid port \(http["port"].map { "\($0)" } ?? "")") }
            let host = http["host"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? podIP
            let path = http["path"]?.stringValue ?? "/"
            let scheme = (http["scheme"]?.stringValue ?? "HTTP").lowercased()
            let headers = (http["httpHeaders"]?.arrayValue ?? []).compactMap { h -> (String, String)? in
                guard let name = h["name"]?.stringValue else { return nil }
                return (name, h["value"]?.stringValue ?? "")
            }
            return await offLoop { Self.httpGet(host: host, port: port, path: path, scheme: scheme, headers: headers, timeout: Int(timeout)) }
        }
        if let tcp = probe["tcpSocket"] {
            guard let port = Self.port(tcp["port"], container: container) else { return .failure("invalid port") }
            let host = tcp["host"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? podIP
            return await offLoop {
                switch Self.connect(host: host, port: port, timeout: Int(timeout)) {
                case .success(let fd):
                    close(fd)
                    return .success
                case .failure(let message):
                    return .failure("dial tcp \(host):\(port): \(message)")
                }
            }
        }
        return .failure("probe has no handler")
    }

    /// A port by number, or by the name of one of the container's ports.
    static func port(_ value: OrderedJSON?, container: OrderedJSON) -> Int? {
        switch value {
        case .int(let number)?: return (1...65535).contains(number) ? Int(number) : nil
        case .string(let name)?:
            if let number = Int(name) { return number }
            return (container["ports"]?.arrayValue ?? []).first { $0["name"]?.stringValue == name }?["containerPort"]?.intValue.map(Int.init)
        default: return nil
        }
    }

    /// Blocking socket work runs on a GCD thread, never on the cooperative pool.
    func offLoop(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    enum Connection {
        case success(Int32)
        case failure(String)
    }

    static func connect(host: String, port: Int, timeout: Int) -> Connection {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure("socket: \(String(cString: strerror(errno)))") }
        var tv = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            close(fd)
            return .failure("lookup \(host): no such host")
        }
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            let reason = errno == EINPROGRESS || errno == EAGAIN ? "i/o timeout" : "connect: \(String(cString: strerror(errno)).lowercased())"
            close(fd)
            return .failure(reason)
        }
        return .success(fd)
    }

    static func httpGet(host: String, port: Int, path: String, scheme: String, headers: [(String, String)], timeout: Int) -> Result {
        let url = "\(scheme)://\(host):\(port)\(path)"
        guard scheme == "http" else { return .failure("Get \"\(url)\": HTTPS probes are not supported") }
        let fd: Int32
        switch connect(host: host, port: port, timeout: timeout) {
        case .success(let connected): fd = connected
        case .failure(let message): return .failure("Get \"\(url)\": dial tcp \(host):\(port): \(message)")
        }
        defer { close(fd) }
        var request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUser-Agent: kube-probe/1.32\r\nAccept: */*\r\nConnection: close\r\n"
        for (name, value) in headers { request += "\(name): \(value)\r\n" }
        request += "\r\n"
        let bytes = Array(request.utf8)
        guard send(fd, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { return .failure("Get \"\(url)\": write failed") }
        var buffer = [UInt8](repeating: 0, count: 1024)
        var received: [UInt8] = []
        while !received.contains(10) {
            let n = recv(fd, &buffer, buffer.count, 0)
            guard n > 0 else { return .failure("Get \"\(url)\": \(n == 0 ? "EOF" : "context deadline exceeded (Client.Timeout exceeded while awaiting headers)")") }
            received += buffer[0..<n]
        }
        let statusLine = String(decoding: received.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self)
        let fields = statusLine.split(separator: " ")
        guard fields.count >= 2, let code = Int(fields[1]) else { return .failure("Get \"\(url)\": malformed HTTP response") }
        return (200..<400).contains(code) ? .success : .failure("HTTP probe failed with statuscode: \(code)")
    }
}
