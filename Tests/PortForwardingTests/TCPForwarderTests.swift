import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix
import PortForwarding
import TestSupport
import Testing

@Suite("The userspace TCP forwarder")
struct TCPForwarderTests {
    @Test func splicesBothWaysWithHalfClosesAndFallsBackToTheNextBackend() async throws {
        // The echo server closes only after the client's half-close reached it, and the client
        // reads to EOF: both half-closes must travel through the forwarder.
        let backend = try EchoServer(prefix: "echo:")
        let refused = try SocketAddress(ipAddress: "127.0.0.1", port: try freePort())
        let target = try SocketAddress(ipAddress: "127.0.0.1", port: backend.port)
        let clients = ClientLog()
        let forwarder = try await TCPForwarder.start(host: "127.0.0.1", port: 0, backends: { client in
            clients.record(client)
            return [refused, target]
        }, logger: Logger(label: "forwarder-test"))
        let port = try #require(forwarder.localAddress.port)
        let answer = try await Self.onThread { try Self.echoed(port: port, "hello") }
        #expect(answer == "echo:hello")
        #expect(clients.addresses.first??.ipAddress == "127.0.0.1", "the backend choice sees the client")
        await forwarder.stop()
        #expect(throws: TestFailure.self) { try Self.echoed(port: port, "after stop") }
    }

    @Test func noBackendResetsTheConnectionAtOnce() async throws {
        let refused = try SocketAddress(ipAddress: "127.0.0.1", port: try freePort())
        let forwarder = try await TCPForwarder.start(host: "127.0.0.1", port: 0, backends: { _ in [refused] }, logger: Logger(label: "forwarder-test"))
        let port = try #require(forwarder.localAddress.port)
        let outcome = try await Self.onThread { () -> Int32 in
            let fd = try Self.connected(port: port)
            defer { close(fd) }
            var byte: UInt8 = 0
            return read(fd, &byte, 1) < 0 ? errno : 0
        }
        #expect(outcome == ECONNRESET, "every backend refused: the client sees a reset, not an empty answer nor a wait")
        await forwarder.stop()
    }

    /// A server on 127.0.0.1 that echoes every connection back until its client half-closes.
    final class EchoServer: @unchecked Sendable {
        let fd: Int32
        let port: Int

        /// `backlog` 0 and a closed `gate` make a backend slow to accept: once one connection
        /// waits in its queue, the kernel drops further SYNs until the gate opens.
        init(backlog: Int32 = 256, gate: DispatchSemaphore? = nil, prefix: String = "") throws {
            let (fd, port) = try Self.listening(backlog: backlog)
            self.fd = fd
            self.port = port
            let listener = fd
            Thread {
                gate?.wait()
                while true {
                    let client = accept(listener, nil, nil)
                    guard client >= 0 else { return }
                    Thread {
                        _ = Array(prefix.utf8).withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
                        var buffer = [UInt8](repeating: 0, count: 65536)
                        while true {
                            let n = buffer.withUnsafeMutableBytes { read(client, $0.baseAddress, $0.count) }
                            if n <= 0 { break }
                            var sent = 0
                            while sent < n {
                                let w = buffer.withUnsafeBytes { write(client, $0.baseAddress! + sent, n - sent) }
                                if w <= 0 { break }
                                sent += w
                            }
                        }
                        close(client)
                    }.start()
                }
            }.start()
        }

        static func listening(backlog: Int32) throws -> (Int32, Int) {
            let port = try freePort()
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard bound == 0, listen(fd, backlog) == 0 else { throw TestFailure("echo server bind") }
            return (fd, port)
        }

        deinit {
            shutdown(fd, Int32(SHUT_RDWR))
            close(fd)
        }
    }

    static func connected(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw TestFailure("connect to the forwarder: \(String(cString: strerror(errno)))")
        }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    /// Byte `i` of the test stream: not a repeating pattern of any power-of-two length, so a
    /// chunk lost, doubled or reordered shows as bytes that differ from their offset's.
    static func streamByte(_ i: Int) -> UInt8 { UInt8(truncatingIfNeeded: (i &* 7919) % 251) }

    /// A forwarder on a free port of 127.0.0.1 to `echo`, and that port.
    static func forwarder(to echo: EchoServer) async throws -> (TCPForwarder, Int) {
        let backend = try SocketAddress(ipAddress: "127.0.0.1", port: echo.port)
        let forwarder = try await TCPForwarder.start(host: "127.0.0.1", port: 0, backends: { _ in [backend] },
                                                     logger: Logger(label: "forwarder-test"))
        return (forwarder, try #require(forwarder.localAddress.port))
    }

    @Test func bulkTransfersKeepEveryByteInOrderAgainstASlowReader() async throws {
        let echo = try EchoServer()
        let (forwarder, port) = try await Self.forwarder(to: echo)
        let total = 48 << 20
        let fd = try Self.connected(port: port)
        defer { close(fd) }
        // The writer runs ahead while the reader sleeps: the forwarder's pipes and the sockets'
        // buffers fill, and reading must pause until there is room (nothing dropped, no spin).
        let writer = Thread {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            var offset = 0
            while offset < total {
                let size = min(chunk.count, total - offset)
                for i in 0..<size { chunk[i] = Self.streamByte(offset + i) }
                var sent = 0
                while sent < size {
                    let w = chunk.withUnsafeBytes { write(fd, $0.baseAddress! + sent, size - sent) }
                    if w <= 0 { return }
                    sent += w
                }
                offset += size
            }
            shutdown(fd, Int32(SHUT_WR))
        }
        writer.start()
        let (received, mismatches) = try await Task.detached { () -> (Int, Int) in
            usleep(500_000)
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            var received = 0
            var mismatches = 0
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 { throw TestFailure("read failed after \(received) bytes: \(String(cString: strerror(errno)))") }
                if n == 0 { break }
                for i in 0..<n where buffer[i] != Self.streamByte(received + i) { mismatches += 1 }
                received += n
            }
            return (received, mismatches)
        }.value
        #expect(received == total, "every byte came back, then the echo server's EOF")
        #expect(mismatches == 0)
        await forwarder.stop()
    }

    @Test func manyConnectionsAtOnceAreEachAnswered() async throws {
        let echo = try EchoServer()
        let (forwarder, port) = try await Self.forwarder(to: echo)
        let count = 200
        let answers = try await Task.detached { () -> [String] in
            // All open first, then each sends and half-closes: every one is held at once.
            let fds = try (0..<count).map { _ in try Self.connected(port: port) }
            defer { fds.forEach { close($0) } }
            var answers: [String] = []
            for (index, fd) in fds.enumerated() {
                _ = Array("connection \(index)".utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                shutdown(fd, Int32(SHUT_WR))
            }
            for fd in fds {
                var received: [UInt8] = []
                var buffer = [UInt8](repeating: 0, count: 256)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n <= 0 { break }
                    received += buffer[0..<n]
                }
                answers.append(String(decoding: received, as: UTF8.self))
            }
            return answers
        }.value
        #expect(answers == (0..<count).map { "connection \($0)" })
        await forwarder.stop()
    }

    /// Sends `text` through 127.0.0.1:`port`, half-closes, reads the answer to EOF.
    static func echoed(port: Int, _ text: String, timeout seconds: Int = 15) throws -> String {
        let fd = try connected(port: port)
        defer { close(fd) }
        var timeout = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        _ = Array(text.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        shutdown(fd, Int32(SHUT_WR))
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw TestFailure("read: \(String(cString: strerror(errno)))") }
            if n == 0 { break }
            received += buffer[0..<n]
        }
        return String(decoding: received, as: UTF8.self)
    }

    /// Runs `body` on a new thread.
    static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                do {
                    continuation.resume(returning: try body())
                } catch {
                    continuation.resume(throwing: error)
                }
            }.start()
        }
    }

    @Test func aBackendSlowToAcceptIsWaitedForUnlessAnotherIsLeft() async throws {
        // Its queue is full and it accepts nothing until the gate opens.
        let gate = DispatchSemaphore(value: 0)
        defer { gate.signal() }
        let slow = try EchoServer(backlog: 0, gate: gate, prefix: "slow:")
        let filler = try Self.connected(port: slow.port)
        defer { close(filler) }
        let quick = try EchoServer(prefix: "quick:")
        let slowAddress = try SocketAddress(ipAddress: "127.0.0.1", port: slow.port)
        let quickAddress = try SocketAddress(ipAddress: "127.0.0.1", port: quick.port)
        let onlySlow = try await TCPForwarder.start(host: "127.0.0.1", port: 0, backends: { _ in [slowAddress] },
                                                    logger: Logger(label: "forwarder-test"))
        let slowThenQuick = try await TCPForwarder.start(host: "127.0.0.1", port: 0, backends: { _ in [slowAddress, quickAddress] },
                                                         logger: Logger(label: "forwarder-test"))
        let onlySlowPort = try #require(onlySlow.localAddress.port)
        let fallbackPort = try #require(slowThenQuick.localAddress.port)
        // Both clients connect now, on threads of their own (not when a cooperative thread is free).
        let waited = ThreadResult { try Self.echoed(port: onlySlowPort, "waited", timeout: 120) }
        let movedOn = ThreadResult { try Self.echoed(port: fallbackPort, "moved on") }
        // The slow backend accepts nothing until the second client has its answer, so only
        // giving the slow one up after the connect timeout can answer it.
        let movedOnAnswer = try await movedOn.value()
        gate.signal()
        let waitedAnswer = try await waited.value()
        #expect(movedOnAnswer == "quick:moved on", "with another backend left, the slow one is given up after the timeout")
        #expect(waitedAnswer == "slow:waited", "the only backend is still waited for, past the connect timeout")
        await onlySlow.stop()
        await slowThenQuick.stop()
    }

    @Test func aPortInUseFailsAtStart() async throws {
        let first = try await TCPForwarder.start(host: "127.0.0.1", port: 0, backends: { _ in [] }, logger: Logger(label: "t"))
        let port = try #require(first.localAddress.port)
        await #expect(throws: (any Error).self) {
            _ = try await TCPForwarder.start(host: "127.0.0.1", port: port, backends: { _ in [] }, logger: Logger(label: "t"))
        }
        await first.stop()
    }
}

final class ClientLog: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [SocketAddress?] = []

    func record(_ address: SocketAddress?) {
        lock.lock()
        values.append(address)
        lock.unlock()
    }

    var addresses: [SocketAddress?] {
        lock.lock()
        defer { lock.unlock() }
        return values
    }
}

/// A result computed on a thread started at once, for clients whose timing matters.
final class ThreadResult<T: Sendable>: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var result: Result<T, any Error>?

    init(_ body: @escaping @Sendable () throws -> T) {
        Thread { [self] in
            result = Result { try body() }
            done.signal()
        }.start()
    }

    /// Waits on a thread of its own, so as not to hold one of the few cooperative threads.
    func value() async throws -> T {
        try await TCPForwarderTests.onThread { [self] in
            done.wait()
            return try result!.get()
        }
    }
}
