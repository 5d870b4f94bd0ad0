import HTTPServer
import KubeStreams
import NIOCore
import Synchronization

/// Bytes from the client of an upgraded connection, chunk by chunk; nil at its end.
protocol ByteSource {
    mutating func next() async throws -> [UInt8]?
}

/// Where a session's bytes go: queued in call order, completing once written.
typealias ByteSink = @Sendable ([UInt8]) -> EventLoopFuture<Void>

/// The raw connection after the 101.
struct RawByteSource: ByteSource {
    var inbound: AsyncStream<ByteBuffer>.AsyncIterator

    init(_ connection: UpgradedConnection) {
        inbound = connection.inbound.makeAsyncIterator()
    }

    mutating func next() async throws -> [UInt8]? {
        guard let buffer = await inbound.next() else { return nil }
        return Array(buffer.readableBytesView)
    }
}

/// Our side of a WebSocket: frames queued in order; the close frame sent once.
final class WebSocketOutput: Sendable {
    let connection: UpgradedConnection
    private let closeSent = Mutex(false)

    init(_ connection: UpgradedConnection) {
        self.connection = connection
    }

    func send(_ opcode: WebSocket.Opcode, _ payload: [UInt8]) async throws {
        try await queue(opcode, payload).get()
    }

    func queue(_ opcode: WebSocket.Opcode, _ payload: [UInt8]) -> EventLoopFuture<Void> {
        connection.queue(WebSocket.frame(opcode, payload))
    }

    /// Sends a close frame unless one went already.
    func close(code: UInt16 = WebSocket.normalClosure) async {
        let first = closeSent.withLock { sent in
            defer { sent = true }
            return !sent
        }
        if first { try? await connection.queue(WebSocket.closeFrame(code: code)).get() }
    }
}

/// The client's data messages; pings are answered, and a close is answered and ends the input.
struct WebSocketInput {
    private var source: RawByteSource
    private var reader = WebSocketReader()
    let output: WebSocketOutput

    init(_ connection: UpgradedConnection, output: WebSocketOutput) {
        source = RawByteSource(connection)
        self.output = output
    }

    /// The next binary or text message; nil when the client closed.
    mutating func next() async throws -> WebSocketMessage? {
        while true {
            do {
                while let message = try reader.next() {
                    switch message {
                    case .ping(let payload): _ = output.queue(.pong, payload)
                    case .pong: continue
                    case .close:
                        await output.close()
                        return nil
                    case .binary, .text: return message
                    }
                }
            } catch {
                await output.close(code: WebSocket.protocolError)
                throw error
            }
            guard let chunk = try await source.next() else { return nil }
            reader.append(chunk)
        }
    }
}

/// SPDY tunnelled in WebSocket binary messages (kubectl 1.30+ port-forward): the message
/// boundaries mean nothing, the payloads are one byte stream.
struct WebSocketTunnelSource: ByteSource {
    var input: WebSocketInput

    mutating func next() async throws -> [UInt8]? {
        while let message = try await input.next() {
            if case .binary(let bytes) = message { return bytes }
        }
        return nil
    }
}
