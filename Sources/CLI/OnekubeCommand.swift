import ArgumentParser
import Dispatch
import Glibc
import Images

/// `onekube`: cluster lifecycle, and the docker and kubectl modes.
struct OnekubeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onekube",
        abstract: "A whole Kubernetes developer cluster in one binary and one process.",
        version: OnekubeVersion.string,
        subcommands: [StartCommand.self, StopCommand.self, StatusCommand.self, DeleteCommand.self,
                      DockerEnvCommand.self, DockerCommand.self, NodeCommand.self, KubectlCommand.self, DemoCommand.self])
}

/// The entry point: `docker` or `kubectl` as argv[0] is that mode, anything else is `onekube`.
public enum CLIEntry {
    /// Runs the CLI from synchronous top-level code (the main thread serves the main actor).
    public static func run(arguments: [String]) -> Never {
        Task { @MainActor in
            await main(arguments: arguments)
            exit(0)
        }
        dispatchMain()
    }

    public static func main(arguments: [String]) async {
        let invokedAs = arguments.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "onekube"
        let rest = Array(arguments.dropFirst())
        if invokedAs == "kubectl" {
            await KubectlCommand.main(KubectlArguments.movingGlobalOptions(rest))
        } else if rest.first == "kubectl" {
            await OnekubeCommand.main(["kubectl"] + KubectlArguments.movingGlobalOptions(Array(rest.dropFirst())))
        } else if invokedAs == "docker" {
            DockerCommand.runAsDocker(rest)
        } else if rest.first == "docker" {
            DockerCommand.runAsDocker(Array(rest.dropFirst()))
        } else {
            await OnekubeCommand.main(rest)
        }
    }
}
