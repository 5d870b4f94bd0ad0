/// A response head read off a raw connection — kubectl mode's protocol upgrades and docker
/// mode's hijacked connections, what libcurl cannot do — and the framing of the body after it.
public struct HTTPResponseHead: Sendable {
    public var status: Int
    public var headers: HTTPHeaderFields

    public init(status: Int, headers: HTTPHeaderFields) {
        self.status = status
        self.headers = headers
    }

    /// The head at the start of `bytes` and the offset just past its blank line; nil until
    /// the blank line has arrived.
    public static func parse(_ bytes: [UInt8]) throws -> (head: HTTPResponseHead, end: Int)? {
        guard let end = bytes.firstRange(of: [13, 10, 13, 10]) else { return nil }
        let lines = String(decoding: bytes[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = (lines.first ?? "").split(separator: " ")
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/"), let status = Int(statusParts[1]) else {
            throw HTTPResponseHeadError(statusLine: String(lines.first ?? ""))
        }
        var headers = HTTPHeaderFields()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append(String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingSpaces)
        }
        return (HTTPResponseHead(status: status, headers: headers), end.upperBound)
    }

    /// The body in `raw` once it is whole under this head's framing (Content-Length or
    /// chunked); nil while more must be read. Once the connection has `ended`, what came is
    /// the body (decoded as far as it goes).
    public func body(from raw: [UInt8], ended: Bool) -> [UInt8]? {
        if let length = headers["Content-Length"].flatMap({ Int($0) }) {
            if raw.count >= length { return Array(raw.prefix(length)) }
        } else if headers["Transfer-Encoding"]?.lowercased() == "chunked" {
            if let body = Self.dechunk(raw) { return body }
        }
        return ended ? raw : nil
    }

    /// A complete chunked body decoded, or nil until its last chunk has arrived.
    static func dechunk(_ raw: [UInt8]) -> [UInt8]? {
        var body: [UInt8] = []
        var offset = 0
        while let lineEnd = raw[offset...].firstRange(of: [13, 10]) {
            let sizeText = String(decoding: raw[offset..<lineEnd.lowerBound], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(String(sizeText).trimmingSpaces, radix: 16) else { return nil }
            if size == 0 { return body }
            let start = lineEnd.upperBound
            guard raw.count >= start + size + 2 else { return nil }
            body += raw[start..<(start + size)]
            offset = start + size + 2
        }
        return nil
    }
}

public struct HTTPResponseHeadError: Error, CustomStringConvertible, Sendable {
    public let statusLine: String
    public var description: String { "malformed status line \"\(statusLine)\"" }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var view = Substring(self)
        while view.first == " " || view.first == "\t" { view.removeFirst() }
        while view.last == " " || view.last == "\t" { view.removeLast() }
        return String(view)
    }
}
