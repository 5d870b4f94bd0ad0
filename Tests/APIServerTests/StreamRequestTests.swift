import HTTPServer
import KubeModel
import NIOCore
import NIOHTTP1
import Platform
import Testing
@testable import APIServer

@Suite struct StreamRequestTests {
    static func request(_ headers: [(String, String)], method: HTTPMethod = .GET) -> HTTPServerRequest {
        HTTPServerRequest(method: method, uri: "/api/v1/namespaces/default/pods/kubia/exec?command=true&stdout=true",
                          headers: HTTPHeaders(headers), body: ByteBuffer())
    }

    static let pod = try! OrderedJSON(parsing: Array("""
        {"metadata":{"name":"web"},"spec":{"initContainers":[{"name":"setup"}],"containers":[{"name":"app"},{"name":"sidecar"}]}}
        """.utf8))

    @Test func webSocketUpgradeEchoesTheChosenProtocol() throws {
        let transport = try KubernetesAPI.remoteCommandTransport(Self.request([
            ("Upgrade", "websocket"), ("Connection", "Upgrade"), ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
            ("Sec-WebSocket-Protocol", "v4.channel.k8s.io, v5.channel.k8s.io"),
        ]))
        guard case .webSocket(let headers) = transport else { Issue.record("\(transport)"); return }
        #expect(headers.first(name: "Sec-WebSocket-Protocol") == "v5.channel.k8s.io")
        #expect(headers.first(name: "Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(headers.first(name: "Upgrade") == "websocket")
    }

    @Test func spdyUpgradeSettlesOnV4() throws {
        let transport = try KubernetesAPI.remoteCommandTransport(Self.request([
            ("Upgrade", "SPDY/3.1"), ("Connection", "Upgrade"), ("X-Stream-Protocol-Version", "v5.channel.k8s.io"),
            ("X-Stream-Protocol-Version", "v4.channel.k8s.io"), ("X-Stream-Protocol-Version", "channel.k8s.io"),
        ], method: .POST))
        guard case .spdy(let headers) = transport else { Issue.record("\(transport)"); return }
        #expect(headers.first(name: "X-Stream-Protocol-Version") == "v4.channel.k8s.io")
        #expect(headers.first(name: "Upgrade") == "SPDY/3.1")
    }

    @Test func unusableUpgradesAreRefused() {
        // A WebSocket without a channel protocol we speak fails the upgrade, so kubectl falls back to SPDY.
        #expect(throws: APIError.self) {
            try KubernetesAPI.remoteCommandTransport(Self.request([("Upgrade", "websocket"), ("Sec-WebSocket-Key", "x"),
                                                                  ("Sec-WebSocket-Protocol", "base64.channel.k8s.io")]))
        }
        #expect(throws: APIError.self) {
            try KubernetesAPI.remoteCommandTransport(Self.request([("Upgrade", "SPDY/3.1"), ("X-Stream-Protocol-Version", "v1.channel.k8s.io")]))
        }
        #expect(throws: APIError.self) { try KubernetesAPI.remoteCommandTransport(Self.request([])) }
    }

    @Test(arguments: [
        ("app", "app"), ("setup", "setup"),
        ("nope", "container nope is not valid for pod web"),
        (nil, "a container name must be specified for pod web, choose one of: [app sidecar] or one of the init containers: [setup]"),
    ] as [(String?, String)])
    func containersAreCheckedAsTheApiserverDoes(asked: String?, answer: String) {
        do {
            #expect(try KubernetesAPI.streamContainer(Self.pod, asked: asked) == answer)
        } catch let error as APIError {
            #expect(error.code == 400 && error.message == answer)
        } catch {
            Issue.record("\(error)")
        }
    }
}
