import CLinux
import Glibc

/// The user's terminal: its size, and raw mode while a container's terminal is attached.
enum Terminal {
    static func size(_ fd: Int32) -> (rows: UInt16, columns: UInt16)? {
        var rows: UInt16 = 0, columns: UInt16 = 0
        guard isatty(fd) == 1, cz_get_winsize(fd, &rows, &columns) == 0, rows > 0, columns > 0 else { return nil }
        return (rows, columns)
    }

    /// Puts `fd` in raw mode (keystrokes go to the container's terminal as they are typed) and
    /// returns what restores it.
    static func makeRaw(_ fd: Int32) -> RawMode? {
        guard isatty(fd) == 1 else { return nil }
        var saved: UnsafeMutableRawPointer?
        guard cz_make_raw(fd, &saved) == 0, let saved else { return nil }
        return RawMode(fd: fd, saved: saved)
    }

    final class RawMode: @unchecked Sendable {
        let fd: Int32
        private var saved: UnsafeMutableRawPointer?

        init(fd: Int32, saved: UnsafeMutableRawPointer) {
            self.fd = fd
            self.saved = saved
        }

        func restore() {
            if let saved { _ = cz_restore_termios(fd, saved) }
            saved = nil
        }

        deinit { restore() }
    }
}
