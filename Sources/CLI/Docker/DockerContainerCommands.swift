import ArgumentParser
import Foundation
import Platform

/// For commands taking several containers: each success prints its argument, each failure its
/// error; exit 1 if any failed (as the docker CLI does).
func forEachContainer(_ names: [String], _ body: (String) throws -> Void) throws {
    var failed = false
    for name in names {
        do {
            try body(name)
            Console.out(name + "\n")
        } catch let error as DockerCLIError {
            Console.err(error.message + "\n")
            failed = true
        }
    }
    if failed { throw ExitCode(1) }
}

struct DockerStart: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start one or more stopped containers")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("attach")], help: "Attach STDOUT/STDERR and forward signals") var attach = false
    @Flag(name: [.short, .customLong("interactive")], help: "Attach container's STDIN") var interactive = false
    @Argument(help: "CONTAINER") var containers: [String]

    func run() throws {
        try dockerRun {
            let client = global.client
            if attach || interactive {
                guard containers.count == 1 else {
                    throw DockerCLIError(message: "you cannot start and attach multiple containers at once")
                }
                let inspect = try client.request("GET", "/containers/\(DockerClient.pathEncode(containers[0]))/json")
                guard inspect.isSuccess else { throw DockerClient.daemonError(inspect) }
                let json = try inspect.json()
                let id = json["Id"]?.stringValue ?? containers[0]
                let tty = json["Config"]?["Tty"]?.boolValue ?? false
                let stdin = interactive && (json["Config"]?["OpenStdin"]?.boolValue ?? false)
                let autoRemove = json["HostConfig"]?["AutoRemove"]?.boolValue ?? false
                var query = [("stream", "1"), ("stdout", "1"), ("stderr", "1")]
                if stdin { query.append(("stdin", "1")) }
                let connection = try HijackedConnection.open(client, path: "/containers/\(id)/attach", query: query)
                let waiter = try ExitWaiter(client: client, id: id, condition: autoRemove ? "removed" : "next-exit")
                try ContainerCreation.start(client: client, id: id)
                var resize: (@Sendable (UInt16, UInt16) -> Void)?
                if tty {
                    resize = { rows, columns in
                        _ = try? client.request("POST", "/containers/\(id)/resize", query: [("h", "\(rows)"), ("w", "\(columns)")])
                    }
                }
                try AttachSession.run(connection, tty: tty, sendStdin: stdin, resize: resize)
                throw ExitCode(try waiter.result())
            }
            var failures: [String] = []
            for name in containers {
                let response = try client.request("POST", "/containers/\(DockerClient.pathEncode(name))/start")
                if response.isSuccess || response.status == 304 {
                    Console.out(name + "\n")
                } else {
                    Console.err(DockerClient.daemonError(response).message + "\n")
                    failures.append(name)
                }
            }
            if !failures.isEmpty {
                throw DockerCLIError(message: "Error: failed to start containers: " + failures.joined(separator: ", "))
            }
        }
    }
}

struct DockerStop: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop one or more running containers")

    @OptionGroup var global: DockerGlobalOptions
    @OptionGroup var stop: DockerStopOptions

    func run() throws {
        // 304: already stopped, which docker does not count as a failure.
        try dockerRun { try stop.post("stop", global: global, notModifiedIsDone: true) }
    }
}

struct DockerRestart: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "restart", abstract: "Restart one or more containers")

    @OptionGroup var global: DockerGlobalOptions
    @OptionGroup var stop: DockerStopOptions

    func run() throws {
        try dockerRun { try stop.post("restart", global: global, notModifiedIsDone: false) }
    }
}

/// What `docker stop` and `docker restart` both take, and their request for each container.
struct DockerStopOptions: ParsableArguments {
    @Option(name: [.short, .customLong("signal")], help: "Signal to send to the container") var signal: String?
    @Option(name: [.short, .customLong("timeout")], help: "Seconds to wait before killing the container") var timeout: Int?
    @Argument(help: "CONTAINER") var containers: [String]

    func post(_ action: String, global: DockerGlobalOptions, notModifiedIsDone: Bool) throws {
        var query: [(String, String)] = []
        if let signal { query.append(("signal", signal)) }
        if let timeout { query.append(("t", "\(timeout)")) }
        try forEachContainer(containers) { name in
            let response = try global.client.request("POST", "/containers/\(DockerClient.pathEncode(name))/\(action)", query: query)
            guard response.isSuccess || (notModifiedIsDone && response.status == 304) else { throw DockerClient.daemonError(response) }
        }
    }
}

struct DockerKill: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "kill", abstract: "Kill one or more running containers")

    @OptionGroup var global: DockerGlobalOptions
    @Option(name: [.short, .customLong("signal")], help: "Signal to send to the container") var signal: String?
    @Argument(help: "CONTAINER") var containers: [String]

    func run() throws {
        try dockerRun {
            let query = signal.map { [("signal", $0)] } ?? []
            try forEachContainer(containers) { name in
                let response = try global.client.request("POST", "/containers/\(DockerClient.pathEncode(name))/kill", query: query)
                guard response.isSuccess else { throw DockerClient.daemonError(response) }
            }
        }
    }
}

/// `docker rename CONTAINER NEW_NAME`: the daemon's refusal, then the CLI's own line.
struct DockerRename: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rename", abstract: "Rename a container")

    @OptionGroup var global: DockerGlobalOptions
    @Argument(help: "CONTAINER") var container: String
    @Argument(help: "NEW_NAME") var newName: String

    func run() throws {
        try dockerRun {
            let old = container.trimmingCharacters(in: .whitespaces), new = newName.trimmingCharacters(in: .whitespaces)
            guard !old.isEmpty && !new.isEmpty else { throw DockerCLIError(message: "Error: Neither old nor new names may be empty") }
            let response = try global.client.request("POST", "/containers/\(DockerClient.pathEncode(old))/rename", query: [("name", new)])
            guard response.isSuccess else {
                Console.err("\(DockerClient.daemonError(response).message)\n")
                throw DockerCLIError(message: "Error: failed to rename container named \(old)")
            }
        }
    }
}

struct DockerRm: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more containers")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("force")], help: "Force the removal of a running container (uses SIGKILL)") var force = false
    @Flag(name: [.short, .customLong("volumes")], help: "Remove anonymous volumes associated with the container") var volumes = false
    @Argument(help: "CONTAINER") var containers: [String]

    func run() throws {
        try dockerRun {
            var query: [(String, String)] = []
            if force { query.append(("force", "1")) }
            if volumes { query.append(("v", "1")) }
            try forEachContainer(containers) { name in
                let response = try global.client.request("DELETE", "/containers/\(DockerClient.pathEncode(name))", query: query)
                guard response.isSuccess else { throw DockerClient.daemonError(response) }
            }
        }
    }
}

struct DockerWait: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "wait", abstract: "Block until one or more containers stop, then print their exit codes")

    @OptionGroup var global: DockerGlobalOptions
    @Argument(help: "CONTAINER") var containers: [String]

    func run() throws {
        try dockerRun {
            var failed = false
            for name in containers {
                let response = try global.client.request("POST", "/containers/\(DockerClient.pathEncode(name))/wait")
                guard response.isSuccess else {
                    Console.err(DockerClient.daemonError(response).message + "\n")
                    failed = true
                    continue
                }
                Console.out("\(try response.json()["StatusCode"]?.intValue ?? 0)\n")
            }
            if failed { throw ExitCode(1) }
        }
    }
}

struct DockerAttach: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "attach", abstract: "Attach local standard input, output, and error streams to a running container")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: .customLong("no-stdin"), help: "Do not attach STDIN") var noStdin = false
    @Argument(help: "CONTAINER") var container: String

    func run() throws {
        try dockerRun {
            let client = global.client
            let inspect = try client.request("GET", "/containers/\(DockerClient.pathEncode(container))/json")
            guard inspect.isSuccess else { throw DockerClient.daemonError(inspect) }
            let json = try inspect.json()
            guard json["State"]?["Running"]?.boolValue == true else {
                throw DockerCLIError(message: "You cannot attach to a stopped container, start it first")
            }
            let id = json["Id"]?.stringValue ?? container
            let tty = json["Config"]?["Tty"]?.boolValue ?? false
            let stdin = !noStdin && (json["Config"]?["OpenStdin"]?.boolValue ?? false)
            var query = [("stream", "1"), ("stdout", "1"), ("stderr", "1")]
            if stdin { query.append(("stdin", "1")) }
            let connection = try HijackedConnection.open(client, path: "/containers/\(id)/attach", query: query)
            var resize: (@Sendable (UInt16, UInt16) -> Void)?
            if tty {
                resize = { rows, columns in
                    _ = try? client.request("POST", "/containers/\(id)/resize", query: [("h", "\(rows)"), ("w", "\(columns)")])
                }
            }
            try AttachSession.run(connection, tty: tty, sendStdin: stdin, resize: resize)
            let after = try client.request("GET", "/containers/\(id)/json")
            if after.isSuccess, let code = try after.json()["State"]?["ExitCode"]?.intValue, code != 0 {
                throw ExitCode(Int32(code))
            }
        }
    }
}
