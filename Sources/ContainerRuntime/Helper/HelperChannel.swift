import Foundation
import Glibc
import Platform

/// The helper's side of its two descriptors from the daemon: the spec to read (fd 3, a memfd)
/// and the status pipe (fd 4) on which it reports `pid N` or `error CODE MESSAGE`. The status
/// pipe is close-on-exec in the container process, so the daemon reads EOF exactly when the
/// process has exec'd (or failed).
enum HelperChannel {
    static let specFD: Int32 = 3
    static let statusFD: Int32 = 4
    /// Where a terminal's master goes (only when the process has a terminal).
    static let consoleSocketFD: Int32 = 5

    static func readSpec<T: Decodable>(_ type: T.Type) throws -> T {
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        lseek(specFD, 0, SEEK_SET)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(specFD, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw SystemError("read", path: "runtime spec")
            }
            if n == 0 { break }
            bytes += buffer[0..<n]
        }
        close(specFD)
        return try JSONDecoder().decode(T.self, from: Data(bytes))
    }

    static func markStatusCloseOnExec() {
        _ = fcntl(statusFD, F_SETFD, FD_CLOEXEC)
    }

    static func send(_ line: String) {
        let text = line.replacingOccurrences(of: "\n", with: " ") + "\n"
        Array(text.utf8).withUnsafeBytes { try? FileSystem.writeAll(statusFD, $0, path: "status pipe") }
    }

    static func reportPID(_ pid: pid_t) { send("pid \(pid)") }

    static func reportError(_ message: String, exitCode: Int32) { send("error \(exitCode) \(message)") }

    /// The helper's own stdio must not keep the container's pipes or terminal open.
    static func detachStandardDescriptors() {
        let null = open("/dev/null", O_RDWR | O_CLOEXEC)
        guard null >= 0 else { return }
        for fd: Int32 in 0...2 { dup2(null, fd) }
        close(null)
    }

    /// Waits for the container's process and turns its end into an exit code as a shell
    /// reports it (128+signal when killed), which becomes the helper's own exit code.
    static func waitForExit(_ pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { return 255 }
        }
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}

/// Whatever the helper's parent half sees go wrong, with the exit code it reports.
struct HelperFailure: Error, CustomStringConvertible {
    var message: String
    var exitCode: Int32 = 128
    var description: String { message }
}
