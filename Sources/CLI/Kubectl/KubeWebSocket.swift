import Foundation
import HTTPClient
import Images
import KubeStreams
import Platform

/// A WebSocket to the API server, as kubectl opens one for exec and port-forward: a GET upgrade
/// with the kubeconfig's token, over libcurl's connection with the kubeconfig's CA. One thread
/// reads (`next`); any thread may send.
final class KubeWebSocket: @unchecked Sendable {
    private let connection: CurlStreamConnection
    /// Touched only by the reading thread.
    private var reader = WebSocketReader(readsClientFrames: false)
    /// The subprotocol the server chose.
    let subprotocol: String

    /// How a refused upgrade reads, and whether it could be made at all.
    enum Refusal: Error {
        /// A Status body: kubectl prints it as `Error from server (Reason): message`.
        case status(reason: String, message: String)
        /// Any other body (the kubelet's plain-text answers).
        case text(String)

        /// `Error from server (NotFound): …`, or `<prefix>: <text>` for plain bodies.
        func kubectlMessage(plainPrefix: String) -> String {
            switch self {
            case .status(let reason, let message): return reason.isEmpty ? "Error from server: \(message)" : "Error from server (\(reason)): \(message)"
            case .text(let text): return "error: \(plainPrefix): \(text)"
            }
        }
    }

    private init(connection: CurlStreamConnection, subprotocol: String, pending: [UInt8]) {
        self.connection = connection
        self.subprotocol = subprotocol
        reader.append(pending)
    }

    /// Opens `path` (with its query) offering `protocols`; throws a `Refusal` when the server
    /// answers anything but 101 with one of them, and kubectl's "connection refused" message
    /// when nothing answers.
    static func open(_ client: KubeAPIClient, path: String, protocols: [String]) throws -> KubeWebSocket {
        let context = client.context
        let connection: CurlStreamConnection
        do {
            connection = try CurlStreamConnection(url: context.server, caCertificatePath: context.caPath, verifyPeer: !context.insecure)
        } catch {
            throw client.unreachable(error)
        }
        let key = WebSocket.clientKey()
        let base = URL(string: context.server)
        let host = base?.host.map { $0.contains(":") ? "[\($0)]" : $0 } ?? "localhost"
        var headers = HTTPHeaderFields([
            ("Host", base?.port.map { "\(host):\($0)" } ?? host),
            ("User-Agent", "onekube-kubectl/\(OnekubeVersion.string)"),
            ("Connection", "Upgrade"), ("Upgrade", "websocket"), ("Sec-WebSocket-Version", "13"), ("Sec-WebSocket-Key", key),
            ("Sec-WebSocket-Protocol", protocols.joined(separator: ", ")),
        ])
        if let token = context.token { headers.append("Authorization", "Bearer \(token)") }
        let prefix = base?.path ?? ""
        let response: HTTPUpgradeResponse
        do {
            response = try connection.upgrade(method: "GET", target: prefix + path, headers: headers)
        } catch let error as HTTPUpgradeError {
            throw KubectlError.message("error: \(error.message)")
        } catch {
            throw client.unreachable(error)
        }
        guard response.status == 101 else {
            let body = KubeAPIClient.Response(status: response.status, body: response.body).json
            if body["kind"]?.stringValue == "Status", let message = body["message"]?.stringValue {
                throw Refusal.status(reason: body["reason"]?.stringValue ?? "", message: message)
            }
            throw Refusal.text(String(decoding: response.body, as: UTF8.self))
        }
        guard response.headers["Sec-WebSocket-Accept"] == WebSocket.acceptKey(for: key) else {
            throw KubectlError.message("error: websocket: bad handshake: the server's Sec-WebSocket-Accept does not match")
        }
        guard let chosen = response.headers["Sec-WebSocket-Protocol"], protocols.contains(chosen) else {
            throw KubectlError.message("error: websocket: the server chose no subprotocol of \(protocols)")
        }
        return KubeWebSocket(connection: connection, subprotocol: chosen, pending: response.body)
    }

    func send(_ opcode: WebSocket.Opcode, _ payload: [UInt8]) throws {
        try connection.send(WebSocket.clientFrame(opcode, payload))
    }

    /// The next data message or close; pings are answered on the way. nil when the connection
    /// ended without a close frame.
    func next() throws -> WebSocketMessage? {
        while true {
            while let message = try reader.next() {
                switch message {
                case .ping(let payload): try send(.pong, payload)
                case .pong: continue
                case .binary, .text, .close: return message
                }
            }
            let bytes = try connection.receive()
            if bytes.isEmpty { return nil }
            reader.append(bytes)
        }
    }

    /// Answers the server's close (or starts one) with a normal closure.
    func close() {
        try? connection.send(WebSocket.clientCloseFrame(code: WebSocket.normalClosure))
    }

    /// Ends the connection at once: a thread blocked in `next` returns.
    func shutdown() {
        connection.shutdown()
    }
}
