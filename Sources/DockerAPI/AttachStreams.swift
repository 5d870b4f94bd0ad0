import ContainerRuntime
import HTTPServer
import NIOCore
import NIOHTTP1
import Platform

extension DockerAPI {
    static func streamContentType(tty: Bool) -> String {
        tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream"
    }

    /// Output bytes as the client reads them: raw with a terminal, framed without.
    static func wire(_ chunk: OutputChunk, tty: Bool, timestamps: Bool = false) -> [UInt8] {
        var bytes = chunk.bytes
        if timestamps { bytes = Array((chunk.time.rfc3339Nano + " ").utf8) + bytes }
        return tty ? bytes : StreamFraming.frame(chunk.stream == .stderr ? .stderr : .stdout, bytes)
    }

    static func upgradeHeaders(tty: Bool) -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: streamContentType(tty: tty))
        headers.add(name: "Upgrade", value: "tcp")
        return headers
    }

    /// `POST /containers/{id}/attach`: answered `101` at once (the CLI sends `wait` and `start`
    /// only after it), then output until the run ends, and client bytes to the process's stdin.
    func attachContainer(_ id: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let query = request.query
        var streams: Set<OutputStream> = []
        if query.bool("stdout") { streams.insert(.stdout) }
        if query.bool("stderr") { streams.insert(.stderr) }
        let withStdin = query.bool("stdin")
        let (record, output) = try containers.attach(id, streams: streams)
        let tty = record.config.tty
        let containers = self.containers
        let containerID = record.id
        let closesStdin = record.config.stdinOnce && !tty
        return HTTPServerResponse(status: .switchingProtocols, headers: Self.upgradeHeaders(tty: tty), body: .upgrade { connection in
            try await Self.pump(connection, output: output, tty: tty, stdinEndsSession: tty && withStdin) { bytes in
                if withStdin { containers.writeStdin(containerID, bytes) }
            } onInputEnd: {
                if withStdin && closesStdin { containers.closeStdin(containerID) }
            }
        })
    }

    /// Copies client bytes to `input` and output to the client until the output ends. With a
    /// terminal and stdin, the client's EOF ends the session (the real daemon leaves the
    /// process's input open then).
    static func pump(
        _ connection: UpgradedConnection, output: AsyncStream<OutputChunk>, tty: Bool, stdinEndsSession: Bool,
        input: @escaping @Sendable ([UInt8]) async -> Void, onInputEnd: @escaping @Sendable () async -> Void
    ) async throws {
        try await withThrowingTaskGroup(of: Bool.self) { group in
            group.addTask {
                // Ends at the client's half-close, or when it goes away.
                for await buffer in connection.inbound {
                    await input(Array(buffer.readableBytesView))
                }
                await onInputEnd()
                return stdinEndsSession
            }
            group.addTask {
                for await chunk in output {
                    try await connection.write(wire(chunk, tty: tty))
                }
                return true
            }
            while let finished = try await group.next() {
                if finished {
                    group.cancelAll()
                    return
                }
            }
        }
    }

    /// `GET /containers/{id}/logs`: the log (framed unless the container has a terminal), then,
    /// with `follow`, live output until the container stops.
    func containerLogs(_ id: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let query = request.query
        var streams: Set<OutputStream> = []
        if query.bool("stdout") { streams.insert(.stdout) }
        if query.bool("stderr") { streams.insert(.stderr) }
        guard !streams.isEmpty else {
            throw OnekubeError(.invalidArgument, "Bad parameters: you must choose at least one stream")
        }
        let follow = query.bool("follow")
        let (record, past, live) = try containers.logs(id, follow: follow)
        let tty = record.config.tty
        let timestamps = query.bool("timestamps")
        let since = Double(query["since"] ?? "") ?? 0
        let until = Double(query["until"] ?? "") ?? 0
        let tailText = query["tail"] ?? "all"
        var entries = past.filter { streams.contains($0.stream) }
        if since > 0 { entries = entries.filter { $0.time.secondsDouble >= since } }
        if until > 0 { entries = entries.filter { $0.time.secondsDouble <= until } }
        if let lines = Int(tailText), tailText != "all" { entries = ContainerLog.tail(entries, lines: lines) }
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: Self.streamContentType(tty: tty))
        let selected = streams
        let entriesToSend = entries
        return HTTPServerResponse(status: .ok, headers: headers, body: .stream { writer in
            for entry in entriesToSend {
                let chunk = OutputChunk(stream: entry.stream, bytes: entry.bytes, time: entry.time)
                try await writer.write(Self.wire(chunk, tty: tty, timestamps: timestamps))
            }
            guard let live, until == 0 else { return }
            for await chunk in live where selected.contains(chunk.stream) {
                try await writer.write(Self.wire(chunk, tty: tty, timestamps: timestamps))
            }
        })
    }
}
