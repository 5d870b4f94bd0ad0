import Foundation
import Platform

/// Decodes protobuf messages of the schema into the JSON Go writes for the same object: fields in
/// declaration order, zero `omitempty` scalars left out, maps sorted by key, `bytes` in base64, and
/// Kubernetes' own types (Time, IntOrString, Quantity, …) in their JSON forms.
struct MessageDecoder {
    let bytes: [UInt8]

    /// Nesting the served kinds never come near; it bounds the recursion on hostile input.
    static let maxDepth = 64

    func decode(_ name: String, _ range: Range<Int>, depth: Int = 0) throws(WireError) -> OrderedJSON {
        guard depth < Self.maxDepth else { throw .tooDeep }
        guard let message = ProtobufSchema.message(named: name) else {
            // The generator only emits schemas whose every message type is in the table.
            throw WireError(reason: "proto: no schema for message \(name)")
        }
        let values = try collect(message, range, depth: depth)
        if let wellKnown = WellKnownType(rawValue: name) {
            return try wellKnown.json(values, message: message, isEmpty: range.isEmpty, decoder: self)
        }
        return .object(try pairs(message, values, depth: depth))
    }

    /// What the wire held for each field of a message (by position), before it becomes JSON.
    enum Value {
        /// A singular scalar: the last occurrence wins, as in every protobuf decoder.
        case scalar(OrderedJSON, isZero: Bool, bytes: Range<Int>?)
        case list([OrderedJSON])
        /// A singular message; several occurrences merge, which is what decoding them in a row does.
        case message([Range<Int>])
        case entries([(key: String, value: OrderedJSON)])
    }

    func collect(_ indexed: IndexedMessage, _ range: Range<Int>, depth: Int) throws(WireError) -> [Value?] {
        let message = indexed.message
        var values = [Value?](repeating: nil, count: message.fields.count)
        var reader = WireReader(bytes, range)
        while !reader.isAtEnd {
            let (number, wireType) = try reader.tag()
            guard number > 0 else { throw .illegalTag(message: message.name, field: number, wireType: wireType) }
            if wireType == WireReader.WireType.endGroup.rawValue { throw .endGroup(message: message.name) }
            guard let position = indexed.positions[number] else {
                try reader.skip(wireType: wireType)
                continue
            }
            let field = message.fields[position]
            switch field.type {
            case .map(let keyType, let valueType):
                guard wireType == WireReader.WireType.lengthDelimited.rawValue else { throw .wrongWireType(wireType, field: field.name) }
                let entry = try mapEntry(try reader.lengthDelimited(), keyType: keyType, valueType: valueType, depth: depth)
                var entries: [(key: String, value: OrderedJSON)] = []
                if case .entries(let existing) = values[position] { entries = existing }
                entries.append(entry)
                values[position] = .entries(entries)
            case .message(let name):
                guard wireType == WireReader.WireType.lengthDelimited.rawValue else { throw .wrongWireType(wireType, field: field.name) }
                let child = try reader.lengthDelimited()
                if field.flags.contains(.repeated) {
                    var items: [OrderedJSON] = []
                    if case .list(let existing) = values[position] { items = existing }
                    items.append(try decode(name, child, depth: depth + 1))
                    values[position] = .list(items)
                } else {
                    var ranges: [Range<Int>] = []
                    if case .message(let existing) = values[position] { ranges = existing }
                    ranges.append(child)
                    values[position] = .message(ranges)
                }
            default:
                if field.flags.contains(.repeated) {
                    var items: [OrderedJSON] = []
                    if case .list(let existing) = values[position] { items = existing }
                    if wireType == WireReader.WireType.lengthDelimited.rawValue, field.type.isPackable {
                        // A packed run: the values back to back in one length-delimited field.
                        var run = WireReader(bytes, try reader.lengthDelimited())
                        while !run.isAtEnd {
                            items.append(try scalar(field.type, wireType: field.type.wireType.rawValue, &run, field: field.name).json)
                        }
                    } else {
                        items.append(try scalar(field.type, wireType: wireType, &reader, field: field.name).json)
                    }
                    values[position] = .list(items)
                } else {
                    let value = try scalar(field.type, wireType: wireType, &reader, field: field.name)
                    values[position] = .scalar(value.json, isZero: value.isZero, bytes: value.bytes)
                }
            }
        }
        return values
    }

    /// The JSON members of a message, in declaration order.
    func pairs(_ indexed: IndexedMessage, _ values: [Value?], depth: Int) throws(WireError) -> [(String, OrderedJSON)] {
        var pairs: [(String, OrderedJSON)] = []
        for (position, field) in indexed.message.fields.enumerated() {
            switch values[position] {
            case nil:
                continue
            case .scalar(let json, let isZero, _):
                if isZero && !field.flags.contains(.keepsZero) { continue }
                pairs.append((field.name, json))
            case .list(let items):
                pairs.append((field.name, .array(items)))
            case .entries(let entries):
                // Go's JSON writes maps sorted by key bytes; a repeated key keeps its last value.
                var latest: [String: OrderedJSON] = [:]
                for entry in entries { latest[entry.key] = entry.value }
                let keys = latest.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                pairs.append((field.name, .object(keys.map { ($0, latest[$0] ?? .null) })))
            case .message(let ranges):
                guard case .message(let name) = field.type else { continue }
                let json = try merged(ranges) { decoder, range throws(WireError) in try decoder.decode(name, range, depth: depth + 1) }
                if field.flags.contains(.inline), case .object(let members) = json {
                    pairs += members
                } else {
                    pairs.append((field.name, json))
                }
            }
        }
        return pairs
    }

    /// Decodes a message sent in several pieces as protobuf merges them: as their concatenation.
    func merged(_ ranges: [Range<Int>], _ body: (MessageDecoder, Range<Int>) throws(WireError) -> OrderedJSON) throws(WireError) -> OrderedJSON {
        guard ranges.count > 1 else { return try body(self, ranges.first ?? 0..<0) }
        var joined: [UInt8] = []
        for range in ranges { joined += bytes[range] }
        return try body(MessageDecoder(bytes: joined), joined.indices)
    }

    /// One key/value entry of a map field (key = 1, value = 2; a missing one is its zero value).
    func mapEntry(_ range: Range<Int>, keyType: ProtoFieldType, valueType: ProtoFieldType, depth: Int) throws(WireError) -> (key: String, value: OrderedJSON) {
        var key: OrderedJSON?
        var value: OrderedJSON?
        var reader = WireReader(bytes, range)
        while !reader.isAtEnd {
            let (number, wireType) = try reader.tag()
            switch number {
            case 1:
                key = try scalar(keyType, wireType: wireType, &reader, field: "key").json
            case 2:
                if case .message(let name) = valueType {
                    guard wireType == WireReader.WireType.lengthDelimited.rawValue else { throw .wrongWireType(wireType, field: "value") }
                    value = try decode(name, try reader.lengthDelimited(), depth: depth + 1)
                } else {
                    value = try scalar(valueType, wireType: wireType, &reader, field: "value").json
                }
            default:
                try reader.skip(wireType: wireType)
            }
        }
        let keyText: String
        switch key {
        case .string(let text): keyText = text
        case .int(let number): keyText = String(number)
        case .bool(let flag): keyText = String(flag)
        default: keyText = ""
        }
        if let value { return (keyText, value) }
        if case .message(let name) = valueType { return (keyText, try decode(name, 0..<0, depth: depth + 1)) }
        return (keyText, valueType.zeroJSON)
    }

    /// One scalar value, checked against the wire type its field type needs.
    func scalar(_ type: ProtoFieldType, wireType: Int, _ reader: inout WireReader, field: String) throws(WireError) -> (json: OrderedJSON, isZero: Bool, bytes: Range<Int>?) {
        guard wireType == type.wireType.rawValue else { throw .wrongWireType(wireType, field: field) }
        switch type {
        case .bool:
            let v = try reader.varint()
            return (.bool(v != 0), v == 0, nil)
        case .int32:
            let v = Int32(truncatingIfNeeded: try reader.varint())
            return (.int(Int64(v)), v == 0, nil)
        case .int64:
            let v = Int64(bitPattern: try reader.varint())
            return (.int(v), v == 0, nil)
        case .uint32:
            let v = UInt32(truncatingIfNeeded: try reader.varint())
            return (.int(Int64(v)), v == 0, nil)
        case .uint64:
            let v = try reader.varint()
            return (Self.unsigned(v), v == 0, nil)
        case .sint32:
            let raw = UInt32(truncatingIfNeeded: try reader.varint())
            let v = Int32(bitPattern: raw >> 1) ^ -Int32(bitPattern: raw & 1)
            return (.int(Int64(v)), v == 0, nil)
        case .sint64:
            let raw = try reader.varint()
            let v = Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)
            return (.int(v), v == 0, nil)
        case .fixed32:
            let v = try reader.fixed32()
            return (.int(Int64(v)), v == 0, nil)
        case .sfixed32:
            let v = Int32(bitPattern: try reader.fixed32())
            return (.int(Int64(v)), v == 0, nil)
        case .float:
            let v = Float(bitPattern: try reader.fixed32())
            return (.double(Double(v)), v == 0, nil)
        case .fixed64:
            let v = try reader.fixed64()
            return (Self.unsigned(v), v == 0, nil)
        case .sfixed64:
            let v = Int64(bitPattern: try reader.fixed64())
            return (.int(v), v == 0, nil)
        case .double:
            let v = Double(bitPattern: try reader.fixed64())
            return (.double(v), v == 0, nil)
        case .string:
            let range = try reader.lengthDelimited()
            return (.string(String(decoding: bytes[range], as: UTF8.self)), range.isEmpty, range)
        case .bytes:
            // Go's JSON writes []byte as standard base64 with padding.
            let range = try reader.lengthDelimited()
            return (.string(Data(bytes[range]).base64EncodedString()), range.isEmpty, range)
        case .message, .map:
            throw .wrongWireType(wireType, field: field)
        }
    }

    static func unsigned(_ value: UInt64) -> OrderedJSON {
        value <= UInt64(Int64.max) ? .int(Int64(value)) : .double(Double(value))
    }
}

extension ProtoFieldType {
    var wireType: WireReader.WireType {
        switch self {
        case .bool, .int32, .int64, .uint32, .uint64, .sint32, .sint64: .varint
        case .fixed64, .sfixed64, .double: .fixed64
        case .fixed32, .sfixed32, .float: .fixed32
        case .string, .bytes, .message, .map: .lengthDelimited
        }
    }

    /// Numeric repeated fields may come packed (proto3's default, accepted by proto2 decoders).
    var isPackable: Bool { wireType != .lengthDelimited }

    var zeroJSON: OrderedJSON {
        switch self {
        case .bool: .bool(false)
        case .string, .bytes: .string("")
        case .float, .double: .double(0)
        case .message, .map: .null
        default: .int(0)
        }
    }
}
