import Foundation
import Glibc
import Logging
import NIOCore
import PortForwarding
import Synchronization
import TestSupport
import Testing

@Suite("The userspace UDP forwarder")
struct UDPForwarderTests {
    /// A UDP socket on 127.0.0.1 with a receive timeout.
    final class UDPSocket: @unchecked Sendable {
        let fd: Int32
        let port: Int

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            self.fd = fd
            var address = Self.address(port: 0)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0 else {
                close(fd)
                throw TestFailure("bind: errno \(errno)")
            }
            var local = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            _ = withUnsafeMutablePointer(to: &local) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            port = Int(UInt16(bigEndian: local.sin_port))
            var timeout = timeval(tv_sec: 2, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit { close(fd) }

        static func address(port: Int) -> sockaddr_in {
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            return address
        }

        func send(_ text: String, to port: Int) {
            var address = Self.address(port: port)
            let bytes = Array(text.utf8)
            _ = withUnsafePointer(to: &address) { pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { target in
                    bytes.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, target, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
            }
        }

        /// The next datagram and the port it came from, or nil after the timeout.
        func receive() -> (text: String, port: Int)? {
            var buffer = [UInt8](repeating: 0, count: 2048)
            var from = sockaddr_in()
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let n = buffer.withUnsafeMutableBytes { bytes in
                withUnsafeMutablePointer(to: &from) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, bytes.baseAddress, bytes.count, 0, $0, &length) }
                }
            }
            guard n >= 0 else { return nil }
            return (String(decoding: buffer[0..<n], as: UTF8.self), Int(UInt16(bigEndian: from.sin_port)))
        }
    }

    /// A backend that answers each datagram with `name: ` + the datagram, on a thread.
    final class EchoBackend: @unchecked Sendable {
        final class Flag: Sendable {
            let raised = Mutex(false)
        }
        let socket: UDPSocket
        let thread: Thread
        let stopped = Flag()

        init(name: String) throws {
            let socket = try UDPSocket()
            self.socket = socket
            let stopped = self.stopped
            thread = Thread {
                while !stopped.raised.withLock({ $0 }) {
                    guard let (text, port) = socket.receive() else { continue }
                    socket.send("\(name): \(text)", to: port)
                }
            }
            thread.start()
        }

        func stop() { stopped.raised.withLock { $0 = true } }
        func address() throws -> SocketAddress { try SocketAddress(ipAddress: "127.0.0.1", port: socket.port) }
    }

    @Test func repliesComeBackAndSessionsFollowTheBackends() async throws {
        let one = try EchoBackend(name: "one")
        let two = try EchoBackend(name: "two")
        defer { one.stop(); two.stop() }
        let (oneAddress, twoAddress) = (try one.address(), try two.address())
        let current = Mutex<[SocketAddress]>([oneAddress, twoAddress])
        let forwarder = try await UDPForwarder.start(
            host: "127.0.0.1", port: 0, backends: { _ in current.withLock { $0 } },
            isCurrent: { backend in current.withLock { $0.contains(backend) } }, logger: Logger(label: "udp"))
        let port = try #require(forwarder.localAddress.port)

        // A client keeps its backend, and the reply comes from the forwarder's address.
        let client = try UDPSocket()
        for i in 0..<3 {
            client.send("ping \(i)", to: port)
            let reply = try #require(client.receive())
            #expect(reply.text == "one: ping \(i)" && reply.port == port)
        }
        // Once its backend is no longer current, the session moves on.
        current.withLock { $0 = [twoAddress] }
        client.send("again", to: port)
        #expect(client.receive()?.text == "two: again")

        // A backend that refuses (nothing listens: ICMP port unreachable) ends the session;
        // the client's next datagram goes to the next backend.
        let goneAddress = try SocketAddress(ipAddress: "127.0.0.1", port: try UDPSocket().port)
        current.withLock { $0 = [goneAddress, oneAddress] }
        let other = try UDPSocket()
        other.send("lost", to: port)
        #expect(other.receive() == nil, "the refusing backend never answers")
        current.withLock { $0 = [oneAddress, goneAddress] }
        other.send("retry", to: port)
        #expect(other.receive()?.text == "one: retry")

        await forwarder.stop()
        client.send("after stop", to: port)
        #expect(client.receive() == nil)
    }
}
