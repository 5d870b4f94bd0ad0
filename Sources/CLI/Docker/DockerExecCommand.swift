import ArgumentParser
import Foundation
import Platform

struct DockerExec: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Execute a command in a running container")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("detach")], help: "Detached mode: run command in the background") var detach = false
    @Flag(name: [.short, .customLong("interactive")], help: "Keep STDIN open even if not attached") var interactive = false
    @Flag(name: [.short, .customLong("tty")], help: "Allocate a pseudo-TTY") var tty = false
    @Option(name: [.short, .customLong("env")], help: "Set environment variables") var env: [String] = []
    @Option(name: [.short, .customLong("user")], help: "Username or UID (format: \"<name|uid>[:<group|gid>]\")") var user: String?
    @Option(name: [.short, .customLong("workdir")], help: "Working directory inside the container") var workdir: String?
    @Flag(help: "Give extended privileges to the command") var privileged = false
    @Argument(parsing: .captureForPassthrough, help: "CONTAINER COMMAND [ARG...]") var arguments: [String] = []

    func run() throws {
        try dockerRun {
            let (container, command) = try splitPositionals(arguments, command: "exec", usage: "[OPTIONS] CONTAINER COMMAND [ARG...]")
            guard !command.isEmpty else {
                throw DockerCLIError(message: "docker: 'docker exec' requires at least 2 arguments\n\nUsage:  docker exec [OPTIONS] CONTAINER COMMAND [ARG...]\n\nSee 'docker exec --help' for more information", exitCode: 1)
            }
            let client = global.client
            let inspect = try client.request("GET", "/containers/\(DockerClient.pathEncode(container))/json")
            guard inspect.isSuccess else { throw DockerClient.daemonError(inspect) }
            var consoleSize: [OrderedJSON] = [.int(0), .int(0)]
            if tty, let size = Terminal.size(1) { consoleSize = [.int(Int(size.rows)), .int(Int(size.columns))] }
            let body: OrderedJSON = .object([
                ("User", .string(user ?? "")), ("Privileged", .bool(privileged)), ("Tty", .bool(tty)), ("ConsoleSize", .array(consoleSize)),
                ("AttachStdin", .bool(interactive && !detach)), ("AttachStderr", .bool(!detach)), ("AttachStdout", .bool(!detach)),
                ("Detach", .bool(detach)), ("DetachKeys", .string("")),
                ("Env", env.isEmpty ? .null : .strings(env.map(ContainerCreateOptions.expandEnv))),
                ("WorkingDir", .string(workdir ?? "")), ("Cmd", .strings(command)),
            ])
            let created = try client.request("POST", "/containers/\(DockerClient.pathEncode(container))/exec",
                                             body: Array(body.serialized().utf8))
            guard created.isSuccess else { throw DockerClient.daemonError(created) }
            guard let execID = try created.json()["Id"]?.stringValue else { throw DockerCLIError(message: "invalid answer from daemon: no Id") }
            if detach {
                let started = try client.request("POST", "/exec/\(execID)/start",
                                                 body: Array(OrderedJSON.object([("Detach", .bool(true)), ("Tty", .bool(false))]).serialized().utf8))
                guard started.isSuccess else { throw DockerClient.daemonError(started) }
                return
            }
            let startBody: OrderedJSON = .object([("Detach", .bool(false)), ("Tty", .bool(tty)), ("ConsoleSize", .array(consoleSize))])
            let connection = try HijackedConnection.open(client, path: "/exec/\(execID)/start", body: Array(startBody.serialized().utf8))
            var resize: (@Sendable (UInt16, UInt16) -> Void)?
            if tty {
                resize = { rows, columns in
                    _ = try? client.request("POST", "/exec/\(execID)/resize", query: [("h", "\(rows)"), ("w", "\(columns)")])
                }
            }
            try AttachSession.run(connection, tty: tty, sendStdin: interactive, resize: resize)
            let result = try client.request("GET", "/exec/\(execID)/json")
            guard result.isSuccess else { throw DockerClient.daemonError(result) }
            let code = try result.json()["ExitCode"]?.intValue ?? 0
            if code != 0 { throw ExitCode(Int32(code)) }
        }
    }
}
