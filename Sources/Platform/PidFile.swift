import Foundation
import Glibc

/// The daemon's pid file, guarded by an exclusive `flock` held for the daemon's lifetime. The kernel
/// drops the lock when the process dies, so a pid file left by a crash is recognised as stale.
public final class PidFile: @unchecked Sendable {
    public let path: String
    private let fd: Int32

    public enum Status: Equatable, Sendable {
        case running(pid: Int32)
        case notRunning
    }

    /// Takes the lock and writes our pid, or reports the pid of the process that holds it.
    public static func acquire(path: String) throws -> Result<PidFile, AlreadyRunning> {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let err = errno
            close(fd)
            if err == EWOULDBLOCK {
                return .failure(AlreadyRunning(pid: readPid(path) ?? 0))
            }
            throw SystemError("flock", path: path, errno: err)
        }
        let text = "\(getpid())\n"
        guard ftruncate(fd, 0) == 0 else { close(fd); throw SystemError("ftruncate", path: path) }
        let written = text.withCString { pwrite(fd, $0, strlen($0), 0) }
        guard written >= 0 else { close(fd); throw SystemError("write", path: path) }
        return .success(PidFile(path: path, fd: fd))
    }

    private init(path: String, fd: Int32) {
        self.path = path
        self.fd = fd
    }

    /// Removes the file and drops the lock (at a clean shutdown).
    public func release() {
        unlink(path)
        close(fd)
    }

    /// Whether a live process holds the lock on `path`, without taking it for long.
    public static func status(path: String) -> Status {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .notRunning }
        defer { close(fd) }
        if flock(fd, LOCK_SH | LOCK_NB) == 0 {
            flock(fd, LOCK_UN)
            return .notRunning
        }
        return .running(pid: readPid(path) ?? 0)
    }

    static func readPid(_ path: String) -> Int32? {
        guard let text = try? FileSystem.readString(path) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    public struct AlreadyRunning: Error, Sendable {
        public let pid: Int32
    }
}
