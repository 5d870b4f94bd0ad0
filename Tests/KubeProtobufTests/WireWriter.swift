/// A minimal protobuf writer, to build the bodies the tests decode by hand, byte by byte.
final class WireWriter {
    var bytes: [UInt8] = []

    func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    func tag(_ field: Int, _ wireType: Int) { varint(UInt64(field) << 3 | UInt64(wireType)) }

    @discardableResult
    func varint(_ field: Int, _ value: UInt64) -> WireWriter {
        tag(field, 0)
        varint(value)
        return self
    }

    @discardableResult
    func int(_ field: Int, _ value: Int64) -> WireWriter { varint(field, UInt64(bitPattern: value)) }

    @discardableResult
    func bytes(_ field: Int, _ value: [UInt8]) -> WireWriter {
        tag(field, 2)
        varint(UInt64(value.count))
        bytes += value
        return self
    }

    @discardableResult
    func string(_ field: Int, _ value: String) -> WireWriter { bytes(field, Array(value.utf8)) }

    @discardableResult
    func message(_ field: Int, _ build: (WireWriter) -> Void) -> WireWriter {
        let inner = WireWriter()
        build(inner)
        return bytes(field, inner.bytes)
    }

    /// One map entry (key = 1, value = 2) of a map<string, string> field.
    @discardableResult
    func entry(_ field: Int, _ key: String, _ value: String) -> WireWriter {
        message(field) { $0.string(1, key).string(2, value) }
    }

    func fixed32(_ field: Int, _ value: UInt32) {
        tag(field, 5)
        for i in 0..<4 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt32(i)))) }
    }

    func fixed64(_ field: Int, _ value: UInt64) {
        tag(field, 1)
        for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))) }
    }

    /// `k8s\0` and a runtime.Unknown around `object`, laid out as client-go writes it (empty
    /// contentEncoding and contentType after the raw bytes).
    static func envelope(apiVersion: String?, kind: String?, _ object: [UInt8]) -> [UInt8] {
        let unknown = WireWriter()
        if apiVersion != nil || kind != nil {
            unknown.message(1) { typeMeta in
                if let apiVersion { typeMeta.string(1, apiVersion) }
                if let kind { typeMeta.string(2, kind) }
            }
        }
        unknown.bytes(2, object).string(3, "").string(4, "")
        return [0x6B, 0x38, 0x73, 0x00] + unknown.bytes
    }

    static func object(_ build: (WireWriter) -> Void) -> [UInt8] {
        let writer = WireWriter()
        build(writer)
        return writer.bytes
    }
}
