import CLI

// Helper modes that must run before any thread exists (the container runtime's re-exec) will be
// dispatched here, first; everything else is the CLI.
await CLIEntry.main(arguments: CommandLine.arguments)
