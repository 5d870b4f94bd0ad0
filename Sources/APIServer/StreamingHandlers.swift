import HTTPServer
import KubeModel
import KubeStreams
import NIOHTTP1
import Platform

/// `pods/exec`, `pods/attach` and `pods/portforward`: the apiserver's checks (the pod, its
/// container, its node), then the upgrade the client asked for — WebSocket (kubectl 1.30+) or
/// SPDY/3.1 (older kubectl, and the fallback) — and the session over `podStreaming`.
extension KubernetesAPI {
    func streamSubresource(_ request: HTTPServerRequest, _ path: ResourcePath, name: String, subresource: String) throws -> HTTPServerResponse {
        let pod = try existing(path.type, namespace: path.namespace, name: name).value
        let namespace = path.namespace ?? ""
        let uid = pod[path: ["metadata", "uid"]]?.stringValue ?? ""
        if subresource == "portforward" {
            try requireHost(pod)
            guard let podStreaming else { throw APIError.badRequest("port-forward is not available: onekube runs no pods") }
            let address = PodAddress(namespace: namespace, pod: name, uid: uid, ip: pod[path: ["status", "podIP"]]?.stringValue)
            return try portForward(request, address, podStreaming)
        }
        let container = try Self.streamContainer(pod, asked: request.query["container"])
        try requireHost(pod)
        guard let podStreaming else { throw APIError.badRequest("\(subresource) is not available: onekube runs no pods") }
        let query = request.query
        let tty = query.bool("tty")
        let stdin = query.bool("stdin"), stdout = query.bool("stdout")
        let stderr = query.bool("stderr") && !tty
        guard stdin || stdout || query.bool("stderr") else {
            throw APIError.badRequest("you must specify at least 1 of stdin, stdout, stderr")
        }
        let command = subresource == "exec" ? query.all("command") : nil
        if let command, command.isEmpty { throw APIError.badRequest("you must specify at least 1 command") }

        let target = PodContainer(namespace: namespace, pod: name, uid: uid, container: container)
        let transport = try Self.remoteCommandTransport(request)
        let session: any ContainerStreamSession
        do {
            if let command {
                session = try podStreaming.exec(target, command: command, tty: tty, stdin: stdin)
            } else {
                session = try podStreaming.attach(target, tty: tty, stdin: stdin)
            }
        } catch let error as PodStreamingError {
            // The kubelet's answer, in plain text, which kubectl prints after `unable to upgrade connection: `.
            return Self.kubeletError(error)
        }
        let logger = self.logger
        logger.info("\(subresource) session", metadata: [
            "pod": "\(namespace)/\(name)", "container": "\(container)", "transport": "\(transport.name)", "tty": "\(tty)"])
        switch transport {
        case .webSocket(let headers):
            return HTTPServerResponse(status: .switchingProtocols, headers: headers, body: .upgrade { connection in
                await WebSocketSessions.remoteCommand(connection: connection, session: session, command: command, logger: logger)
            })
        case .spdy(let headers):
            let expected = RemoteCommand.expectedStreams(stdin: stdin, stdout: stdout, stderr: stderr, tty: tty)
            return HTTPServerResponse(status: .switchingProtocols, headers: headers, body: .upgrade { connection in
                let spdy = try SPDYConnection(sink: connection.queue)
                await SPDYSessions.remoteCommand(source: { RawByteSource(connection) }, connection: spdy, session: session,
                                                 expected: expected, command: command, logger: logger)
            })
        }
    }

    enum StreamTransport {
        case webSocket(HTTPHeaders)
        case spdy(HTTPHeaders)

        var name: String {
            switch self {
            case .webSocket(let headers): return "websocket \(headers.first(name: "Sec-WebSocket-Protocol") ?? "")"
            case .spdy(let headers): return "spdy \(headers.first(name: "X-Stream-Protocol-Version") ?? "")"
            }
        }
    }

    /// The 101's headers for the protocol both sides speak.
    static func remoteCommandTransport(_ request: HTTPServerRequest) throws -> StreamTransport {
        let upgrade = request.headers[canonicalForm: "Upgrade"].map { $0.lowercased() }
        if upgrade.contains("websocket") {
            let offered = request.headers["Sec-WebSocket-Protocol"]
            guard let chosen = WebSocket.negotiate(offered: offered, supported: ChannelProtocol.supported) else {
                throw APIError.badRequest("unable to upgrade: unable to negotiate protocol: client supports \(offered), server supports \(ChannelProtocol.supported)")
            }
            return .webSocket(try Self.webSocketHeaders(request, protocol: chosen))
        }
        if upgrade.contains("spdy/3.1") {
            let offered = request.headers[canonicalForm: "X-Stream-Protocol-Version"].map(String.init)
            guard let chosen = RemoteCommand.spdyProtocols.first(where: offered.contains) else {
                throw APIError.forbidden(message: "unable to upgrade: unable to negotiate protocol: client supports \(offered), server supports \(RemoteCommand.spdyProtocols)")
            }
            return .spdy(Self.spdyHeaders(protocol: chosen))
        }
        throw APIError.badRequest("Upgrade request required")
    }

    func portForward(_ request: HTTPServerRequest, _ pod: PodAddress, _ streaming: any PodStreaming) throws -> HTTPServerResponse {
        let upgrade = request.headers[canonicalForm: "Upgrade"].map { $0.lowercased() }
        let logger = self.logger
        if upgrade.contains("websocket") {
            let offered = request.headers["Sec-WebSocket-Protocol"]
            guard WebSocket.negotiate(offered: offered, supported: [PortForwardProtocol.webSocketTunnel]) != nil else {
                throw APIError.badRequest("unable to upgrade: unable to negotiate protocol: client supports \(offered), server supports [\(PortForwardProtocol.webSocketTunnel)]")
            }
            let headers = try Self.webSocketHeaders(request, protocol: PortForwardProtocol.webSocketTunnel)
            logger.info("portforward session", metadata: ["pod": "\(pod.namespace)/\(pod.pod)", "transport": "websocket \(PortForwardProtocol.webSocketTunnel)"])
            return HTTPServerResponse(status: .switchingProtocols, headers: headers, body: .upgrade { connection in
                let output = WebSocketOutput(connection)
                let spdy = try SPDYConnection(sink: { output.queue(.binary, $0) })
                await SPDYSessions.portForward(source: { WebSocketTunnelSource(input: WebSocketInput(connection, output: output)) }, connection: spdy, pod: pod, streaming: streaming, logger: logger)
                await output.close()
            })
        }
        if upgrade.contains("spdy/3.1") {
            let offered = request.headers[canonicalForm: "X-Stream-Protocol-Version"].map(String.init)
            guard offered.contains(PortForwardProtocol.name) else {
                throw APIError.forbidden(message: "unable to upgrade: unable to negotiate protocol: client supports \(offered), server supports [\(PortForwardProtocol.name)]")
            }
            logger.info("portforward session", metadata: ["pod": "\(pod.namespace)/\(pod.pod)", "transport": "spdy \(PortForwardProtocol.name)"])
            return HTTPServerResponse(status: .switchingProtocols, headers: Self.spdyHeaders(protocol: PortForwardProtocol.name), body: .upgrade { connection in
                let spdy = try SPDYConnection(sink: connection.queue)
                await SPDYSessions.portForward(source: { RawByteSource(connection) }, connection: spdy, pod: pod, streaming: streaming, logger: logger)
            })
        }
        throw APIError.badRequest("Upgrade request required")
    }

    /// The container a stream names, checked as the apiserver's `streamLocation` does.
    static func streamContainer(_ pod: OrderedJSON, asked: String?) throws -> String {
        let names = { (key: String) in (pod[path: ["spec", key]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue } }
        let containers = names("containers")
        if let asked, !asked.isEmpty {
            guard (containers + names("initContainers") + names("ephemeralContainers")).contains(asked) else {
                throw APIError.badRequest("container \(asked) is not valid for pod \(pod.name)")
            }
            return asked
        }
        switch containers.count {
        case 1: return containers[0]
        case 0: throw APIError.badRequest("a container name must be specified for pod \(pod.name)")
        default:
            var message = "a container name must be specified for pod \(pod.name), choose one of: [\(containers.joined(separator: " "))]"
            let initContainers = names("initContainers")
            if !initContainers.isEmpty { message += " or one of the init containers: [\(initContainers.joined(separator: " "))]" }
            throw APIError.badRequest(message)
        }
    }

    static func webSocketHeaders(_ request: HTTPServerRequest, protocol chosen: String) throws -> HTTPHeaders {
        guard let key = request.headers.first(name: "Sec-WebSocket-Key") else {
            throw APIError.badRequest("websocket: the client did not send Sec-WebSocket-Key")
        }
        var headers = HTTPHeaders()
        headers.add(name: "Upgrade", value: "websocket")
        headers.add(name: "Sec-WebSocket-Accept", value: WebSocket.acceptKey(for: key))
        headers.add(name: "Sec-WebSocket-Protocol", value: chosen)
        return headers
    }

    static func spdyHeaders(protocol chosen: String) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Upgrade", value: "SPDY/3.1")
        headers.add(name: "X-Stream-Protocol-Version", value: chosen)
        return headers
    }

    static func kubeletError(_ error: PodStreamingError) -> HTTPServerResponse {
        var response = text(error.message, status: .internalServerError)
        // Not a Status: kubectl shows it as `error: unable to upgrade connection: <message>`.
        response.headers.replaceOrAdd(name: "Content-Type", value: "text/plain; charset=utf-8")
        return response
    }
}

extension APIError {
    static func forbidden(message: String) -> APIError {
        APIError(code: 403, reason: "Forbidden", message: message)
    }
}
