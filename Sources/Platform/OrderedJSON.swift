import Foundation

/// JSON whose objects keep their key order, written compactly the way Go's encoder writes it
/// (no HTML escaping). API answers are printed verbatim by some clients (`docker inspect`), so the
/// order they show is the order built here.
public indirect enum OrderedJSON: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(String)
    case array([OrderedJSON])
    case object([(String, OrderedJSON)])

    public static func == (a: OrderedJSON, b: OrderedJSON) -> Bool { a.serialized() == b.serialized() }

    public static func strings(_ values: [String]?) -> OrderedJSON {
        values.map { .array($0.map(OrderedJSON.string)) } ?? .null
    }

    public static func int(_ value: Int) -> OrderedJSON { .int(Int64(value)) }

    /// Converts any value JSONSerialization produced; object keys are sorted for a stable order.
    public init(any value: Any?) {
        switch value {
        case nil, is NSNull: self = .null
        case let n as NSNumber:
            // JSONSerialization gives NSNumber for booleans too; their type encoding is "c".
            if String(cString: n.objCType) == "c" {
                self = .bool(n.boolValue)
            } else {
                let d = n.doubleValue
                self = d == d.rounded() && abs(d) < 9e15 ? .int(n.int64Value) : .double(d)
            }
        case let b as Bool: self = .bool(b)
        case let s as String: self = .string(s)
        case let a as [Any]: self = .array(a.map { OrderedJSON(any: $0) })
        case let o as [String: Any]: self = .object(o.keys.sorted().map { ($0, OrderedJSON(any: o[$0])) })
        default: self = .null
        }
    }

    /// Parses JSON text, keeping the order of object keys.
    public init(parsing bytes: [UInt8]) throws {
        var parser = OrderedJSONParser(bytes: bytes)
        self = try parser.parseDocument()
    }

    /// A member of an object; setting nil removes it, setting on a non-object makes it an object.
    public subscript(key: String) -> OrderedJSON? {
        get {
            if case .object(let pairs) = self { return pairs.first(where: { $0.0 == key })?.1 }
            return nil
        }
        set {
            var pairs: [(String, OrderedJSON)]
            if case .object(let existing) = self { pairs = existing } else { pairs = [] }
            if let index = pairs.firstIndex(where: { $0.0 == key }) {
                if let newValue { pairs[index].1 = newValue } else { pairs.remove(at: index) }
            } else if let newValue {
                pairs.append((key, newValue))
            }
            self = .object(pairs)
        }
    }

    /// The value at a path of object keys (`["metadata", "name"]`).
    public subscript(path path: [String]) -> OrderedJSON? {
        get {
            var current: OrderedJSON? = self
            for key in path { current = current?[key] }
            return current
        }
        set {
            guard let first = path.first else {
                if let newValue { self = newValue }
                return
            }
            if path.count == 1 {
                self[first] = newValue
                return
            }
            var child = self[first] ?? .object([])
            child[path: Array(path.dropFirst())] = newValue
            self[first] = child
        }
    }

    public var objectValue: [(String, OrderedJSON)]? { if case .object(let o) = self { return o } else { return nil } }
    public var isNull: Bool { if case .null = self { return true } else { return false } }

    /// Keys and string values of an object of strings (labels, annotations, selectors).
    public var stringMap: [String: String]? {
        guard case .object(let pairs) = self else { return nil }
        var map: [String: String] = [:]
        for (k, v) in pairs { if let s = v.stringValue { map[k] = s } }
        return map
    }

    public static func stringMap(_ map: [String: String]) -> OrderedJSON {
        .object(map.keys.sorted().map { ($0, .string(map[$0] ?? "")) })
    }

    public var stringValue: String? { if case .string(let s) = self { return s } else { return nil } }
    public var intValue: Int64? {
        switch self {
        case .int(let i): return i
        case .double(let d): return Int64(d)
        default: return nil
        }
    }
    public var arrayValue: [OrderedJSON]? { if case .array(let a) = self { return a } else { return nil } }
    public var boolValue: Bool? { if case .bool(let b) = self { return b } else { return nil } }

    public func serialized() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, indent: nil, level: 0, prefix: [])
        return String(decoding: out, as: UTF8.self)
    }

    /// The compact form as bytes (what goes on the wire and into the store).
    public func serializedBytes() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out, indent: nil, level: 0, prefix: [])
        return out
    }

    /// Indented like Go's json.MarshalIndent / `docker inspect` (`prefix`, `indent`).
    public func pretty(indent: String = "    ", prefix: String = "") -> String {
        var out: [UInt8] = []
        write(to: &out, indent: Array(indent.utf8), level: 0, prefix: Array(prefix.utf8))
        return String(decoding: out, as: UTF8.self)
    }

    private func write(to out: inout [UInt8], indent: [UInt8]?, level: Int, prefix: [UInt8]) {
        func newline(_ level: Int) {
            guard let indent else { return }
            out.append(10)
            out += prefix
            for _ in 0..<level { out += indent }
        }
        switch self {
        case .null: out += [110, 117, 108, 108]
        case .bool(let b): out += b ? Array("true".utf8) : Array("false".utf8)
        case .int(let i): out += Array(String(i).utf8)
        case .double(let d): out += Array((d.isFinite ? "\(d)" : "null").utf8)
        case .string(let s): Self.writeString(s, to: &out)
        case .array(let items):
            if items.isEmpty { out += [91, 93]; return }
            out.append(91)
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(44) }
                newline(level + 1)
                item.write(to: &out, indent: indent, level: level + 1, prefix: prefix)
            }
            newline(level)
            out.append(93)
        case .object(let pairs):
            if pairs.isEmpty { out += [123, 125]; return }
            out.append(123)
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out.append(44) }
                newline(level + 1)
                Self.writeString(key, to: &out)
                out.append(58)
                if indent != nil { out.append(32) }
                value.write(to: &out, indent: indent, level: level + 1, prefix: prefix)
            }
            newline(level)
            out.append(125)
        }
    }

    static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(34)
        var copy = s
        copy.withUTF8 { bytes in
            var i = 0
            while i < bytes.count {
                let b = bytes[i]
                switch b {
                case 34: out += [92, 34]
                case 92: out += [92, 92]
                case 10: out += [92, 110]
                case 13: out += [92, 114]
                case 9: out += [92, 116]
                case 0..<32:
                    let hex = Array("0123456789abcdef".utf8)
                    out += [92, 117, 48, 48, hex[Int(b >> 4)], hex[Int(b & 15)]]
                case 0xE2 where i + 2 < bytes.count && bytes[i + 1] == 0x80 && (bytes[i + 2] == 0xA8 || bytes[i + 2] == 0xA9):
                    // U+2028 and U+2029, which Go's encoder escapes.
                    out += [92, 117, 50, 48, 50, bytes[i + 2] == 0xA8 ? 56 : 57]
                    i += 2
                default: out.append(b)
                }
                i += 1
            }
        }
        out.append(34)
    }
}

public struct OrderedJSONParseError: Error, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at offset \(offset): \(reason)" }
}

/// A small recursive-descent JSON parser that keeps key order.
struct OrderedJSONParser {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func parseDocument() throws -> OrderedJSON {
        let value = try parseValue(depth: 0)
        skipSpace()
        guard i == bytes.count else { throw fail("trailing characters") }
        return value
    }

    func fail(_ reason: String) -> OrderedJSONParseError { OrderedJSONParseError(offset: i, reason: reason) }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 32 || bytes[i] == 9 || bytes[i] == 10 || bytes[i] == 13 { i += 1 }
    }

    mutating func expect(_ literal: String) throws {
        let l = Array(literal.utf8)
        guard i + l.count <= bytes.count, Array(bytes[i..<i + l.count]) == l else { throw fail("expected \(literal)") }
        i += l.count
    }

    mutating func parseValue(depth: Int) throws -> OrderedJSON {
        guard depth < 512 else { throw fail("nesting too deep") }
        skipSpace()
        guard i < bytes.count else { throw fail("unexpected end") }
        switch bytes[i] {
        case UInt8(ascii: "{"):
            i += 1
            var pairs: [(String, OrderedJSON)] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
            while true {
                skipSpace()
                guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected key") }
                let key = try parseString()
                skipSpace()
                try expect(":")
                pairs.append((key, try parseValue(depth: depth + 1)))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
                throw fail("expected , or }")
            }
        case UInt8(ascii: "["):
            i += 1
            var items: [OrderedJSON] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
            while true {
                items.append(try parseValue(depth: depth + 1))
                skipSpace()
                guard i < bytes.count else { throw fail("unexpected end") }
                if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
                if bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
                throw fail("expected , or ]")
            }
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expect("true"); return .bool(true)
        case UInt8(ascii: "f"): try expect("false"); return .bool(false)
        case UInt8(ascii: "n"): try expect("null"); return .null
        default: return try parseNumber()
        }
    }

    mutating func parseNumber() throws -> OrderedJSON {
        let start = i
        var isInteger = true
        while i < bytes.count {
            let c = bytes[i]
            if (c >= 48 && c <= 57) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") { i += 1; continue }
            if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { isInteger = false; i += 1; continue }
            break
        }
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        if isInteger, let value = Int64(text) { return .int(value) }
        guard let value = Double(text) else { throw fail("bad number") }
        return .double(value)
    }

    mutating func parseString() throws -> String {
        i += 1
        var out: [UInt8] = []
        while i < bytes.count {
            let c = bytes[i]
            i += 1
            if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
            guard c == UInt8(ascii: "\\") else { out.append(c); continue }
            guard i < bytes.count else { break }
            let e = bytes[i]
            i += 1
            switch e {
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "u"):
                var scalar = try hex4()
                if (0xD800..<0xDC00).contains(scalar), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u") {
                    i += 2
                    let low = try hex4()
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                }
                out.append(contentsOf: Array(String(Unicode.Scalar(scalar).map(Character.init) ?? "\u{FFFD}").utf8))
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
            default: throw fail("bad escape")
            }
        }
        throw fail("unterminated string")
    }

    mutating func hex4() throws -> UInt32 {
        guard i + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[i..<i + 4], as: UTF8.self), radix: 16) else {
            throw fail("bad \\u escape")
        }
        i += 4
        return v
    }
}
