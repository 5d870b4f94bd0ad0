/// Docker's multiplexed stream framing (stdcopy), used on attach, exec and logs when the
/// container has no terminal: an 8-byte header (stream type, three zero bytes, big-endian
/// payload length) before each payload. With a terminal the bytes go raw.
public enum StreamFraming {
    public enum Kind: UInt8, Sendable {
        case stdin = 0, stdout = 1, stderr = 2, systemError = 3
    }

    public static func frame(_ kind: Kind, _ payload: [UInt8]) -> [UInt8] {
        let length = UInt32(payload.count)
        return [kind.rawValue, 0, 0, 0, UInt8(length >> 24), UInt8(length >> 16 & 0xff), UInt8(length >> 8 & 0xff), UInt8(length & 0xff)]
            + payload
    }

    /// Reassembles frames from a byte stream that may split them anywhere.
    public struct Decoder: Sendable {
        private var buffer: [UInt8] = []

        public init() {}

        public enum DecodeError: Error, Equatable, CustomStringConvertible {
            case unrecognizedHeader(UInt8)
            public var description: String {
                switch self {
                case .unrecognizedHeader(let kind): return "Unrecognized input header: \(kind)"
                }
            }
        }

        /// Feeds bytes; returns the frames completed so far.
        public mutating func feed(_ bytes: some Sequence<UInt8>) throws -> [(Kind, [UInt8])] {
            buffer.append(contentsOf: bytes)
            var frames: [(Kind, [UInt8])] = []
            var offset = 0
            while buffer.count - offset >= 8 {
                guard let kind = Kind(rawValue: buffer[offset]) else { throw DecodeError.unrecognizedHeader(buffer[offset]) }
                let length = Int(buffer[offset + 4]) << 24 | Int(buffer[offset + 5]) << 16 | Int(buffer[offset + 6]) << 8 | Int(buffer[offset + 7])
                guard buffer.count - offset - 8 >= length else { break }
                frames.append((kind, Array(buffer[(offset + 8)..<(offset + 8 + length)])))
                offset += 8 + length
            }
            buffer.removeFirst(offset)
            return frames
        }
    }
}
