import CCrypto

/// RFC 6455: the handshake's keys, frames, and messages reassembled from fragments. Client frames
/// must be masked; the server's are not.
public enum WebSocket {
    public enum Opcode: UInt8, Sendable {
        case continuation = 0x0, text = 0x1, binary = 0x2, close = 0x8, ping = 0x9, pong = 0xA

        var isControl: Bool { rawValue & 0x8 != 0 }
    }

    public static let normalClosure: UInt16 = 1000
    public static let protocolError: UInt16 = 1002

    /// `Sec-WebSocket-Accept`: base64(SHA-1(key + the RFC's GUID)).
    public static func acceptKey(for key: String) -> String {
        let input = Array((key.trimmingWhitespace + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)
        var digest = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        _ = input.withUnsafeBufferPointer { EVP_Digest($0.baseAddress, $0.count, &digest, &length, EVP_sha1(), nil) }
        return base64(digest)
    }

    /// The first of the server's subprotocols that the client offered (`Sec-WebSocket-Protocol`
    /// values, comma-separated, possibly in several headers).
    public static func negotiate(offered headerValues: [String], supported: [String]) -> String? {
        let offered = headerValues.flatMap { $0.split(separator: ",") }.map { String($0).trimmingWhitespace }
        return supported.first { offered.contains($0) }
    }

    /// One unmasked frame as the server sends it.
    public static func frame(_ opcode: Opcode, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode.rawValue]
        out.reserveCapacity(payload.count + 10)
        switch payload.count {
        case 0..<126:
            out.append(UInt8(payload.count))
        case 126...0xFFFF:
            out += [126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)]
        default:
            out.append(127)
            let count = UInt64(payload.count)
            for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(count >> UInt64(shift) & 0xFF)) }
        }
        return out + payload
    }

    public static func closeFrame(code: UInt16, reason: String = "") -> [UInt8] {
        frame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)] + Array(reason.utf8))
    }

    /// One frame as a client sends it: masked with `mask` (four bytes, fresh per frame).
    public static func maskedFrame(_ opcode: Opcode, _ payload: [UInt8], mask: [UInt8]) -> [UInt8] {
        precondition(mask.count == 4, "a WebSocket mask is four bytes")
        // The length forms are the server's; only the mask bit and the key differ.
        let lengthForm = frame(opcode, payload)
        let headerLength = lengthForm.count - payload.count
        var out = Array(lengthForm[0..<headerLength])
        out[1] |= 0x80
        out += mask
        out.reserveCapacity(headerLength + 4 + payload.count)
        for (index, byte) in payload.enumerated() { out.append(byte ^ mask[index & 3]) }
        return out
    }

    /// A client frame with a random mask, as RFC 6455 requires.
    public static func clientFrame(_ opcode: Opcode, _ payload: [UInt8]) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let word = generator.next() as UInt32
        return maskedFrame(opcode, payload, mask: [UInt8(word >> 24), UInt8(word >> 16 & 0xFF), UInt8(word >> 8 & 0xFF), UInt8(word & 0xFF)])
    }

    public static func clientCloseFrame(code: UInt16) -> [UInt8] {
        clientFrame(.close, [UInt8(code >> 8), UInt8(code & 0xFF)])
    }

    /// A fresh `Sec-WebSocket-Key`: 16 random bytes in base64.
    public static func clientKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let table = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var index = 0
        while index < bytes.count {
            let b0 = bytes[index], b1 = index + 1 < bytes.count ? bytes[index + 1] : 0, b2 = index + 2 < bytes.count ? bytes[index + 2] : 0
            out.append(table[Int(b0 >> 2)])
            out.append(table[Int((b0 & 0x03) << 4 | b1 >> 4)])
            out.append(index + 1 < bytes.count ? table[Int((b1 & 0x0F) << 2 | b2 >> 6)] : "=")
            out.append(index + 2 < bytes.count ? table[Int(b2 & 0x3F)] : "=")
            index += 3
        }
        return out
    }
}

public struct WebSocketError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { "websocket: \(message)" }
}

/// What a client sent: data messages reassembled from their fragments, and control frames as
/// they come (they may arrive between fragments).
public enum WebSocketMessage: Sendable, Equatable {
    case binary([UInt8])
    case text([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    /// The close code (nil when the frame carried none) and reason.
    case close(UInt16?, String)
}

/// Decodes frames from bytes as they arrive, in any split: the client's (masked) on a server,
/// the server's (unmasked) on a client.
public struct WebSocketReader: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    private var fragments: [UInt8] = []
    private var fragmentedOpcode: WebSocket.Opcode?
    public let maxMessageBytes: Int
    /// Whose frames these are: a client's must be masked, a server's must not be.
    public let readsClientFrames: Bool

    public init(maxMessageBytes: Int = 16 << 20, readsClientFrames: Bool = true) {
        self.maxMessageBytes = maxMessageBytes
        self.readsClientFrames = readsClientFrames
    }

    public mutating func append(_ bytes: some Collection<UInt8>) {
        if start > 65536 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete message, or nil until more bytes arrive.
    public mutating func next() throws -> WebSocketMessage? {
        while true {
            guard let (fin, opcode, payload) = try nextFrame() else { return nil }
            switch opcode {
            case .ping: return .ping(payload)
            case .pong: return .pong(payload)
            case .close:
                guard payload.count >= 2 else { return .close(nil, "") }
                return .close(UInt16(payload[0]) << 8 | UInt16(payload[1]), String(decoding: payload[2...], as: UTF8.self))
            case .continuation:
                guard let first = fragmentedOpcode else { throw WebSocketError(message: "continuation frame without a message") }
                fragments += payload
                guard fragments.count <= maxMessageBytes else { throw WebSocketError(message: "message too large") }
                if fin {
                    let message = fragments
                    fragments = []
                    fragmentedOpcode = nil
                    return first == .text ? .text(message) : .binary(message)
                }
            case .text, .binary:
                guard fragmentedOpcode == nil else { throw WebSocketError(message: "data frame inside a fragmented message") }
                if fin { return opcode == .text ? .text(payload) : .binary(payload) }
                fragmentedOpcode = opcode
                fragments = payload
            }
        }
    }

    private mutating func nextFrame() throws -> (Bool, WebSocket.Opcode, [UInt8])? {
        let available = buffer.count - start
        guard available >= 2 else { return nil }
        let b0 = buffer[start], b1 = buffer[start + 1]
        guard b0 & 0x70 == 0 else { throw WebSocketError(message: "reserved bits set") }
        guard let opcode = WebSocket.Opcode(rawValue: b0 & 0x0F) else { throw WebSocketError(message: "unknown opcode \(b0 & 0x0F)") }
        let fin = b0 & 0x80 != 0
        let masked = b1 & 0x80 != 0
        guard masked == readsClientFrames else {
            throw WebSocketError(message: readsClientFrames ? "client frame is not masked" : "server frame is masked")
        }
        let maskLength = masked ? 4 : 0
        var length = Int(b1 & 0x7F)
        var offset = 2
        if length == 126 {
            guard available >= 4 else { return nil }
            length = Int(buffer[start + 2]) << 8 | Int(buffer[start + 3])
            offset = 4
        } else if length == 127 {
            guard available >= 10 else { return nil }
            var value: UInt64 = 0
            for i in 0..<8 { value = value << 8 | UInt64(buffer[start + 2 + i]) }
            guard value <= UInt64(maxMessageBytes) else { throw WebSocketError(message: "frame too large") }
            length = Int(value)
            offset = 10
        }
        if opcode.isControl && (length > 125 || !fin) { throw WebSocketError(message: "invalid control frame") }
        guard length <= maxMessageBytes else { throw WebSocketError(message: "frame too large") }
        guard available >= offset + maskLength + length else { return nil }
        let payloadStart = start + offset + maskLength
        var payload = Array(buffer[payloadStart..<(payloadStart + length)])
        if masked {
            let mask = Array(buffer[(start + offset)..<payloadStart])
            for i in payload.indices { payload[i] ^= mask[i & 3] }
        }
        start = payloadStart + length
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        return (fin, opcode, payload)
    }
}

extension String {
    var trimmingWhitespace: String {
        var view = Substring(self)
        while let first = view.first, first == " " || first == "\t" { view.removeFirst() }
        while let last = view.last, last == " " || last == "\t" { view.removeLast() }
        return String(view)
    }
}
