import ArgumentParser

/// `kubectl completion bash|zsh|fish`: a completion script for onekube's kubectl mode (made by
/// ArgumentParser from the commands and flags, not kubectl's cobra script), to `source`.
struct KubectlCompletionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "completion", abstract: "Output shell completion code for the specified shell (bash, zsh or fish).")

    @Argument(help: "bash, zsh or fish") var shell: String?

    func run() throws {
        guard let shell else {
            Console.err("error: Shell not specified.\nSee 'kubectl completion -h' for help and examples\n")
            throw ExitCode(1)
        }
        guard let kind = CompletionShell(rawValue: shell) else {
            Console.err("error: Unsupported shell type \"\(shell)\".\nSee 'kubectl completion -h' for help and examples\n")
            throw ExitCode(1)
        }
        Console.out(KubectlCommand.completionScript(for: kind))
    }
}
