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
        while true {
            let parsed: (head: HTTPResponseHead, end: Int)?
            do {
                parsed = try HTTPResponseHead.parse(buffer)
            } catch {
                throw HTTPUpgradeError(message: "upgrade \(target): \(error)")
            }
            if let (head, end) = parsed {
                var rest = Array(buffer[end...])
                if head.status != 101 { rest = try readBody(start: rest, head: head) }
                return HTTPUpgradeResponse(status: head.status, headers: head.headers, body: rest)
            }
            guard buffer.count < 65536 else { throw HTTPUpgradeError(message: "upgrade \(target): response head too large") }
            let chunk = try receive()
            guard !chunk.isEmpty else { throw HTTPUpgradeError(message: "upgrade \(target): the server closed the connection before answering") }
            buffer += chunk
        }
    }

    /// A refusal's body (its reason), framed as the head says; one without framing is read to
    /// the end of the connection, up to 1 MiB.
    private func readBody(start: [UInt8], head: HTTPResponseHead) throws -> [UInt8] {
        var raw = start
        while raw.count < 1 << 20 {
            if let body = head.body(from: raw, ended: false) { return body }
            let chunk = try receive()
            if chunk.isEmpty { break }
            raw += chunk
        }
        return head.body(from: raw, ended: true) ?? raw
    }
}
