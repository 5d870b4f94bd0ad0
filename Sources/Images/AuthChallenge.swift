/// One challenge of a `WWW-Authenticate` header (RFC 7235): a scheme and its parameters.
public struct AuthChallenge: Sendable, Equatable {
    public var scheme: String
    public var parameters: [String: String]

    public var realm: String? { parameters["realm"] }
    public var service: String? { parameters["service"] }
    /// Space-separated in the header; several scopes may be asked for at once.
    public var scopes: [String] { parameters["scope"].map { $0.split(separator: " ").map(String.init) } ?? [] }

    /// Parses every challenge in a header value, e.g.
    /// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull"`.
    public static func parse(_ header: String) -> [AuthChallenge] {
        var scanner = Scanner(Array(header.utf8))
        var challenges: [AuthChallenge] = []
        while true {
            scanner.skip(while: { $0 == 32 || $0 == 9 || $0 == 44 })
            guard let scheme = scanner.token(), !scheme.isEmpty else { break }
            var challenge = AuthChallenge(scheme: scheme.lowercased(), parameters: [:])
            // Parameters: name=value pairs separated by commas, until the next scheme token.
            while true {
                let mark = scanner.position
                scanner.skip(while: { $0 == 32 || $0 == 9 || $0 == 44 })
                guard let name = scanner.token(), !name.isEmpty else { break }
                scanner.skip(while: { $0 == 32 || $0 == 9 })
                guard scanner.consume(61) else {  // '=': it was the next challenge's scheme
                    scanner.position = mark
                    break
                }
                scanner.skip(while: { $0 == 32 || $0 == 9 })
                let value = scanner.peek() == 34 ? scanner.quotedString() : (scanner.token() ?? "")
                challenge.parameters[name.lowercased()] = value
            }
            challenges.append(challenge)
        }
        return challenges
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0
        init(_ bytes: [UInt8]) { self.bytes = bytes }

        func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func consume(_ byte: UInt8) -> Bool {
            guard peek() == byte else { return false }
            position += 1
            return true
        }

        mutating func skip(while predicate: (UInt8) -> Bool) {
            while let b = peek(), predicate(b) { position += 1 }
        }

        /// An RFC 7230 token (also accepting `/` so that token68-style values survive).
        mutating func token() -> String? {
            let start = position
            while let b = peek(), !(b == 32 || b == 9 || b == 44 || b == 61 || b == 34) { position += 1 }
            return position > start ? String(decoding: bytes[start..<position], as: UTF8.self) : nil
        }

        mutating func quotedString() -> String {
            position += 1
            var out: [UInt8] = []
            while let b = peek() {
                position += 1
                if b == 92, let next = peek() {  // backslash escape
                    out.append(next)
                    position += 1
                } else if b == 34 {
                    break
                } else {
                    out.append(b)
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
