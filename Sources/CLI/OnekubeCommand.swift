import ArgumentParser
import Images

/// `onekube`: cluster lifecycle, and the docker and kubectl modes.
struct OnekubeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "onekube",
        abstract: "A whole Kubernetes developer cluster in one binary and one process.",
        version: OnekubeVersion.string,
        subcommands: [StartCommand.self, StopCommand.self, StatusCommand.self, DeleteCommand.self,
                      DockerEnvCommand.self, DockerCommand.self, NodeCommand.self])
}

/// The entry point: `docker` as argv[0] is the docker mode, anything else is `onekube`.
public enum CLIEntry {
    public static func main(arguments: [String]) async {
        let invokedAs = arguments.first.map { $0.split(separator: "/").last.map(String.init) ?? $0 } ?? "onekube"
        let rest = Array(arguments.dropFirst())
        if invokedAs == "docker" {
            DockerCommand.main(rest)
        } else {
            await OnekubeCommand.main(rest)
        }
    }
}
