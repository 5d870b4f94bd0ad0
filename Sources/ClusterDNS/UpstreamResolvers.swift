import Foundation
import Glibc

/// The resolvers names outside the cluster go to: the host's `nameserver` lines (IPv4), each
/// tried once with a short timeout. The answer is passed back as received.
public struct UpstreamResolvers: Sendable {
    public let servers: [(host: String, port: UInt16)]
    public let timeoutMilliseconds: Int

    public init(servers: [(host: String, port: UInt16)], timeoutMilliseconds: Int = 2_000) {
        self.servers = servers
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    /// The IPv4 nameservers of a resolv.conf, minus `excluding` (our own address: no loops).
    public static func fromResolvConf(_ path: String = "/etc/resolv.conf", excluding: Set<String> = []) -> UpstreamResolvers {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let servers = text.split(separator: "\n").compactMap { line -> (String, UInt16)? in
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2, fields[0] == "nameserver", inet_addr(String(fields[1])) != INADDR_NONE,
                  !excluding.contains(String(fields[1])) else { return nil }
            return (String(fields[1]), 53)
        }
        return UpstreamResolvers(servers: servers)
    }

    /// Sends the query to each server in turn until one answers with the same id.
    func forward(_ query: [UInt8], id: UInt16) -> [UInt8]? {
        for server in servers {
            if let answer = ask(server, query, id: id) { return answer }
        }
        return nil
    }

    func ask(_ server: (host: String, port: UInt16), _ query: [UInt8], id: UInt16) -> [UInt8]? {
        let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var timeout = timeval(tv_sec: timeoutMilliseconds / 1000, tv_usec: (timeoutMilliseconds % 1000) * 1000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = server.port.bigEndian
        address.sin_addr.s_addr = inet_addr(server.host)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0, send(fd, query, query.count, 0) == query.count else { return nil }
        var buffer = [UInt8](repeating: 0, count: 65_535)
        // Skip stray datagrams with another id until the timeout.
        while true {
            let received = recv(fd, &buffer, buffer.count, 0)
            guard received >= 12 else { return nil }
            if UInt16(buffer[0]) << 8 | UInt16(buffer[1]) == id { return Array(buffer[0..<received]) }
        }
    }
}
