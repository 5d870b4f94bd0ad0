import Glibc
import Logging
import NIOCore
import NIOPosix

/// A userspace TCP forwarder: listens on a host address and splices every accepted connection to
/// a backend, trying the next backend when a connect fails. `docker run -p` publishes container
/// ports with it; the Kubernetes service proxy picks its backends through the same closure.
public final class TCPForwarder: Sendable {
    /// The address actually bound (port 0 asks for a free port).
    public let localAddress: SocketAddress
    let serverChannel: Channel

    /// Binds `host:port` now (so a port in use fails here, before anything else is set up) and
    /// forwards to the addresses `backends` returns for each connection's client, trying them
    /// in order (the service proxy's round robin and ClientIP affinity decide the order).
    /// `reusePort` sets SO_REUSEPORT (see PortSharing for who does and why).
    public static func start(
        host: String, port: Int, backends: @escaping @Sendable (_ client: SocketAddress?) -> [SocketAddress],
        reusePort: Bool = false, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger
    ) async throws -> TCPForwarder {
        let bootstrap = ServerBootstrap(group: group)
            // Room for bursts of connections (a load test, a thousand clients at once).
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.socketOption(NIOBSDSocket.Option(rawValue: SO_REUSEPORT)), value: reusePort ? 1 : 0)
            .childChannelOption(.allowRemoteHalfClosure, value: true)
            .childChannelOption(.recvAllocator, value: Self.reads)
            .childChannelOption(.writeBufferWaterMark, value: Self.buffered)
            .childChannelInitializer { inbound in
                inbound.eventLoop.makeCompletedFuture {
                    // Installed at once: it holds reading back until a backend is connected.
                    let glue = GlueHandler()
                    try inbound.pipeline.syncOperations.addHandler(glue)
                    connect(inbound, glue: glue, to: backends(inbound.remoteAddress), logger: logger)
                }
            }
        let channel = try await bootstrap.bind(host: host, port: port).get()
        guard let address = channel.localAddress else {
            try? await channel.close()
            throw ForwarderError(message: "no local address after binding \(host):\(port)")
        }
        return TCPForwarder(localAddress: address, serverChannel: channel)
    }

    init(localAddress: SocketAddress, serverChannel: Channel) {
        self.localAddress = localAddress
        self.serverChannel = serverChannel
    }

    /// Stops listening; connections already spliced keep going until either side closes.
    public func stop() async {
        try? await serverChannel.close()
    }

    /// Bulk transfers dominate the copying cost: reads grow to 1 MiB and up to 1 MiB may wait
    /// for the other side before reading pauses, so a download takes few system calls per
    /// megabyte (NIO's defaults, 64 KiB and 64 KiB, halved the throughput).
    static let reads = AdaptiveRecvByteBufferAllocator(minimum: 1024, initial: 16 * 1024, maximum: 1024 * 1024)
    static let buffered = ChannelOptions.Types.WriteBufferWaterMark(low: 256 * 1024, high: 1024 * 1024)

    /// Tries each backend in turn on the inbound connection's event loop; glues the pair on success.
    static func connect(_ inbound: Channel, glue: GlueHandler, to backends: [SocketAddress], logger: Logger) {
        guard let backend = backends.first else {
            reset(inbound)
            return
        }
        ClientBootstrap(group: inbound.eventLoop)
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.recvAllocator, value: reads)
            .channelOption(.writeBufferWaterMark, value: buffered)
            .connectTimeout(.seconds(5))
            .connect(to: backend)
            .whenComplete { result in
                switch result {
                case .success(let outbound):
                    inbound.eventLoop.assumeIsolated().execute {
                        // Still open (not necessarily active yet: the connect may beat channelActive).
                        guard glue.isOpen else {
                            outbound.close(promise: nil)
                            return
                        }
                        let partner = GlueHandler()
                        do {
                            try outbound.pipeline.syncOperations.addHandler(partner)
                            glue.pair(with: partner)
                        } catch {
                            inbound.close(promise: nil)
                            outbound.close(promise: nil)
                        }
                    }
                case .failure(let error):
                    logger.debug("backend connect failed", metadata: ["backend": "\(backend)", "error": "\(error)"])
                    connect(inbound, glue: glue, to: Array(backends.dropFirst()), logger: logger)
                }
            }
    }
}

extension TCPForwarder {
    /// Nowhere to send the connection: an RST at once (SO_LINGER 0), as close to kube-proxy's
    /// "connection refused" as an accepted connection gets, rather than a FIN that reads as an
    /// empty answer.
    static func reset(_ channel: Channel) {
        guard let options = channel as? SocketOptionProvider else {
            channel.close(promise: nil)
            return
        }
        options.setSoLinger(linger(l_onoff: 1, l_linger: 0)).whenComplete { _ in channel.close(promise: nil) }
    }
}

public struct ForwarderError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// One half of a spliced pair (the pattern of NIO's connect-proxy example): what one channel
/// reads the other writes, half-closes travel across, and reading pauses while the partner
/// cannot write — or, on the accepted side, until the backend is connected.
final class GlueHandler: ChannelDuplexHandler {
    typealias InboundIn = NIOAny
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny

    private var partner: GlueHandler?
    private var context: ChannelHandlerContext?
    private var pendingRead = false
    /// Before pairing: what the channel delivered anyway (NIO reads everything up to an early
    /// EOF even when no read was asked for), and whether that EOF came.
    private var unpairedReads: [NIOAny] = []
    private var unpairedEOF = false
    private var closed = false

    /// In a pipeline whose channel has not closed.
    var isOpen: Bool { context != nil && !closed }

    /// Links two handlers, each on its channel (both on one event loop), hands over what arrived
    /// before, and starts reading.
    func pair(with other: GlueHandler) {
        partner = other
        other.partner = self
        for data in unpairedReads { other.partnerWrite(data) }
        unpairedReads = []
        other.partnerFlush()
        if unpairedEOF { other.partnerWriteEOF() }
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        partner = nil
    }

    private func partnerWrite(_ data: NIOAny) { context?.write(data, promise: nil) }
    private func partnerFlush() { context?.flush() }

    /// What was read before the EOF may not be flushed yet (the read and the EOF can come in one
    /// event, before channelReadComplete): flush it, or the output close would drop it.
    private func partnerWriteEOF() {
        context?.flush()
        context?.close(mode: .output, promise: nil)
    }

    private func partnerCloseFull() { context?.close(promise: nil) }
    private var partnerWritable: Bool { context?.channel.isWritable ?? false }

    private func partnerBecameWritable() {
        if pendingRead {
            pendingRead = false
            context?.read()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if let partner { partner.partnerWrite(data) } else { unpairedReads.append(data) }
    }
    func channelReadComplete(context: ChannelHandlerContext) { partner?.partnerFlush() }
    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        partner?.partnerCloseFull()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            if let partner { partner.partnerWriteEOF() } else { unpairedEOF = true }
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        partner?.partnerCloseFull()
        context.close(promise: nil)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { partner?.partnerBecameWritable() }
    }

    /// Reads only when there is a partner able to take what is read.
    func read(context: ChannelHandlerContext) {
        if partner?.partnerWritable ?? false {
            context.read()
        } else {
            pendingRead = true
        }
    }
}
