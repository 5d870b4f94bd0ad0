/// SPDY/3.1 frames (draft 3.1): what Kubernetes' port-forward and the older exec and attach
/// speak, as moby/spdystream does on the client. Header names are lowercase; a header may carry
/// several values, joined with NUL on the wire.
public enum SPDYFrame: Sendable, Equatable {
    case synStream(streamID: UInt32, associatedTo: UInt32, priority: UInt8, flags: UInt8, headers: SPDYHeaders)
    case synReply(streamID: UInt32, flags: UInt8, headers: SPDYHeaders)
    case rstStream(streamID: UInt32, status: UInt32)
    case settings(flags: UInt8, entries: [SPDYSetting])
    case ping(id: UInt32)
    case goAway(lastGoodStreamID: UInt32, status: UInt32)
    case headers(streamID: UInt32, flags: UInt8, headers: SPDYHeaders)
    case windowUpdate(streamID: UInt32, delta: UInt32)
    case data(streamID: UInt32, flags: UInt8, payload: [UInt8])

    public static let flagFin: UInt8 = 0x01
    public static let flagUnidirectional: UInt8 = 0x02
    static let version: UInt16 = 3

    /// RST_STREAM status codes.
    public static let protocolError: UInt32 = 1
    public static let refusedStream: UInt32 = 3
    public static let cancel: UInt32 = 5
}

public struct SPDYSetting: Sendable, Equatable {
    public var flags: UInt8
    public var id: UInt32
    public var value: UInt32
}

public struct SPDYHeaders: Sendable, Equatable {
    /// Lowercase names, in wire order.
    public private(set) var fields: [(name: String, values: [String])] = []

    public init(_ pairs: [(String, String)] = []) {
        for (name, value) in pairs { add(name, value) }
    }

    public mutating func add(_ name: String, _ value: String) {
        let key = name.lowercased()
        if let index = fields.firstIndex(where: { $0.name == key }) {
            fields[index].values.append(value)
        } else {
            fields.append((key, [value]))
        }
    }

    public subscript(name: String) -> String? {
        let key = name.lowercased()
        return fields.first { $0.name == key }?.values.first
    }

    public static func == (a: SPDYHeaders, b: SPDYHeaders) -> Bool {
        a.fields.count == b.fields.count && zip(a.fields, b.fields).allSatisfy { $0.name == $1.name && $0.values == $1.values }
    }

    /// The uncompressed name/value block.
    func block() -> [UInt8] {
        var out = UInt32(fields.count).bigEndianBytes
        for field in fields {
            let name = Array(field.name.utf8)
            let value = Array(field.values.joined(separator: "\0").utf8)
            out += UInt32(name.count).bigEndianBytes + name + UInt32(value.count).bigEndianBytes + value
        }
        return out
    }

    init(block: [UInt8]) throws {
        var reader = ByteReader(block)
        let count = try reader.uint32()
        guard count <= 1024 else { throw SPDYError(message: "too many headers (\(count))") }
        for _ in 0..<count {
            let name = String(decoding: try reader.bytes(Int(try reader.uint32())), as: UTF8.self)
            let value = String(decoding: try reader.bytes(Int(try reader.uint32())), as: UTF8.self)
            for part in value.split(separator: "\0", omittingEmptySubsequences: false) { add(name, String(part)) }
        }
    }
}

public struct SPDYError: Error, CustomStringConvertible, Equatable {
    public let message: String
    public var description: String { "spdy: \(message)" }
}

/// Encodes frames; header blocks go through the connection's one compression stream, so frames
/// must be written in the order they were encoded.
public final class SPDYFrameEncoder {
    private let deflater: ZlibDeflater

    public init() throws {
        deflater = try ZlibDeflater(dictionary: SPDYDictionary.bytes)
    }

    public func encode(_ frame: SPDYFrame) throws -> [UInt8] {
        switch frame {
        case .data(let streamID, let flags, let payload):
            guard payload.count < 1 << 24 else { throw SPDYError(message: "data frame too large") }
            return (streamID & 0x7FFF_FFFF).bigEndianBytes + [flags] + UInt32(payload.count).bigEndianBytes.dropFirst() + payload
        case .synStream(let streamID, let associatedTo, let priority, let flags, let headers):
            return control(1, flags, streamID.bigEndianBytes + associatedTo.bigEndianBytes + [priority << 5, 0] + (try deflater.compress(headers.block())))
        case .synReply(let streamID, let flags, let headers):
            return control(2, flags, streamID.bigEndianBytes + (try deflater.compress(headers.block())))
        case .rstStream(let streamID, let status):
            return control(3, 0, streamID.bigEndianBytes + status.bigEndianBytes)
        case .settings(let flags, let entries):
            var body = UInt32(entries.count).bigEndianBytes
            for entry in entries { body += [entry.flags] + entry.id.bigEndianBytes.dropFirst() + entry.value.bigEndianBytes }
            return control(4, flags, body)
        case .ping(let id):
            return control(6, 0, id.bigEndianBytes)
        case .goAway(let lastGoodStreamID, let status):
            return control(7, 0, lastGoodStreamID.bigEndianBytes + status.bigEndianBytes)
        case .headers(let streamID, let flags, let headers):
            return control(8, flags, streamID.bigEndianBytes + (try deflater.compress(headers.block())))
        case .windowUpdate(let streamID, let delta):
            return control(9, 0, streamID.bigEndianBytes + delta.bigEndianBytes)
        }
    }

    private func control(_ type: UInt16, _ flags: UInt8, _ body: [UInt8]) -> [UInt8] {
        [0x80 | UInt8(SPDYFrame.version >> 8), UInt8(SPDYFrame.version & 0xFF), UInt8(type >> 8), UInt8(type & 0xFF), flags]
            + UInt32(body.count).bigEndianBytes.dropFirst() + body
    }
}

/// Decodes frames from bytes as they arrive, in any split. Unknown control frames are skipped,
/// as the protocol asks.
public final class SPDYFrameDecoder {
    private let inflater: ZlibInflater
    private var buffer: [UInt8] = []
    private var start = 0
    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int = 1 << 24) throws {
        inflater = try ZlibInflater(dictionary: SPDYDictionary.bytes)
        self.maxFrameBytes = maxFrameBytes
    }

    public func append(_ bytes: some Collection<UInt8>) {
        if start > 65536 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public func next() throws -> SPDYFrame? {
        while true {
            guard buffer.count - start >= 8 else { return nil }
            let header = Array(buffer[start..<(start + 8)])
            let length = Int(header[5]) << 16 | Int(header[6]) << 8 | Int(header[7])
            guard length <= maxFrameBytes else { throw SPDYError(message: "frame too large (\(length) bytes)") }
            guard buffer.count - start >= 8 + length else { return nil }
            let body = Array(buffer[(start + 8)..<(start + 8 + length)])
            start += 8 + length
            if start == buffer.count {
                buffer.removeAll(keepingCapacity: true)
                start = 0
            }
            let flags = header[4]
            if header[0] & 0x80 == 0 {
                let streamID = UInt32(header[0]) << 24 | UInt32(header[1]) << 16 | UInt32(header[2]) << 8 | UInt32(header[3])
                return .data(streamID: streamID, flags: flags, payload: body)
            }
            let version = UInt16(header[0] & 0x7F) << 8 | UInt16(header[1])
            guard version == SPDYFrame.version else { throw SPDYError(message: "unsupported version \(version)") }
            if let frame = try control(type: UInt16(header[2]) << 8 | UInt16(header[3]), flags: flags, body: body) { return frame }
        }
    }

    private func control(type: UInt16, flags: UInt8, body: [UInt8]) throws -> SPDYFrame? {
        var reader = ByteReader(body)
        switch type {
        case 1:
            let streamID = try reader.uint32() & 0x7FFF_FFFF
            let associated = try reader.uint32() & 0x7FFF_FFFF
            let priority = try reader.bytes(2)[0] >> 5
            let headers = try SPDYHeaders(block: inflater.decompress(reader.rest()))
            return .synStream(streamID: streamID, associatedTo: associated, priority: priority, flags: flags, headers: headers)
        case 2:
            let streamID = try reader.uint32() & 0x7FFF_FFFF
            return .synReply(streamID: streamID, flags: flags, headers: try SPDYHeaders(block: inflater.decompress(reader.rest())))
        case 3:
            return .rstStream(streamID: try reader.uint32() & 0x7FFF_FFFF, status: try reader.uint32())
        case 4:
            let count = try reader.uint32()
            var entries: [SPDYSetting] = []
            for _ in 0..<min(count, 64) {
                let word = try reader.uint32()
                entries.append(SPDYSetting(flags: UInt8(word >> 24), id: word & 0xFF_FFFF, value: try reader.uint32()))
            }
            return .settings(flags: flags, entries: entries)
        case 6:
            return .ping(id: try reader.uint32())
        case 7:
            return .goAway(lastGoodStreamID: try reader.uint32() & 0x7FFF_FFFF, status: body.count >= 8 ? try reader.uint32() : 0)
        case 8:
            let streamID = try reader.uint32() & 0x7FFF_FFFF
            return .headers(streamID: streamID, flags: flags, headers: try SPDYHeaders(block: inflater.decompress(reader.rest())))
        case 9:
            return .windowUpdate(streamID: try reader.uint32() & 0x7FFF_FFFF, delta: try reader.uint32() & 0x7FFF_FFFF)
        default:
            return nil
        }
    }
}

struct ByteReader {
    let bytes: [UInt8]
    var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func uint32() throws -> UInt32 {
        let b = try self.bytes(4)
        return UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, offset + count <= bytes.count else { throw SPDYError(message: "truncated frame") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func rest() -> [UInt8] {
        defer { offset = bytes.count }
        return Array(bytes[offset...])
    }
}

extension UInt32 {
    var bigEndianBytes: [UInt8] { [UInt8(self >> 24), UInt8(self >> 16 & 0xFF), UInt8(self >> 8 & 0xFF), UInt8(self & 0xFF)] }
}
