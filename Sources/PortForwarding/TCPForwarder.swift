import CLinux
import Glibc
import Logging
import NIOCore

/// A userspace TCP forwarder: listens on a host address and splices every accepted connection to
/// a backend, trying the next backend when a connect fails. `docker run -p` publishes container
/// ports with it; the Kubernetes service proxy picks its backends through the same closure.
/// Connections run on the SpliceLoop.
public final class TCPForwarder: Sendable {
    /// The address actually bound (port 0 asks for a free port).
    public let localAddress: SocketAddress
    private let listener: Int32
    private let token: UInt64
    private let loop: SpliceLoop

    /// Binds `host:port` now (so a port in use fails here, before anything else is set up) and
    /// forwards to the addresses `backends` returns for each connection's client, trying them
    /// in order (the service proxy's round robin and ClientIP affinity decide the order).
    /// `reusePort` sets SO_REUSEPORT (see PortSharing for who does and why).
    public static func start(
        host: String, port: Int, backends: @escaping @Sendable (_ client: SocketAddress?) -> [SocketAddress],
        reusePort: Bool = false, logger: Logger
    ) async throws -> TCPForwarder {
        let loop = try SpliceLoop.shared(logger: logger)
        let (fd, address) = try listeningSocket(host: host, port: port, reusePort: reusePort)
        let token = await withCheckedContinuation { (continuation: CheckedContinuation<UInt64, Never>) in
            loop.execute { loop in
                let member = SpliceListener(fd: fd, backends: backends, logger: logger)
                let token = loop.newToken(for: member)
                if !loop.watch(fd, token: token, events: EPOLLIN.rawValue) {
                    logger.error("epoll_ctl for a listener failed", metadata: ["address": "\(address)", "error": "\(String(cString: strerror(errno)))"])
                }
                continuation.resume(returning: token)
            }
        }
        return TCPForwarder(localAddress: address, listener: fd, token: token, loop: loop)
    }

    private init(localAddress: SocketAddress, listener: Int32, token: UInt64, loop: SpliceLoop) {
        self.localAddress = localAddress
        self.listener = listener
        self.token = token
        self.loop = loop
    }

    /// Stops listening; connections already spliced keep going until either side closes.
    public func stop() async {
        let (listener, token) = (self.listener, self.token)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            loop.execute { loop in
                loop.forget(token)
                close(listener)
                continuation.resume()
            }
        }
    }

    /// A non-blocking socket listening on `host:port`, and the address it got.
    static func listeningSocket(host: String, port: Int, reusePort: Bool) throws -> (Int32, SocketAddress) {
        let requested = try SocketAddress(ipAddress: host, port: port)
        let fd = socket(requested.protocol.rawValue, Int32(SOCK_STREAM.rawValue | SOCK_NONBLOCK.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw IOError(errnoCode: errno, reason: "socket for \(host):\(port)") }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        if reusePort { setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, socklen_t(MemoryLayout<Int32>.size)) }
        // Room for bursts of connections (a load test, a thousand clients at once).
        guard requested.withSockAddr({ bind(fd, $0, socklen_t($1)) }) == 0, listen(fd, 1024) == 0 else {
            let failure = errno
            close(fd)
            throw IOError(errnoCode: failure, reason: "bind \(host):\(port)")
        }
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let named = withUnsafeMutablePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0, let address = socketAddress(storage) else {
            let failure = errno
            close(fd)
            throw IOError(errnoCode: failure, reason: "getsockname \(host):\(port)")
        }
        return (fd, address)
    }

    static func socketAddress(_ storage: sockaddr_storage) -> SocketAddress? {
        var storage = storage
        return withUnsafePointer(to: &storage) { pointer in
            switch Int32(pointer.pointee.ss_family) {
            case AF_INET: pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { SocketAddress($0.pointee) }
            case AF_INET6: pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { SocketAddress($0.pointee) }
            default: nil
            }
        }
    }
}

public struct ForwarderError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// A listening socket on the splice loop: accepts what is waiting and hands each connection
/// its backends.
final class SpliceListener: SpliceLoopMember {
    let fd: Int32
    let backends: @Sendable (SocketAddress?) -> [SocketAddress]
    let logger: Logger
    /// Accepts per wake-up, so that one busy listener does not starve the connections.
    static let acceptsPerEvent = 64

    init(fd: Int32, backends: @escaping @Sendable (SocketAddress?) -> [SocketAddress], logger: Logger) {
        self.fd = fd
        self.backends = backends
        self.logger = logger
    }

    func handle(events: UInt32, token: UInt64, loop: SpliceLoop) {
        for _ in 0..<Self.acceptsPerEvent {
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let client = withUnsafeMutablePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { cz_accept_nonblocking(fd, $0, &length) }
            }
            if client < 0 {
                let failure = errno
                if failure == EAGAIN { return }
                if failure == EMFILE || failure == ENFILE || failure == ENOBUFS || failure == ENOMEM {
                    logger.warning("accept failed: connection refused", metadata: ["error": "\(String(cString: strerror(failure)))"])
                    loop.shedConnection(on: fd)
                    return
                }
                continue // ECONNABORTED and friends: that client is gone, the next may be waiting
            }
            SplicedConnection.disableNagle(client)
            _ = SplicedConnection(client: client, backends: backends(TCPForwarder.socketAddress(storage)), loop: loop)
        }
    }
}
