import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import ServiceLifecycle
import Synchronization
import Glibc

/// An HTTP/1.1 server (keep-alive, pipelining, chunked streaming) on a unix socket or TCP,
/// run as a `Service`: it binds in `run()` and closes its listener and connections on shutdown.
public final class HTTPServer: Service, Sendable {
    public enum Address: Sendable, CustomStringConvertible {
        case unix(path: String, mode: mode_t)
        case tcp(host: String, port: Int)
        /// TCP with TLS from a PEM certificate chain and key.
        case tls(host: String, port: Int, certificatePath: String, keyPath: String)

        public var description: String {
            switch self {
            case .unix(let path, _): return "unix://\(path)"
            case .tcp(let host, let port): return "\(host):\(port)"
            case .tls(let host, let port, _, _): return "https://\(host):\(port)"
            }
        }
    }

    public let address: Address
    let responder: HTTPResponder
    let logger: Logger
    let maxBodyBytes: Int
    let spool: BodySpool?
    private let connections = Mutex<[ObjectIdentifier: Channel]>([:])
    private let ready = Mutex<[CheckedContinuation<Void, Error>]>([])
    private let bound = Mutex<Bool>(false)

    /// `maxBodyBytes` bounds the bodies held in memory; those `spool` picks go to files instead,
    /// up to its own limit.
    public init(address: Address, responder: HTTPResponder, logger: Logger, maxBodyBytes: Int = 256 << 20, spool: BodySpool? = nil) {
        self.address = address
        self.responder = responder
        self.logger = logger
        self.maxBodyBytes = maxBodyBytes
        self.spool = spool
    }

    public func run() async throws {
        let responder = self.responder
        let logger = self.logger
        let maxBodyBytes = self.maxBodyBytes
        let spool = self.spool
        var tls: NIOSSLContext?
        if case .tls(_, _, let certificatePath, let keyPath) = address {
            let configuration = TLSConfiguration.makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem)))
            tls = try NIOSSLContext(configuration: configuration)
        }
        let tlsContext = tls
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { [weak self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let operations = channel.pipeline.syncOperations
                    if let tlsContext {
                        try operations.addHandler(NIOSSLServerHandler(context: tlsContext))
                    }
                    // configureHTTPServerPipeline's handlers, added one by one: an upgrade removes them
                    // again, and the decoder then forwards any bytes that followed the request.
                    try operations.addHandler(HTTPResponseEncoder())
                    try operations.addHandler(ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .forwardBytes)))
                    try operations.addHandler(HTTPServerPipelineHandler())
                    try operations.addHandler(HTTPServerProtocolErrorHandler())
                    try operations.addHandler(
                        HTTPConnectionHandler(responder: responder, logger: logger, maxBodyBytes: maxBodyBytes, spool: spool))
                    self?.track(channel)
                }
            }
        let server: Channel
        switch address {
        case .unix(let path, let mode):
            server = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            guard chmod(path, mode) == 0 else {
                try? await server.close()
                throw HTTPServerError(message: "chmod \(path): \(String(cString: strerror(errno)))")
            }
        case .tcp(let host, let port), .tls(let host, let port, _, _):
            server = try await bootstrap.bind(host: host, port: port).get()
        }
        logger.info("listening", metadata: ["address": "\(address)"])
        markReady()
        // Closing the listener ends the wait, on graceful shutdown and on cancellation alike.
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await server.closeFuture.get()
        } onCancelOrGracefulShutdown: {
            server.close(promise: nil)
        }
        closeConnections()
        if case .unix(let path, _) = address { unlink(path) }
    }

    /// Returns once the listener is bound (for composing start-up order and for tests).
    public func waitUntilReady() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
            let isBound = bound.withLock { $0 }
            if isBound {
                continuation.resume()
            } else {
                ready.withLock { $0.append(continuation) }
            }
        }
    }

    private func markReady() {
        bound.withLock { $0 = true }
        for continuation in ready.withLock({ waiters in defer { waiters = [] }; return waiters }) {
            continuation.resume()
        }
    }

    private func track(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        connections.withLock { $0[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.connections.withLock { _ = $0.removeValue(forKey: id) }
        }
    }

    private func closeConnections() {
        for channel in connections.withLock({ Array($0.values) }) { channel.close(promise: nil) }
    }
}

public struct HTTPServerError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}

/// Collects each request and hands it to the responder; writes the answer, streaming if asked.
final class HTTPConnectionHandler: ChannelInboundHandler, RemovableChannelHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let responder: HTTPResponder
    let logger: Logger
    let maxBodyBytes: Int
    let spool: BodySpool?
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()
    private var spooled: SpooledBody?
    private var tooLarge = false
    /// The request asked for an upgrade: the client may half-close once it has read our 101.
    private var upgradeRequested = false
    /// The client half-closed (seen only on connections that asked for an upgrade).
    private(set) var inputClosed = false

    init(responder: HTTPResponder, logger: Logger, maxBodyBytes: Int, spool: BodySpool?) {
        self.responder = responder
        self.logger = logger
        self.maxBodyBytes = maxBodyBytes
        self.spool = spool
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body = context.channel.allocator.buffer(capacity: 0)
            tooLarge = false
            spooled?.discard()
            spooled = nil
            if let spool, spool.wants(head) {
                do {
                    spooled = try SpooledBody(in: spool)
                } catch {
                    // Held in memory instead, within the usual limit.
                    logger.warning("cannot spool a request body", metadata: ["error": "\(error)"])
                }
            }
            if head.headers.contains(name: "Upgrade") {
                // Set before any answer goes out, so that a half-close right after our 101 (the
                // docker CLI's, when it has no stdin to send) does not close the connection.
                upgradeRequested = true
                try? context.channel.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
            }
        case .body(var chunk):
            if var file = spooled {
                if let spool, file.size + Int64(chunk.readableBytes) > spool.maxBytes {
                    tooLarge = true
                } else if !tooLarge {
                    file.append(chunk)
                }
                spooled = file
            } else if body.readableBytes + chunk.readableBytes > maxBodyBytes {
                tooLarge = true
            } else {
                body.writeBuffer(&chunk)
            }
        case .end:
            guard let head else { return }
            self.head = nil
            let channel = context.channel
            // An upgrade request answered normally (an error) ends the connection.
            let keepAlive = head.isKeepAlive && !upgradeRequested
            let version = head.version
            let logger = self.logger
            var request = HTTPServerRequest(method: head.method, uri: head.uri, headers: head.headers, body: body)
            if var file = spooled {
                spooled = nil
                if let failure = file.failure {
                    logger.error("spooling a request body failed", metadata: ["error": "\(failure)"])
                    file.discard()
                    let response = HTTPServerResponse(status: .internalServerError, headers: HTTPHeaders([("Content-Type", "text/plain")]),
                                                      body: .bytes(ByteBuffer(string: "cannot keep the request body: \(failure)\n")))
                    Task { await Self.write(response, to: channel, version: version, keepAlive: false, logger: logger) }
                    return
                }
                file.finish()
                if tooLarge { file.discard() } else { request.bodyFile = file.path }
            }
            if tooLarge {
                request.body = ByteBuffer()
                request.bodyExceededLimit = true
            }
            let responder = self.responder
            Task {
                let response = await responder.respond(to: request)
                await Self.write(response, to: channel, version: version, keepAlive: keepAlive && !request.bodyExceededLimit, logger: logger)
                if let file = request.bodyFile { unlink(file) }
            }
        }
    }

    static func write(_ response: HTTPServerResponse, to channel: Channel, version: HTTPVersion, keepAlive: Bool, logger: Logger) async {
        var headers = response.headers
        if !keepAlive { headers.replaceOrAdd(name: "Connection", value: "close") }
        do {
            switch response.body {
            case .bytes(let buffer):
                headers.replaceOrAdd(name: "Content-Length", value: "\(buffer.readableBytes)")
                channel.write(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: response.status, headers: headers)), promise: nil)
                if buffer.readableBytes > 0 {
                    channel.write(HTTPServerResponsePart.body(.byteBuffer(buffer)), promise: nil)
                }
                try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
            case .stream(let producer):
                headers.remove(name: "Content-Length")
                try await channel.writeAndFlush(HTTPServerResponsePart.head(HTTPResponseHead(version: version, status: response.status, headers: headers))).get()
                try await producer(HTTPBodyWriter(channel: channel))
                try await channel.writeAndFlush(HTTPServerResponsePart.end(nil)).get()
            case .upgrade(let session):
                headers.remove(name: "Content-Length")
                headers.remove(name: "Connection")
                headers.add(name: "Connection", value: "Upgrade")
                // The 101 and the switch to raw bytes happen in one event-loop turn: what the client
                // sends once it has read the 101 can only reach the raw stream.
                let head = HTTPResponseHead(version: version, status: .switchingProtocols, headers: headers)
                let inbound = try await channel.eventLoop.submit {
                    channel.writeAndFlush(HTTPServerResponsePart.head(head), promise: nil)
                    return try Self.becomeRaw(channel)
                }.get()
                defer { channel.close(promise: nil) }
                try await session(UpgradedConnection(inbound: inbound, channel: channel))
                return
            }
            if !keepAlive { try await channel.close() }
        } catch {
            // The client went away (docker run -d abandons its wait, logs -f is interrupted): not an error of ours.
            logger.debug("response not completed", metadata: ["error": "\(error)"])
            try? await channel.close()
        }
    }

    /// Takes the HTTP handlers out of the pipeline and streams what the client sends. The
    /// decoder goes last: bytes it read past the request reach the stream, then the half-close
    /// if it came already.
    static func becomeRaw(_ channel: Channel) throws -> AsyncStream<ByteBuffer> {
        let operations = channel.pipeline.syncOperations
        _ = operations.removeHandler(try operations.handler(type: HTTPServerPipelineHandler.self))
        _ = operations.removeHandler(try operations.handler(type: HTTPServerProtocolErrorHandler.self))
        let connectionHandler = try operations.handler(type: HTTPConnectionHandler.self)
        _ = operations.removeHandler(connectionHandler)
        _ = operations.removeHandler(try operations.handler(type: HTTPResponseEncoder.self))
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        try operations.addHandler(RawInboundHandler(continuation: continuation))
        _ = operations.removeHandler(try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self))
        if connectionHandler.inputClosed { continuation.finish() }
        channel.read()
        return stream
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event {
            inputClosed = true
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A client gone mid-upload leaves no file behind.
    func handlerRemoved(context: ChannelHandlerContext) {
        spooled?.discard()
        spooled = nil
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        logger.debug("connection error", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

/// After an upgrade: what the client sends, into an async stream that ends at its half-close.
final class RawInboundHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer

    let continuation: AsyncStream<ByteBuffer>.Continuation

    init(continuation: AsyncStream<ByteBuffer>.Continuation) {
        self.continuation = continuation
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(unwrapInboundIn(data))
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, case .inputClosed = event { continuation.finish() }
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        continuation.finish()
        context.close(promise: nil)
    }
}
