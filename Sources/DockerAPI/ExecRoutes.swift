import ContainerRuntime
import HTTPServer
import NIOCore
import NIOHTTP1
import Platform

extension DockerAPI {
    /// `POST /containers/{id}/exec`.
    func createExec(_ id: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let body = try OrderedJSON(parsing: request.bodyBytes.isEmpty ? Array("{}".utf8) : request.bodyBytes)
        let args = ContainerCreateRequest.strings(body["Cmd"]) ?? []
        guard !args.isEmpty else { throw OnekubeError(.invalidArgument, "No exec command specified") }
        let consoleSize = (body["ConsoleSize"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int.init) }
        let configuration = ExecConfiguration(
            args: args, env: ContainerCreateRequest.strings(body["Env"]) ?? [], user: body["User"]?.stringValue ?? "",
            workingDir: body["WorkingDir"]?.stringValue ?? "", tty: body["Tty"]?.boolValue ?? false,
            attachStdin: body["AttachStdin"]?.boolValue ?? false, attachStdout: body["AttachStdout"]?.boolValue ?? false,
            attachStderr: body["AttachStderr"]?.boolValue ?? false, consoleSize: consoleSize.count == 2 ? consoleSize : [0, 0],
            privileged: body["Privileged"]?.boolValue ?? false)
        let exec = try containers.createExec(id, configuration: configuration)
        return DockerResponse.json(.object([("Id", .string(exec.id))]), status: .created)
    }

    func routeExec(_ request: HTTPServerRequest, id: String, action: String) async throws -> HTTPServerResponse? {
        switch (request.method, action) {
        case (.POST, "start"): return try await startExec(id, request)
        case (.POST, "resize"):
            try containers.resizeExec(id, rows: Int(request.query["h"] ?? "") ?? 0, columns: Int(request.query["w"] ?? "") ?? 0)
            return DockerResponse.empty(.ok)
        case (.GET, "json"): return try inspectExec(id)
        default: return nil
        }
    }

    /// `POST /exec/{id}/start`: detached (200, nothing else), or hijacked like attach; the exit
    /// code is recorded before the stream closes (the CLI asks for it right after).
    func startExec(_ id: String, _ request: HTTPServerRequest) async throws -> HTTPServerResponse {
        let body = (try? OrderedJSON(parsing: request.bodyBytes)) ?? .object([])
        let exec = try containers.exec(id)
        if exec.status.started { throw OnekubeError(.conflict, "Error: Exec command \(id) has already run") }
        let containers = self.containers
        if body["Detach"]?.boolValue == true {
            let output = try await containers.startExec(id)
            Task { for await _ in output {} }
            return DockerResponse.empty(.ok)
        }
        let tty = exec.configuration.tty
        let withStdin = exec.configuration.attachStdin
        // Checked before the 101, so that a stopped container gets a proper HTTP error.
        _ = try containers.inspect(exec.containerID)
        return HTTPServerResponse(status: .switchingProtocols, headers: Self.upgradeHeaders(tty: tty), body: .upgrade { connection in
            let output: AsyncStream<OutputChunk>
            do {
                output = try await containers.startExec(id)
            } catch {
                let message = Array("\(error)\r\n".utf8)
                try await connection.write(tty ? message : StreamFraming.frame(.stdout, message))
                return
            }
            try await Self.pump(connection, output: output, tty: tty, stdinEndsSession: false) { bytes in
                if withStdin { containers.writeExecStdin(id, bytes) }
            } onInputEnd: {
                if withStdin && !tty { containers.closeExecStdin(id) }
            }
        })
    }

    func inspectExec(_ id: String) throws -> HTTPServerResponse {
        let exec = try containers.exec(id)
        let status = exec.status
        let config = exec.configuration
        return DockerResponse.json(.object([
            ("ID", .string(exec.id)), ("Running", .bool(status.running)),
            ("ExitCode", status.exitCode.map { .int(Int($0)) } ?? .null),
            ("ProcessConfig", .object([
                ("tty", .bool(config.tty)), ("entrypoint", .string(config.args.first ?? "")),
                ("arguments", .strings(Array(config.args.dropFirst()))), ("privileged", .bool(config.privileged)),
                ("user", .string(config.user)),
            ])),
            ("OpenStdin", .bool(config.attachStdin)), ("OpenStderr", .bool(config.attachStderr)),
            ("OpenStdout", .bool(config.attachStdout)), ("CanRemove", .bool(false)),
            ("ContainerID", .string(exec.containerID)), ("DetachKeys", .string("")), ("Pid", .int(Int(status.pid))),
        ]))
    }
}
