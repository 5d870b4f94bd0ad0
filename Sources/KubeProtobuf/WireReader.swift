/// Protobuf wire primitives read from a range of a byte array; every read checks the range, so a
/// truncated or lying body ends in an error, never out of bounds.
struct WireReader {
    enum WireType: Int {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8], _ range: Range<Int>) {
        self.bytes = bytes
        offset = range.lowerBound
        end = range.upperBound
    }

    var isAtEnd: Bool { offset >= end }

    mutating func varint() throws(WireError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard shift < 64 else { throw .integerOverflow }
            guard offset < end else { throw .unexpectedEOF }
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
        }
    }

    /// A field key: its number and wire type (which may be one protobuf does not define).
    mutating func tag() throws(WireError) -> (field: Int, wireType: Int) {
        let key = try varint()
        // Field numbers are 29 bits; a larger key is as illegal as field 0.
        let field = key >> 3 > UInt64(Int32.max) ? 0 : Int(key >> 3)
        return (field, Int(key & 7))
    }

    mutating func fixed32() throws(WireError) -> UInt32 {
        guard end - offset >= 4 else { throw .unexpectedEOF }
        var value: UInt32 = 0
        for i in 0..<4 { value |= UInt32(bytes[offset + i]) << (8 * UInt32(i)) }
        offset += 4
        return value
    }

    mutating func fixed64() throws(WireError) -> UInt64 {
        guard end - offset >= 8 else { throw .unexpectedEOF }
        var value: UInt64 = 0
        for i in 0..<8 { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += 8
        return value
    }

    /// The range of a length-delimited value (string, bytes, message, packed run).
    mutating func lengthDelimited() throws(WireError) -> Range<Int> {
        let length = try varint()
        // Go converts the length to int: one past Int.max comes out negative.
        guard length <= UInt64(Int.max) else { throw .negativeLength }
        guard Int(length) <= end - offset else { throw .unexpectedEOF }
        let range = offset..<offset + Int(length)
        offset = range.upperBound
        return range
    }

    /// Skips a field whose tag was just read, groups included (gogo's skipGenerated).
    mutating func skip(wireType: Int) throws(WireError) {
        var wireType = wireType
        var depth = 0
        while true {
            switch WireType(rawValue: wireType) {
            case .varint: _ = try varint()
            case .fixed64: _ = try fixed64()
            case .lengthDelimited: _ = try lengthDelimited()
            case .startGroup: depth += 1
            case .endGroup:
                guard depth > 0 else { throw .unexpectedEndOfGroup }
                depth -= 1
            case .fixed32: _ = try fixed32()
            case nil: throw .illegalWireType(wireType)
            }
            if depth == 0 { return }
            wireType = try tag().wireType
        }
    }
}
