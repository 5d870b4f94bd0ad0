/// The server's answer to a request that asks to switch protocols.
public struct HTTPUpgradeResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaderFields
    /// On 101, the first bytes of the new protocol, which came with the head; otherwise the
    /// whole body (a refusal's reason).
    public var body: [UInt8]
}

public struct HTTPUpgradeError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { message }
}

extension CurlStreamConnection {
    /// Writes the request head (`headers` must name Host, Connection and Upgrade) and reads the
    /// answer's head; a refusal's body is read to its end.
    public func upgrade(method: String, target: String, headers: HTTPHeaderFields) throws -> HTTPUpgradeResponse {
        var head = "\(method) \(target) HTTP/1.1\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        try send(Array((head + "\r\n").utf8))

        var buffer: [UInt8] = []
        let terminator: [UInt8] = [13, 10, 13, 10]
        while buffer.firstRange(of: terminator) == nil {
            guard buffer.count < 65536 else { throw HTTPUpgradeError(message: "upgrade \(target): response head too large") }
            let chunk = try receive()
            guard !chunk.isEmpty else { throw HTTPUpgradeError(message: "upgrade \(target): the server closed the connection before answering") }
            buffer += chunk
        }
        guard let end = buffer.firstRange(of: terminator) else { throw HTTPUpgradeError(message: "upgrade \(target): no response head") }
        let lines = String(decoding: buffer[..<end.lowerBound], as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: false)
        let statusParts = (lines.first ?? "").split(separator: " ")
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/"), let status = Int(statusParts[1]) else {
            throw HTTPUpgradeError(message: "upgrade \(target): malformed status line \"\(lines.first ?? "")\"")
        }
        var responseHeaders = HTTPHeaderFields()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            responseHeaders.append(String(line[..<colon]), String(line[line.index(after: colon)...]).trimmingSpaces)
        }
        var rest = Array(buffer[end.upperBound...])
        if status != 101 { rest = try readBody(start: rest, headers: responseHeaders) }
        return HTTPUpgradeResponse(status: status, headers: responseHeaders, body: rest)
    }

    /// A body framed by Content-Length, chunked, or by the end of the connection.
    private func readBody(start: [UInt8], headers: HTTPHeaderFields) throws -> [UInt8] {
        var raw = start
        let length = headers["Content-Length"].flatMap { Int($0) }
        let chunked = headers["Transfer-Encoding"]?.lowercased() == "chunked"
        while raw.count < (length ?? 1 << 20) {
            if chunked, let body = Self.dechunk(raw) { return body }
            let chunk = try receive()
            if chunk.isEmpty { break }
            raw += chunk
        }
        if let length { return Array(raw.prefix(length)) }
        return chunked ? (Self.dechunk(raw) ?? raw) : raw
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

extension String {
    fileprivate var trimmingSpaces: String {
        var view = Substring(self)
        while view.first == " " || view.first == "\t" { view.removeFirst() }
        while view.last == " " || view.last == "\t" { view.removeLast() }
        return String(view)
    }
}
