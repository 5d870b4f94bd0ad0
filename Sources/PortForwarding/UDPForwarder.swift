import Glibc
import Logging
import NIOCore
import NIOPosix

/// A userspace UDP forwarder: listens on a host address and relays each client's datagrams to a
/// backend through a socket of its own connected to that backend, so replies find their way back
/// to the client. A client keeps its backend (a "session", as conntrack keeps a UDP flow) until it
/// has been idle for `idleTimeout`, the backend stops being current, or the backend refuses.
public final class UDPForwarder: Sendable {
    /// The address actually bound (port 0 asks for a free port).
    public let localAddress: SocketAddress
    let channel: Channel

    /// Binds `host:port` now (`reusePort`: see PortSharing). `backends` orders the backends for a new session from a client;
    /// `isCurrent` tells whether a session's backend may still be used (the service proxy drops
    /// endpoints that went away without waiting for the idle timeout).
    public static func start(
        host: String, port: Int,
        backends: @escaping @Sendable (_ client: SocketAddress) -> [SocketAddress],
        isCurrent: @escaping @Sendable (_ backend: SocketAddress) -> Bool = { _ in true },
        idleTimeout: TimeAmount = .seconds(30), reusePort: Bool = false,
        group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) async throws -> UDPForwarder {
        let channel = try await DatagramBootstrap(group: group)
            .channelOption(.socketOption(.so_reuseaddr), value: 1)
            .channelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: reusePort ? 1 : 0)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let relay = UDPRelayHandler(backends: backends, isCurrent: isCurrent, idleTimeout: idleTimeout, logger: logger)
                    try channel.pipeline.syncOperations.addHandler(relay)
                }
            }
            .bind(host: host, port: port).get()
        guard let address = channel.localAddress else {
            try? await channel.close()
            throw ForwarderError(message: "no local address after binding \(host):\(port)/udp")
        }
        return UDPForwarder(localAddress: address, channel: channel)
    }

    init(localAddress: SocketAddress, channel: Channel) {
        self.localAddress = localAddress
        self.channel = channel
    }

    /// Stops listening and closes every session's backend socket.
    public func stop() async {
        try? await channel.close()
    }
}

/// The listening socket's handler: the client → backend direction and the session table. Every
/// session's backend socket lives on the same event loop, so the table needs no lock.
final class UDPRelayHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>

    struct Session {
        var backend: SocketAddress
        /// nil while the backend socket is being set up; datagrams wait in `pending` meanwhile.
        var channel: Channel?
        var pending: [ByteBuffer] = []
        var lastUsed: NIODeadline
        /// Backends not yet tried for this client, should this one refuse.
        var fallbacks: [SocketAddress]
    }

    /// Bounds on what one forwarder holds: a flood of new clients or of datagrams before a
    /// backend socket is ready is dropped, as a full socket buffer would drop it.
    static let maximumSessions = 4096
    static let maximumPending = 64

    let backends: @Sendable (SocketAddress) -> [SocketAddress]
    let isCurrent: @Sendable (SocketAddress) -> Bool
    let idleTimeout: TimeAmount
    let logger: Logger
    private var sessions: [SocketAddress: Session] = [:]
    private var context: ChannelHandlerContext?
    private var sweep: RepeatedTask?

    init(backends: @escaping @Sendable (SocketAddress) -> [SocketAddress], isCurrent: @escaping @Sendable (SocketAddress) -> Bool,
         idleTimeout: TimeAmount, logger: Logger) {
        self.backends = backends
        self.isCurrent = isCurrent
        self.idleTimeout = idleTimeout
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let interval = TimeAmount.nanoseconds(max(idleTimeout.nanoseconds / 2, 1_000_000))
        sweep = context.eventLoop.scheduleRepeatedTask(initialDelay: interval, delay: interval) { _ in
            bound.value.closeIdleSessions()
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        sweep?.cancel()
        sweep = nil
        for session in sessions.values { session.channel?.close(promise: nil) }
        sessions = [:]
        self.context = nil
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = unwrapInboundIn(data)
        let client = envelope.remoteAddress
        if var session = sessions[client], isCurrent(session.backend) {
            session.lastUsed = .now()
            if let channel = session.channel {
                channel.writeAndFlush(AddressedEnvelope(remoteAddress: session.backend, data: envelope.data), promise: nil)
            } else if session.pending.count < Self.maximumPending {
                session.pending.append(envelope.data)
            }
            sessions[client] = session
            return
        }
        endSession(client)
        guard sessions.count < Self.maximumSessions else { return }
        open(client: client, to: backends(client), first: [envelope.data])
    }

    /// Starts a session for `client` with the first of `candidates`; with none, the datagram is
    /// dropped (no endpoints: nothing answers, as with kube-proxy).
    private func open(client: SocketAddress, to candidates: [SocketAddress], first datagrams: [ByteBuffer]) {
        guard let context, let backend = candidates.first else { return }
        sessions[client] = Session(backend: backend, pending: datagrams, lastUsed: .now(), fallbacks: Array(candidates.dropFirst()))
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        DatagramBootstrap(group: context.eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(UDPReplyHandler(client: client, relay: bound.value))
                }
            }
            .connect(to: backend)
            .assumeIsolated()
            .whenComplete { result in
                let relay = bound.value
                switch result {
                case .success(let channel):
                    relay.connected(client: client, backend: backend, channel: channel)
                case .failure(let error):
                    relay.logger.debug("backend socket failed", metadata: ["backend": "\(backend)", "error": "\(error)"])
                    relay.failed(client: client, backend: backend, channel: nil)
                }
            }
    }

    private func connected(client: SocketAddress, backend: SocketAddress, channel: Channel) {
        guard var session = sessions[client], session.backend == backend, session.channel == nil else {
            channel.close(promise: nil)
            return
        }
        for datagram in session.pending {
            channel.write(AddressedEnvelope(remoteAddress: backend, data: datagram), promise: nil)
        }
        channel.flush()
        session.pending = []
        session.channel = channel
        sessions[client] = session
    }

    /// The backend refused (ICMP port unreachable surfaces as an error on the connected socket)
    /// or its socket could not be made: the client's next datagram goes to the next backend.
    func failed(client: SocketAddress, backend: SocketAddress, channel: Channel?) {
        channel?.close(promise: nil)
        guard let session = sessions[client], session.backend == backend, channel == nil || session.channel === channel else { return }
        sessions[client] = nil
        if !session.pending.isEmpty { open(client: client, to: session.fallbacks, first: session.pending) }
    }

    /// A reply from `client`'s backend, sent from the listening address.
    func reply(to client: SocketAddress, _ data: ByteBuffer) {
        sessions[client]?.lastUsed = .now()
        context?.writeAndFlush(wrapOutboundOut(AddressedEnvelope(remoteAddress: client, data: data)), promise: nil)
    }

    private func endSession(_ client: SocketAddress) {
        sessions.removeValue(forKey: client)?.channel?.close(promise: nil)
    }

    private func closeIdleSessions() {
        let cutoff = NIODeadline.now() - idleTimeout
        for (client, session) in sessions where session.lastUsed < cutoff && session.channel != nil { endSession(client) }
    }
}

/// A session's backend socket: what the backend sends goes back to the client.
final class UDPReplyHandler: ChannelInboundHandler {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>

    let client: SocketAddress
    let relay: UDPRelayHandler

    init(client: SocketAddress, relay: UDPRelayHandler) {
        self.client = client
        self.relay = relay
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        relay.reply(to: client, unwrapInboundIn(data).data)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        relay.logger.debug("backend answered with an error", metadata: ["client": "\(client)", "error": "\(error)"])
        if let backend = context.channel.remoteAddress {
            relay.failed(client: client, backend: backend, channel: context.channel)
        } else {
            context.close(promise: nil)
        }
    }
}
