import ArgumentParser
import Foundation
import Glibc
import HTTPClient
import Platform

/// `onekube docker …` (or the binary invoked as `docker`): a client of onekube's Engine API
/// whose commands, output and exit codes follow the docker CLI.
struct DockerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "docker",
        abstract: "A docker-compatible client of onekube's Docker Engine API.",
        subcommands: [DockerRun.self, DockerCreate.self, DockerContainer.self, DockerStart.self, DockerPs.self, DockerLogs.self, DockerExec.self,
                      DockerStop.self, DockerKill.self, DockerRestart.self, DockerRm.self, DockerRename.self, DockerPort.self, DockerWait.self, DockerAttach.self,
                      DockerPull.self, DockerImages.self, DockerImage.self, DockerHistory.self, DockerRmi.self, DockerTag.self,
                      DockerBuild.self, DockerSave.self, DockerLoad.self, DockerPush.self, DockerLogin.self, DockerLogout.self, DockerBuilder.self,
                      DockerInspect.self, DockerVersion.self, DockerInfo.self, DockerSystem.self])

    /// Parses and runs like the docker CLI: usage errors print docker's hint and exit 125.
    static func runAsDocker(_ arguments: [String]) -> Never {
        do {
            var command = try parseAsRoot(arguments)
            try command.run()
            Glibc.exit(0)
        } catch {
            let code = exitCode(for: error)
            if code == .validationFailure && !(error is ExitCode) {
                let subcommand = arguments.first { !$0.hasPrefix("-") } ?? ""
                var message = self.message(for: error)
                if message.hasPrefix("Unknown option '"), let end = message.dropFirst(16).firstIndex(of: "'") {
                    message = "unknown flag: " + message[message.index(message.startIndex, offsetBy: 16)..<end]
                } else {
                    message = "docker: " + message
                }
                Console.err("\(message)\nSee 'docker \(subcommand) --help'.\n")
                Glibc.exit(125)
            }
            self.exit(withError: error)
        }
    }
}

/// Flags every docker subcommand shares, and the way it reports errors.
struct DockerGlobalOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: ArgumentHelp("onekube's data directory (default $ONEKUBE_DATA_DIR or /var/lib/onekube).", visibility: .hidden))
    var dataDirectory: String?

    var client: DockerClient { DockerClient.fromEnvironment(dataDirectory: dataDirectory) }
}

/// Runs a docker-mode body, printing errors docker's way and exiting with its codes.
func dockerRun(_ body: () throws -> Void) throws {
    do {
        try body()
    } catch let error as DockerCLIError {
        Console.err(error.message + "\n")
        throw ExitCode(error.exitCode)
    } catch let error as ExitCode {
        throw error
    } catch {
        Console.err("\(error)\n")
        throw ExitCode(1)
    }
}

extension HTTPClientResponse {
    var isSuccess: Bool { (200..<300).contains(status) }

    func json() throws -> OrderedJSON {
        do { return try OrderedJSON(parsing: body) } catch { throw DockerCLIError(message: "invalid answer from daemon: \(error)") }
    }
}
