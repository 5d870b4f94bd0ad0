/// The hidden helper modes of the onekube executable. `main.swift` calls `runIfRequested` before
/// anything else, while the process still has a single thread (unshare and fork need that).
public enum RuntimeHelper {
    /// The first argument that selects a helper mode; followed by `zygote` (which forks the
    /// others), `container`, `exec` or `sandbox`.
    public static let marker = "__onekube-runtime"

    public enum Mode: String, Sendable {
        case container, exec, sandbox
        /// The server that forks the others (see `Zygote`).
        case zygote
    }

    public static func arguments(_ mode: Mode, id: String) -> [String] { [marker, mode.rawValue, id] }

    /// Runs the helper mode `arguments` ask for and returns its exit code, or nil for the CLI.
    public static func runIfRequested(_ arguments: [String]) -> Int32? {
        guard arguments.count >= 3, arguments[1] == marker, let mode = Mode(rawValue: arguments[2]) else { return nil }
        return run(mode)
    }

    static func run(_ mode: Mode) -> Int32 {
        switch mode {
        case .container: return InitHelper.run()
        case .exec: return ExecHelper.run()
        case .sandbox: return SandboxHelper.run()
        case .zygote: return Zygote.run()
        }
    }
}
