import HTTPClient
import Testing

/// The response head and body framing that kubectl mode's upgrades and docker mode's hijacked
/// connections read off their raw connections.
@Suite("Raw HTTP response heads")
struct HTTPResponseHeadTests {
    @Test func aHeadParsesOnceItsBlankLineHasArrived() throws {
        let bytes = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection:Upgrade\r\n\r\n\u{1}abc".utf8)
        #expect(try HTTPResponseHead.parse(Array(bytes.prefix(40))) == nil)
        let (head, end) = try #require(try HTTPResponseHead.parse(bytes))
        #expect(head.status == 101)
        #expect(head.headers["upgrade"] == "websocket")
        #expect(head.headers["Connection"] == "Upgrade")
        #expect(Array(bytes[end...]) == Array("\u{1}abc".utf8), "the new protocol's first bytes stay for the caller")
    }

    @Test func aMalformedStatusLineIsAnError() {
        #expect(throws: HTTPResponseHeadError.self) { try HTTPResponseHead.parse(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8)) }
    }

    @Test func bodiesAreWholeWhenTheirFramingSaysSo() throws {
        let chunked = HTTPResponseHead(status: 200, headers: HTTPHeaderFields([("Transfer-Encoding", "chunked")]))
        let raw = Array("10\r\n{\"StatusCode\":0}\r\n1\r\n\n\r\n0\r\n\r\n".utf8)
        #expect(chunked.body(from: raw, ended: false) == Array("{\"StatusCode\":0}\n".utf8))
        #expect(chunked.body(from: Array(raw.prefix(20)), ended: false) == nil)

        let sized = HTTPResponseHead(status: 404, headers: HTTPHeaderFields([("Content-Length", "5")]))
        #expect(sized.body(from: Array("page ".utf8), ended: false) == Array("page ".utf8))
        #expect(sized.body(from: Array("pag".utf8), ended: false) == nil)
        #expect(sized.body(from: Array("pag".utf8), ended: true) == Array("pag".utf8), "cut short: what came")

        let unframed = HTTPResponseHead(status: 500, headers: HTTPHeaderFields())
        #expect(unframed.body(from: Array("oops".utf8), ended: false) == nil, "no framing: the body ends with the connection")
        #expect(unframed.body(from: Array("oops".utf8), ended: true) == Array("oops".utf8))
    }
}
