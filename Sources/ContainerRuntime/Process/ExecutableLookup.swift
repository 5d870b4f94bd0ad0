import Glibc

/// Finds the program to exec the way Go's exec.LookPath does inside runc: names with a slash are
/// used as they are, others are searched in the process's own PATH.
public enum ExecutableLookup {
    public static let defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

    public static func pathVariable(in env: [String]) -> String {
        env.last(where: { $0.hasPrefix("PATH=") }).map { String($0.dropFirst(5)) } ?? defaultPath
    }

    /// `isExecutable` and `kind` are injected for tests; the defaults ask the file system.
    public static func resolve(
        _ name: String, env: [String],
        kind: (String) -> FileKind = FileKind.of
    ) throws(ContainerStartError) -> String {
        if name.contains("/") {
            switch kind(name) {
            case .missing: throw .noSuchFile(name, path: name)
            case .directory: throw .isDirectory(name)
            case .notExecutable: throw .permissionDenied(name)
            case .executable: return name
            }
        }
        for directory in pathVariable(in: env).split(separator: ":", omittingEmptySubsequences: false) {
            let dir = directory.isEmpty ? "." : String(directory)
            let candidate = dir + "/" + name
            if kind(candidate) == .executable { return candidate }
        }
        throw .executableNotFound(name)
    }

    public enum FileKind: Equatable, Sendable {
        case missing, directory, notExecutable, executable

        public static func of(_ path: String) -> FileKind {
            var st = stat()
            guard stat(path, &st) == 0 else { return .missing }
            if (st.st_mode & S_IFMT) == S_IFDIR { return .directory }
            return access(path, X_OK) == 0 && st.st_mode & 0o111 != 0 ? .executable : .notExecutable
        }
    }
}
