import CLI
import ContainerRuntime
import Glibc

// The container runtime's helper modes come first, while this process still has a single thread:
// unshare and fork need that, and top-level `await` would already have started the concurrency
// runtime's threads. Everything else is the CLI.
if let status = RuntimeHelper.runIfRequested(CommandLine.arguments) { exit(status) }
CLIEntry.run(arguments: CommandLine.arguments)
