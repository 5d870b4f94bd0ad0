import Platform

/// An image reference normalised exactly as Docker's distribution/reference does
/// (`busybox` → `docker.io/library/busybox:latest`).
public struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    public static let defaultDomain = "docker.io"
    public static let legacyDefaultDomain = "index.docker.io"
    public static let defaultTag = "latest"

    public let domain: String
    /// The repository path within the registry (`library/busybox`).
    public let path: String
    public let tag: String?
    public let digest: Digest?

    public init(domain: String, path: String, tag: String?, digest: Digest?) {
        self.domain = domain
        self.path = path
        self.tag = tag
        self.digest = digest
    }

    /// Parses and normalises like `ParseNormalizedNamed`, then adds the default tag when neither a
    /// tag nor a digest is given. With both, the digest wins and the tag is dropped (`ParseDockerRef`).
    public static func parse(_ text: String, defaultTag: Bool = true) throws -> ImageReference {
        let parsed = try parseNormalized(text)
        if parsed.digest != nil { return ImageReference(domain: parsed.domain, path: parsed.path, tag: nil, digest: parsed.digest) }
        if parsed.tag == nil && defaultTag {
            return ImageReference(domain: parsed.domain, path: parsed.path, tag: Self.defaultTag, digest: nil)
        }
        return parsed
    }

    /// `ParseNormalizedNamed`: keeps tag and digest as given.
    public static func parseNormalized(_ text: String) throws -> ImageReference {
        if text.count == 64 && text.utf8.allSatisfy(isLowerHex) {
            throw invalid("invalid repository name (\(text)), cannot specify 64-byte hexadecimal strings")
        }
        var remainder = Substring(text)
        var digest: Digest?
        if let at = remainder.firstIndex(of: "@") {
            let digestText = String(remainder[remainder.index(after: at)...])
            guard let parsed = try? Digest(parsing: digestText) else { throw invalid("invalid reference format") }
            digest = parsed
            remainder = remainder[..<at]
        }
        var tag: String?
        if let colon = remainder.lastIndex(of: ":"), !remainder[colon...].contains("/") {
            let tagText = String(remainder[remainder.index(after: colon)...])
            guard isValidTag(tagText) else { throw invalid("invalid reference format") }
            tag = tagText
            remainder = remainder[..<colon]
        }
        let name = String(remainder)
        guard !name.isEmpty else { throw invalid("invalid reference format") }

        var (domain, path) = splitDockerDomain(name)
        if path.lowercased() != path {
            throw invalid("invalid reference format: repository name (\(path)) must be lowercase")
        }
        guard isValidDomain(domain), isValidPath(path) else { throw invalid("invalid reference format") }
        if domain.count + 1 + path.count > 255 {
            throw invalid("invalid reference format: repository name must not be more than 255 characters")
        }
        if domain == legacyDefaultDomain { domain = defaultDomain }
        return ImageReference(domain: domain, path: path, tag: tag, digest: digest)
    }

    static func splitDockerDomain(_ name: String) -> (String, String) {
        var domain: String
        var remainder: String
        if let slash = name.firstIndex(of: "/") {
            let first = String(name[..<slash])
            if !first.contains(".") && !first.contains(":") && first != "localhost" && first.lowercased() == first {
                domain = defaultDomain
                remainder = name
            } else {
                domain = first
                remainder = String(name[name.index(after: slash)...])
            }
        } else {
            domain = defaultDomain
            remainder = name
        }
        if domain == legacyDefaultDomain { domain = defaultDomain }
        if domain == defaultDomain && !remainder.contains("/") { remainder = "library/" + remainder }
        return (domain, remainder)
    }

    /// `docker.io/library/busybox`
    public var name: String { "\(domain)/\(path)" }

    /// `busybox`, `luksa/kubia`, `127.0.0.1:5000/x` — how docker shows a repository to users.
    public var familiarName: String {
        guard domain == Self.defaultDomain else { return name }
        if path.hasPrefix("library/"), path.dropFirst(8).firstIndex(of: "/") == nil {
            return String(path.dropFirst(8))
        }
        return path
    }

    public var description: String {
        var s = name
        if let tag { s += ":\(tag)" }
        if let digest { s += "@\(digest)" }
        return s
    }

    /// `busybox:latest`, `busybox@sha256:…`
    public var familiarString: String {
        var s = familiarName
        if let tag { s += ":\(tag)" }
        if let digest { s += "@\(digest)" }
        return s
    }

    /// What the registry API is asked for: the digest if there is one, else the tag.
    public var registryReference: String { digest?.description ?? tag ?? Self.defaultTag }

    public func withTag(_ tag: String) -> ImageReference {
        ImageReference(domain: domain, path: path, tag: tag, digest: nil)
    }

    public func withDigest(_ digest: Digest) -> ImageReference {
        ImageReference(domain: domain, path: path, tag: nil, digest: digest)
    }

    static func invalid(_ message: String) -> OnekubeError { OnekubeError(.invalidArgument, message) }

    static func isLowerHex(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 102) }
    static func isAlnumLower(_ c: UInt8) -> Bool { (c >= 48 && c <= 57) || (c >= 97 && c <= 122) }
    static func isWordChar(_ c: UInt8) -> Bool {
        (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 95
    }

    /// `[\w][\w.-]{0,127}`
    public static func isValidTag(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard let first = bytes.first, bytes.count <= 128, isWordChar(first) else { return false }
        return bytes.dropFirst().allSatisfy { isWordChar($0) || $0 == 46 || $0 == 45 }
    }

    /// Path components `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*` joined by `/`.
    static func isValidPath(_ s: String) -> Bool {
        let components = s.split(separator: "/", omittingEmptySubsequences: false)
        return !components.isEmpty && components.allSatisfy { isValidComponent(Array($0.utf8)) }
    }

    static func isValidComponent(_ c: [UInt8]) -> Bool {
        guard let first = c.first, let last = c.last, isAlnumLower(first), isAlnumLower(last) else { return false }
        var i = 0
        while i < c.count {
            if isAlnumLower(c[i]) { i += 1; continue }
            // A separator: ".", "_", "__" or one or more "-", followed by an alphanumeric.
            if c[i] == 46 { i += 1 }
            else if c[i] == 95 { i += (i + 1 < c.count && c[i + 1] == 95) ? 2 : 1 }
            else if c[i] == 45 { while i < c.count && c[i] == 45 { i += 1 } }
            else { return false }
            guard i < c.count, isAlnumLower(c[i]) else { return false }
        }
        return true
    }

    /// A host name (labels of `[a-zA-Z0-9-]` not starting or ending in `-`, dot-separated) or a
    /// bracketed IPv6 address, with an optional `:port`.
    static func isValidDomain(_ s: String) -> Bool {
        var host = Substring(s)
        if host.hasPrefix("[") {
            guard let close = host.firstIndex(of: "]") else { return false }
            let inner = host[host.index(after: host.startIndex)..<close]
            guard !inner.isEmpty, inner.allSatisfy({ $0 == ":" || $0.isHexDigit }) else { return false }
            host = host[host.index(after: close)...]
            if host.isEmpty { return true }
            guard host.hasPrefix(":") else { return false }
            let port = host.dropFirst()
            return !port.isEmpty && port.allSatisfy(\.isASCII) && port.allSatisfy(\.isNumber)
        }
        if let colon = host.lastIndex(of: ":") {
            let port = host[host.index(after: colon)...]
            guard !port.isEmpty, port.allSatisfy({ $0.isASCII && $0.isNumber }) else { return false }
            host = host[..<colon]
        }
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty && labels.allSatisfy { label in
            let b = Array(label.utf8)
            guard let f = b.first, let l = b.last, f != 45, l != 45 else { return false }
            return b.allSatisfy { isAlnumLower($0) || ($0 >= 65 && $0 <= 90) || $0 == 45 }
        }
    }
}
