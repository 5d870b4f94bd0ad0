/// An IPv4 address (host byte order in `value`).
public struct IPv4Address: Hashable, Comparable, Codable, Sendable, CustomStringConvertible {
    public var value: UInt32

    public init(_ value: UInt32) { self.value = value }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var value: UInt32 = 0
        for part in parts {
            guard !part.isEmpty, part.count <= 3, let octet = UInt8(part) else { return nil }
            value = value << 8 | UInt32(octet)
        }
        self.value = value
    }

    public var bytes: [UInt8] { [UInt8(value >> 24), UInt8(value >> 16 & 0xff), UInt8(value >> 8 & 0xff), UInt8(value & 0xff)] }

    public var description: String { bytes.map(String.init).joined(separator: ".") }

    public static func < (a: IPv4Address, b: IPv4Address) -> Bool { a.value < b.value }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let address = IPv4Address(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an IPv4 address: \(text)"))
        }
        self = address
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// An IPv4 network in CIDR notation (`10.244.0.0/16`).
public struct IPv4Network: Hashable, Codable, Sendable, CustomStringConvertible {
    public var address: IPv4Address
    public var prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/")
        guard parts.count == 2, let address = IPv4Address(String(parts[0])), let prefix = Int(parts[1]),
              (8...30).contains(prefix) else { return nil }
        self.prefixLength = prefix
        self.address = IPv4Address(address.value & Self.mask(prefix))
    }

    static func mask(_ prefix: Int) -> UInt32 { prefix == 0 ? 0 : UInt32.max << UInt32(32 - prefix) }

    public var netmask: UInt32 { Self.mask(prefixLength) }
    public var first: IPv4Address { IPv4Address(address.value + 1) }
    public var broadcast: IPv4Address { IPv4Address(address.value | ~netmask) }
    /// The bridge's own address: the first host address.
    public var gateway: IPv4Address { first }

    public func contains(_ ip: IPv4Address) -> Bool { ip.value & netmask == address.value }

    public var description: String { "\(address)/\(prefixLength)" }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let network = IPv4Network(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a CIDR: \(text)"))
        }
        self = network
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
