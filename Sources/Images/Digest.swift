import Platform

/// A content digest `algorithm:hex`. Only sha256 content is stored, but any well-formed digest parses.
public struct Digest: Hashable, Sendable, CustomStringConvertible, Codable, Comparable {
    public let algorithm: String
    public let hex: String

    public init(parsing text: String) throws {
        guard let colon = text.firstIndex(of: ":") else {
            throw OnekubeError(.invalidArgument, "invalid digest \"\(text)\": missing algorithm")
        }
        let algorithm = String(text[..<colon])
        let hex = String(text[text.index(after: colon)...])
        guard Digest.isValidAlgorithm(algorithm) else {
            throw OnekubeError(.invalidArgument, "invalid digest \"\(text)\": bad algorithm")
        }
        guard hex.count >= 32, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw OnekubeError(.invalidArgument, "invalid digest \"\(text)\": invalid checksum digest format")
        }
        if algorithm == "sha256" && hex.count != 64 {
            throw OnekubeError(.invalidArgument, "invalid digest \"\(text)\": invalid checksum digest length")
        }
        self.algorithm = algorithm
        self.hex = hex
    }

    public init(sha256Hex hex: String) {
        self.algorithm = "sha256"
        self.hex = hex
    }

    public static func sha256(of bytes: [UInt8]) -> Digest {
        Digest(sha256Hex: SHA256Hasher.hex(bytes))
    }

    public var description: String { "\(algorithm):\(hex)" }

    /// The 12-character form docker prints for layer and image IDs.
    public var shortHex: String { String(hex.prefix(12)) }

    /// `[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*`
    static func isValidAlgorithm(_ s: String) -> Bool {
        let b = Array(s.utf8)
        func letter(_ c: UInt8) -> Bool { (c >= 65 && c <= 90) || (c >= 97 && c <= 122) }
        func alnum(_ c: UInt8) -> Bool { letter(c) || (c >= 48 && c <= 57) }
        guard let first = b.first, letter(first) else { return false }
        var i = 1
        while i < b.count {
            if alnum(b[i]) { i += 1; continue }
            guard "-_+.".utf8.contains(b[i]), i + 1 < b.count, letter(b[i + 1]) else { return false }
            i += 2
        }
        return true
    }

    public init(from decoder: Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(parsing: text)
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }

    public static func < (a: Digest, b: Digest) -> Bool { a.description < b.description }
}
