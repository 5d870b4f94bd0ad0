import ArgumentParser
import Foundation
import Glibc
import Images
import Platform

struct DockerRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "run", abstract: "Create and run a new container from an image")

    @OptionGroup var global: DockerGlobalOptions
    @OptionGroup var options: ContainerCreateOptions
    @Flag(name: [.short, .customLong("detach")], help: "Run container in background and print container ID") var detach = false
    @Flag(name: .customLong("rm"), help: "Automatically remove the container and its associated anonymous volumes when it exits") var autoRemove = false
    @Argument(parsing: .captureForPassthrough, help: "IMAGE [COMMAND] [ARG...]") var arguments: [String] = []

    func run() throws {
        try dockerRun {
            let client = global.client
            let (image, command) = try splitPositionals(arguments, command: "run", usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]")
            let attach = !detach
            let body = try options.body(image: image, command: command, attachStdin: attach && options.interactive,
                                        attach: attach, autoRemove: autoRemove, subcommand: "run")
            let id = try runFailing { try ContainerCreation.create(client: client, image: image, name: options.name, body: body) }
            if detach {
                try runFailing { try ContainerCreation.start(client: client, id: id) }
                Console.out(id + "\n")
                return
            }
            let status = try ContainerCreation.runAttached(
                client: client, id: id, tty: options.tty, stdin: options.interactive, autoRemove: autoRemove)
            throw ExitCode(status)
        }
    }

    /// `docker run` reports daemon errors as `docker: …` with its usage hint and exit code 125.
    func runFailing<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as DockerCLIError {
            throw ContainerCreation.runError(error)
        }
    }
}

struct DockerCreate: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a new container")

    @OptionGroup var global: DockerGlobalOptions
    @OptionGroup var options: ContainerCreateOptions
    @Flag(name: .customLong("rm"), help: "Automatically remove the container when it exits") var autoRemove = false
    @Argument(parsing: .captureForPassthrough, help: "IMAGE [COMMAND] [ARG...]") var arguments: [String] = []

    func run() throws {
        try dockerRun {
            let (image, command) = try splitPositionals(arguments, command: "create", usage: "[OPTIONS] IMAGE [COMMAND] [ARG...]")
            let body = try options.body(image: image, command: command, attachStdin: options.interactive, attach: true,
                                        autoRemove: autoRemove, subcommand: "create")
            let id = try ContainerCreation.create(client: global.client, image: image, name: options.name, body: body)
            Console.out(id + "\n")
        }
    }
}

/// The steps `docker run` takes, as the docker CLI takes them.
enum ContainerCreation {
    /// POST /containers/create; on a missing image, pull it (progress on stderr) and try again.
    static func create(client: DockerClient, image: String, name: String?, body: OrderedJSON) throws -> String {
        let query = name.map { [("name", $0)] } ?? []
        var response = try client.request("POST", "/containers/create", query: query, body: Array(body.serialized().utf8))
        if response.status == 404 {
            let reference: ImageReference
            do { reference = ImageReference.parse(try ImageReference.parseNormalized(image)) } catch {
                throw DockerCLIError(message: "\(error)")
            }
            Console.err("Unable to find image '\(reference.familiarString)' locally\n")
            do {
                try DockerPull.pull(reference, client: client, platform: nil, quiet: false, toStandardError: true)
            } catch let error as DockerCLIError {
                throw DockerCLIError(message: error.message, exitCode: 125)
            }
            response = try client.request("POST", "/containers/create", query: query, body: Array(body.serialized().utf8))
        }
        guard response.isSuccess else { throw DockerClient.daemonError(response) }
        let json = try response.json()
        for warning in json["Warnings"]?.arrayValue ?? [] {
            if let text = warning.stringValue { Console.err("WARNING: \(text)\n") }
        }
        guard let id = json["Id"]?.stringValue else { throw DockerCLIError(message: "invalid answer from daemon: no Id") }
        return id
    }

    static func start(client: DockerClient, id: String) throws {
        let response = try client.request("POST", "/containers/\(id)/start")
        guard response.isSuccess || response.status == 304 else { throw DockerClient.daemonError(response) }
    }

    /// attach, wait, start, then copy the streams; returns the container's exit code.
    static func runAttached(client: DockerClient, id: String, tty: Bool, stdin: Bool, autoRemove: Bool) throws -> Int32 {
        var query = [("stream", "1"), ("stdout", "1"), ("stderr", "1")]
        if stdin { query.append(("stdin", "1")) }
        let connection: HijackedConnection
        do {
            connection = try HijackedConnection.open(client, path: "/containers/\(id)/attach", query: query)
        } catch let error as DockerCLIError {
            throw runError(error)
        }
        let waiter = try ExitWaiter(client: client, id: id, condition: autoRemove ? "removed" : "next-exit")
        do {
            try start(client: client, id: id)
        } catch let error as DockerCLIError {
            throw runError(error)
        }
        var resize: (@Sendable (UInt16, UInt16) -> Void)?
        if tty {
            resize = { rows, columns in
                _ = try? client.request("POST", "/containers/\(id)/resize", query: [("h", "\(rows)"), ("w", "\(columns)")])
            }
        }
        let signals = tty ? nil : SignalProxy(client: client, id: id)
        defer { signals?.stop() }
        try AttachSession.run(connection, tty: tty, sendStdin: stdin, resize: resize)
        return try waiter.result()
    }

    /// `docker: <message>` + usage hint; 126 and 127 when the command could not run.
    static func runError(_ error: DockerCLIError) -> DockerCLIError {
        let message = error.message
        var code: Int32 = 125
        if message.contains("executable file not found") || message.contains("no such file or directory")
            || message.contains("system cannot find the file specified") {
            code = 127
        } else if message.contains("permission denied") || message.contains("is a directory") {
            code = 126
        }
        return DockerCLIError(message: "docker: \(message)\n\nRun 'docker run --help' for more information", exitCode: code)
    }
}

/// POST /containers/{id}/wait: sent, and its headers read, before the container starts (the
/// daemon registers the waiter then); the body, at the exit, is read on its own thread.
final class ExitWaiter: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var outcome: Result<Int32, DockerCLIError> = .success(0)

    init(client: DockerClient, id: String, condition: String) throws {
        let connection = try HijackedConnection.connect(client)
        try connection.send(path: "/containers/\(id)/wait", query: [("condition", condition)], upgrade: false)
        let head = try connection.readHead()
        let status = head.status
        let thread = Thread { [self] in
            let body = connection.readBody(head)
            if !(200..<300).contains(status) {
                outcome = .failure(DockerCLIError(message: "Error response from daemon: " + DockerClient.errorMessage(status: status, body: body),
                                                  exitCode: 125))
            } else if let json = try? OrderedJSON(parsing: body) {
                if let error = json["Error"]?["Message"]?.stringValue, !error.isEmpty {
                    outcome = .failure(DockerCLIError(message: "Error waiting for container: \(error)", exitCode: 125))
                } else {
                    outcome = .success(Int32(json["StatusCode"]?.intValue ?? 0))
                }
            } else {
                outcome = .failure(DockerCLIError(message: "Error waiting for container: unexpected EOF", exitCode: 125))
            }
            done.signal()
        }
        thread.stackSize = 256 << 10
        thread.start()
    }

    func result() throws -> Int32 {
        done.wait()
        return try outcome.get()
    }
}

/// While attached without a terminal, signals we get go to the container (the docker CLI's
/// signal proxy).
final class SignalProxy: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []

    init(client: DockerClient, id: String) {
        for (number, name) in [(SIGINT, "INT"), (SIGTERM, "TERM"), (SIGHUP, "HUP"), (SIGQUIT, "QUIT"), (SIGUSR1, "USR1"), (SIGUSR2, "USR2")] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                _ = try? client.request("POST", "/containers/\(id)/kill", query: [("signal", name)])
            }
            source.resume()
            sources.append(source)
        }
    }

    func stop() {
        sources.forEach { $0.cancel() }
    }
}
