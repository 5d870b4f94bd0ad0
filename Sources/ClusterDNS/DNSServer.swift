import Dispatch
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// Cluster DNS over UDP and TCP (RFC 1035: resolvers retry over TCP when an answer is
/// truncated, and some clients ask over TCP from the start): cluster names answered from the
/// directory, everything else forwarded to the host's resolvers. Run as a `Service` bound to
/// one address (kube-dns's ClusterIP in the daemon; a loopback address in tests).
public final class DNSServer: Service, Sendable {
    public let host: String
    public let port: Int
    let responder: DNSResponder
    let logger: Logger
    private let boundPort = Mutex<Int?>(nil)

    public init(host: String, port: Int = 53, records: ClusterRecords, upstream: UpstreamResolvers, logger: Logger) {
        self.host = host
        self.port = port
        responder = DNSResponder(records: records, upstream: upstream, logger: logger)
        self.logger = logger
    }

    /// The port actually bound (useful when asked for port 0; TCP takes the same one).
    public var localPort: Int? { boundPort.withLock { $0 } }

    public func run() async throws {
        let (datagrams, streams) = try await bind()
        let boundPort = datagrams.localAddress?.port ?? port
        self.boundPort.withLock { $0 = boundPort }
        logger.info("cluster DNS listening", metadata: ["address": "\(host):\(boundPort)", "protocols": "udp, tcp"])
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await datagrams.closeFuture.get()
            try await streams.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            datagrams.close(promise: nil)
            streams.close(promise: nil)
        }
    }

    /// UDP, then TCP on the same port. Asked for any port (tests), the UDP port may be taken
    /// for TCP: try another.
    func bind() async throws -> (datagrams: Channel, streams: Channel) {
        let responder = self.responder
        var attempt = 0
        while true {
            attempt += 1
            let datagrams = try await DatagramBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.so_reuseaddr), value: 1)
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(DNSChannelHandler(responder: responder))
                    }
                }
                .bind(host: host, port: port).get()
            do {
                let streams = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                    .childChannelInitializer { channel in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(DNSFrameDecoder()))
                            try channel.pipeline.syncOperations.addHandler(DNSStreamHandler(responder: responder))
                        }
                    }
                    .bind(host: host, port: datagrams.localAddress?.port ?? port).get()
                return (datagrams, streams)
            } catch {
                try? await datagrams.close()
                guard port == 0, attempt < 10 else { throw error }
            }
        }
    }
}

/// Turns one request datagram into its answer: from the cluster, or from upstream off the event
/// loop (a forwarded query blocks on the network).
final class DNSResponder: Sendable {
    let records: ClusterRecords
    let upstream: UpstreamResolvers
    let logger: Logger

    init(records: ClusterRecords, upstream: UpstreamResolvers, logger: Logger) {
        self.records = records
        self.upstream = upstream
        self.logger = logger
    }

    func respond(to request: [UInt8], reply: @escaping @Sendable ([UInt8]) -> Void) {
        let query: DNSQuery
        do {
            query = try DNSMessage.parseQuery(request)
        } catch {
            // Answer FORMERR when there is at least an id to answer to.
            if request.count >= 2 { reply(DNSMessage.failure(id: UInt16(request[0]) << 8 | UInt16(request[1]), code: .formatError)) }
            return
        }
        guard !query.isResponse else { return }
        guard query.opcode == 0 else {
            reply(DNSMessage.failure(id: query.id, code: .notImplemented))
            return
        }
        switch records.answer(query.name, type: query.type) {
        case .records(let answers):
            reply(DNSMessage.response(to: query, request: request, code: .noError, answers: answers))
        case .noData:
            reply(DNSMessage.response(to: query, request: request, code: .noError, answers: [], authority: [records.soa]))
        case .nameError:
            reply(DNSMessage.response(to: query, request: request, code: .nameError, answers: [], authority: [records.soa]))
        case .notOurs:
            let upstream = self.upstream
            let logger = self.logger
            DispatchQueue.global().async {
                if let answer = upstream.forward(request, id: query.id) {
                    reply(answer)
                } else {
                    logger.debug("no upstream answer", metadata: ["name": "\(query.name)"])
                    reply(DNSMessage.response(to: query, request: request, code: .serverFailure, answers: [], authoritative: false))
                }
            }
        }
    }
}

final class DNSChannelHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = AddressedEnvelope<ByteBuffer>
    typealias OutboundOut = AddressedEnvelope<ByteBuffer>
    let responder: DNSResponder

    init(responder: DNSResponder) { self.responder = responder }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let envelope = Self.unwrapInboundIn(data)
        let remote = envelope.remoteAddress
        let channel = context.channel
        responder.respond(to: Array(envelope.data.readableBytesView)) { answer in
            channel.writeAndFlush(AddressedEnvelope(remoteAddress: remote, data: ByteBuffer(bytes: answer)), promise: nil)
        }
    }
}

/// DNS over TCP: each message follows its two-byte length (RFC 1035 4.2.2).
struct DNSFrameDecoder: ByteToMessageDecoder {
    typealias InboundOut = ByteBuffer

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt16.self),
              let frame = buffer.getSlice(at: buffer.readerIndex + 2, length: Int(length)) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 2 + Int(length))
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }
}

final class DNSStreamHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = ByteBuffer
    let responder: DNSResponder

    init(responder: DNSResponder) { self.responder = responder }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let channel = context.channel
        responder.respond(to: Array(Self.unwrapInboundIn(data).readableBytesView)) { answer in
            var framed = ByteBuffer()
            framed.writeInteger(UInt16(clamping: answer.count))
            framed.writeBytes(answer.prefix(Int(UInt16.max)))
            channel.writeAndFlush(framed, promise: nil)
        }
    }
}
