import CLinux
import Glibc

/// Starts programs with posix_spawn (never fork: the daemon and the CLI are multi-threaded).
public enum ProcessSpawner {
    /// The path of the running executable, for re-executing ourselves in another mode.
    public static func currentExecutable() -> String {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return CommandLine.arguments[0] }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Spawns `argv` detached from our session (setsid) with stdin from /dev/null and stdout and
    /// stderr appended to `logPath`. Returns the child's pid.
    public static func spawnDetached(
        executable: String, arguments: [String], environment: [String], logPath: String
    ) throws -> pid_t {
        try spawn(executable: executable, arguments: arguments, environment: environment,
                  stdinPath: "/dev/null", stdoutPath: logPath, stderrPath: nil, appendOutput: true, newSession: true)
    }

    /// posix_spawn with our standard descriptors (an editor on the user's terminal) and every
    /// other descriptor closed in the child.
    public static func spawnInheritingStdio(executable: String, arguments: [String], environment: [String]) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        cz_posix_spawn_file_actions_addclosefrom(&actions, 3)
        var pid = pid_t()
        let rc = withCStrings(argv: [executable] + arguments, envp: environment) { argv, envp in
            posix_spawnp(&pid, executable, &actions, nil, argv, envp)
        }
        guard rc == 0 else { throw SystemError("posix_spawnp", path: executable, errno: rc) }
        return pid
    }

    /// posix_spawn with the standard descriptors taken from files (stderr joins stdout when
    /// `stderrPath` is nil) and every other descriptor closed in the child, so that no pipe or
    /// socket of ours is kept open by it.
    public static func spawn(
        executable: String, arguments: [String], environment: [String],
        stdinPath: String, stdoutPath: String, stderrPath: String?, appendOutput: Bool = false, newSession: Bool = false
    ) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let outputFlags = O_WRONLY | O_CREAT | (appendOutput ? O_APPEND : O_TRUNC)
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, outputFlags, 0o600)
        if let stderrPath {
            posix_spawn_file_actions_addopen(&actions, 2, stderrPath, outputFlags, 0o600)
        } else {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        }
        cz_posix_spawn_file_actions_addclosefrom(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaultSignals = sigset_t()
        sigemptyset(&defaultSignals)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaultSignals, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var flags = Int32(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK)
        if newSession { flags |= cz_posix_spawn_setsid_flag() }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        var pid = pid_t()
        let rc = withCStrings(argv: [executable] + arguments, envp: environment) { argv, envp in
            posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        }
        guard rc == 0 else { throw SystemError("posix_spawn", path: executable, errno: rc) }
        return pid
    }

    /// Waits for a child and returns its exit status as a shell reports it (128+signal if killed).
    /// `argv` and `envp` as the NULL-terminated C string arrays posix_spawn takes, freed after `body`.
    static func withCStrings<T>(argv: [String], envp: [String],
                                _ body: ([UnsafeMutablePointer<CChar>?], [UnsafeMutablePointer<CChar>?]) -> T) -> T {
        let cArgv = argv.map { strdup($0) } + [nil]
        let cEnvp = envp.map { strdup($0) } + [nil]
        defer {
            cArgv.forEach { free($0) }
            cEnvp.forEach { free($0) }
        }
        return body(cArgv, cEnvp)
    }

    public static func wait(_ pid: pid_t) throws -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw SystemError("waitpid", path: "pid \(pid)") }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

    /// Whether `pid` names a live process (a zombie counts as gone).
    public static func isAlive(_ pid: pid_t) -> Bool {
        guard pid > 0, kill(pid, 0) == 0 || errno == EPERM else { return false }
        guard let stat = try? FileSystem.readString("/proc/\(pid)/stat"),
              let close = stat.lastIndex(of: ")") else { return true }
        let state = stat[stat.index(after: close)...].drop(while: { $0 == " " }).first
        return state != "Z"
    }
}
