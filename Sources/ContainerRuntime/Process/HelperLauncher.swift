import CLinux
import Foundation
import Glibc
import Platform

/// Starts runtime helpers (through the zygote, a `/proc/self/exe __onekube-runtime zygote` the
/// daemon spawns; the daemon is multi-threaded and never forks or unshares itself) and reads
/// what they report.
enum HelperLauncher {
    /// A spawned helper: its pid and the read end of its status pipe.
    struct Spawned {
        var pid: pid_t
        var statusFD: Int32
    }

    enum Report: Equatable {
        case started(pid: pid_t)
        case failed(exitCode: Int32, message: String)
    }

    /// `consoleSocket` becomes the helper's fd 5 (a terminal's master comes back over it).
    /// Asks the zygote for a helper with these descriptors and the spec on fd 3; `onExit` gets the
    /// helper's exit code (the container's). `consoleSocket` becomes fd 5 (a terminal's master
    /// comes back over it).
    static func spawn(_ mode: RuntimeHelper.Mode, id: String, spec: some Encodable, stdio: (Int32, Int32, Int32),
                      consoleSocket: Int32? = nil, zygote: HelperZygote,
                      onExit: @escaping @Sendable (Int32) -> Void) async throws -> Spawned {
        let specFD = try memfd(with: try JSONEncoder().encode(spec))
        defer { close(specFD) }
        var status: [Int32] = [-1, -1]
        guard cz_pipe_cloexec(&status) == 0 else { throw SystemError("pipe2") }
        defer { close(status[1]) }
        let descriptors = [stdio.0, stdio.1, stdio.2, specFD, status[1]] + (consoleSocket.map { [$0] } ?? [])
        do {
            let pid = try await zygote.spawn(mode, id: id, descriptors: descriptors, onExit: onExit)
            return Spawned(pid: pid, statusFD: status[0])
        } catch {
            close(status[0])
            throw error
        }
    }

    /// posix_spawn of onekube (`/proc/self/exe`) with `descriptors` as fds 0, 1, 2…, in its own
    /// process group with default signals (the zygote).
    static func spawnProcess(_ executable: String, arguments: [String], descriptors: [Int32]) throws -> pid_t {
        // Sources above the targets, so that no dup2 of the list overwrites a later source.
        let sources = try descriptors.map { fd -> Int32 in
            let high = fcntl(fd, F_DUPFD_CLOEXEC, 10)
            guard high >= 0 else { throw SystemError("fcntl(F_DUPFD_CLOEXEC)") }
            return high
        }
        defer { sources.forEach { close($0) } }

        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (target, source) in sources.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, source, Int32(target))
        }
        cz_posix_spawn_file_actions_addclosefrom(&actions, Int32(sources.count))

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        // Its own process group: a Ctrl-C meant for a foreground daemon must not reach containers.
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

        let argv = (["onekube"] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let rc = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard rc == 0 else { throw SystemError("posix_spawn", path: "runtime helper", errno: rc) }
        return pid
    }

    /// Blocks until the helper's process has exec'd (EOF on the status pipe) and says how it went.
    static func readReport(_ fd: Int32) -> Report {
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            bytes += buffer[0..<n]
        }
        return parseReport(String(decoding: bytes, as: UTF8.self))
    }

    static func parseReport(_ text: String) -> Report {
        var pid: pid_t?
        for line in text.split(separator: "\n") {
            if line.hasPrefix("error ") {
                let rest = line.dropFirst("error ".count)
                let code = rest.prefix(while: { $0 != " " })
                let message = rest.dropFirst(code.count).drop(while: { $0 == " " })
                return .failed(exitCode: Int32(code) ?? 128, message: String(message))
            }
            if line.hasPrefix("pid "), let value = pid_t(line.dropFirst(4)) { pid = value }
        }
        guard let pid else { return .failed(exitCode: 128, message: "the runtime helper ended without reporting") }
        return .started(pid: pid)
    }

    static func memfd(with data: Data) throws -> Int32 {
        let fd = cz_memfd_create("onekube-spec")
        guard fd >= 0 else { throw SystemError("memfd_create") }
        do {
            try data.withUnsafeBytes { try FileSystem.writeAll(fd, $0, path: "memfd") }
        } catch {
            close(fd)
            throw error
        }
        return fd
    }
}
