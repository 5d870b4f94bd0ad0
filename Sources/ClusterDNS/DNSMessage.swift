/// The parts of RFC 1035 messages cluster DNS needs: a query's header and first question, and
/// answers built from resource records. Names are lower-cased; compression pointers are followed
/// when reading (with a hop limit) and used for the question name when writing.
public struct DNSQuery: Sendable, Equatable {
    public var id: UInt16
    /// The flags word as received (opcode and RD are echoed back).
    public var flags: UInt16
    public var name: String
    public var type: DNSRecordType
    public var rawType: UInt16
    public var questionClass: UInt16
    /// Where the question ends: an answer copies the question section up to here.
    var questionEnd: Int

    public var opcode: UInt16 { (flags >> 11) & 0xF }
    public var isResponse: Bool { flags & 0x8000 != 0 }
}

public enum DNSRecordType: UInt16, Sendable {
    case a = 1, ns = 2, cname = 5, soa = 6, ptr = 12, mx = 15, txt = 16, aaaa = 28, srv = 33, any = 255
    case other = 0
}

public enum DNSResponseCode: UInt16, Sendable {
    case noError = 0, formatError = 1, serverFailure = 2, nameError = 3, notImplemented = 4, refused = 5
}

public enum DNSParseError: Error, Equatable {
    case truncated
    case badLabel
    case pointerLoop
    case noQuestion
}

/// One answer record's data.
public enum DNSRecordData: Sendable, Equatable {
    case a([UInt8])
    case cname(String)
    case srv(priority: UInt16, weight: UInt16, port: UInt16, target: String)
    case soa(primary: String, mailbox: String, serial: UInt32, refresh: UInt32, retry: UInt32, expire: UInt32, minimum: UInt32)
    case ptr(String)

    var type: UInt16 {
        switch self {
        case .a: return DNSRecordType.a.rawValue
        case .cname: return DNSRecordType.cname.rawValue
        case .srv: return DNSRecordType.srv.rawValue
        case .soa: return DNSRecordType.soa.rawValue
        case .ptr: return DNSRecordType.ptr.rawValue
        }
    }
}

public struct DNSRecord: Sendable, Equatable {
    public var name: String
    public var ttl: UInt32
    public var data: DNSRecordData

    public init(name: String, ttl: UInt32, data: DNSRecordData) {
        self.name = name
        self.ttl = ttl
        self.data = data
    }
}

public enum DNSMessage {
    /// The header and first question of a message.
    public static func parseQuery(_ bytes: [UInt8]) throws(DNSParseError) -> DNSQuery {
        guard bytes.count >= 12 else { throw .truncated }
        let id = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let flags = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        let questions = UInt16(bytes[4]) << 8 | UInt16(bytes[5])
        guard questions >= 1 else { throw .noQuestion }
        var offset = 12
        let name = try readName(bytes, at: &offset)
        guard offset + 4 <= bytes.count else { throw .truncated }
        let rawType = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        let questionClass = UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3])
        offset += 4
        return DNSQuery(id: id, flags: flags, name: name, type: DNSRecordType(rawValue: rawType) ?? .other, rawType: rawType,
                        questionClass: questionClass, questionEnd: offset)
    }

    /// A name at `offset` (advanced past it), following compression pointers.
    static func readName(_ bytes: [UInt8], at offset: inout Int) throws(DNSParseError) -> String {
        var labels: [String] = []
        var position = offset
        var jumped = false
        var hops = 0
        while true {
            guard position < bytes.count else { throw .truncated }
            let length = Int(bytes[position])
            if length == 0 {
                position += 1
                break
            }
            if length & 0xC0 == 0xC0 {
                guard position + 1 < bytes.count else { throw .truncated }
                hops += 1
                guard hops < 32 else { throw .pointerLoop }
                let target = (length & 0x3F) << 8 | Int(bytes[position + 1])
                if !jumped { offset = position + 2 }
                jumped = true
                position = target
                continue
            }
            guard length & 0xC0 == 0 else { throw .badLabel }
            guard position + 1 + length <= bytes.count else { throw .truncated }
            labels.append(String(decoding: bytes[(position + 1)..<(position + 1 + length)], as: UTF8.self).lowercased())
            position += 1 + length
            guard labels.count <= 127 else { throw .badLabel }
        }
        if !jumped { offset = position }
        return labels.joined(separator: ".")
    }

    static func writeName(_ name: String, into out: inout [UInt8]) {
        for label in name.split(separator: ".", omittingEmptySubsequences: true) {
            let bytes = Array(label.utf8.prefix(63))
            out.append(UInt8(bytes.count))
            out.append(contentsOf: bytes)
        }
        out.append(0)
    }

    static func append16(_ value: UInt16, to out: inout [UInt8]) {
        out.append(UInt8(value >> 8))
        out.append(UInt8(value & 0xFF))
    }

    static func append32(_ value: UInt32, to out: inout [UInt8]) {
        append16(UInt16(value >> 16), to: &out)
        append16(UInt16(value & 0xFFFF), to: &out)
    }

    /// An authoritative answer to `query` (whose wire form is `request`): the question echoed,
    /// then the answers and the authority records.
    public static func response(to query: DNSQuery, request: [UInt8], code: DNSResponseCode,
                                answers: [DNSRecord], authority: [DNSRecord] = [], authoritative: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        append16(query.id, to: &out)
        // QR, the query's opcode and RD, AA when ours, RA (we recurse for outside names).
        var flags: UInt16 = 0x8000 | (query.flags & 0x7800) | (query.flags & 0x0100) | 0x0080 | code.rawValue
        if authoritative { flags |= 0x0400 }
        append16(flags, to: &out)
        append16(1, to: &out)
        append16(UInt16(answers.count), to: &out)
        append16(UInt16(authority.count), to: &out)
        append16(0, to: &out)
        out.append(contentsOf: request[12..<query.questionEnd])
        for record in answers + authority { appendRecord(record, question: query, into: &out) }
        return out
    }

    /// A bare error answer (for requests that cannot be parsed far enough to echo a question).
    public static func failure(id: UInt16, code: DNSResponseCode) -> [UInt8] {
        var out: [UInt8] = []
        append16(id, to: &out)
        append16(0x8000 | 0x0080 | code.rawValue, to: &out)
        for _ in 0..<4 { append16(0, to: &out) }
        return out
    }

    static func appendRecord(_ record: DNSRecord, question: DNSQuery, into out: inout [UInt8]) {
        if record.name == question.name {
            append16(0xC00C, to: &out)  // points at the question's name
        } else {
            writeName(record.name, into: &out)
        }
        append16(record.data.type, to: &out)
        append16(1, to: &out)  // IN
        append32(record.ttl, to: &out)
        var data: [UInt8] = []
        switch record.data {
        case .a(let address): data = address
        case .cname(let target), .ptr(let target): writeName(target, into: &data)
        case .srv(let priority, let weight, let port, let target):
            append16(priority, to: &data)
            append16(weight, to: &data)
            append16(port, to: &data)
            writeName(target, into: &data)
        case .soa(let primary, let mailbox, let serial, let refresh, let retry, let expire, let minimum):
            writeName(primary, into: &data)
            writeName(mailbox, into: &data)
            for value in [serial, refresh, retry, expire, minimum] { append32(value, to: &data) }
        }
        append16(UInt16(data.count), to: &out)
        out.append(contentsOf: data)
    }
}
