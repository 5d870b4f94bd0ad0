import Glibc
import Platform

/// Writing to stdout and stderr without buffering surprises (output interleaves with progress).
enum Console {
    static func out(_ text: String) {
        write(1, text)
    }

    static func err(_ text: String) {
        write(2, text)
    }

    /// A closed stdout (`| head`) is not worth an error message.
    static func write(_ fd: Int32, _ text: String) {
        Array(text.utf8).withUnsafeBytes { try? FileSystem.writeAll(fd, $0, path: fd == 1 ? "stdout" : "stderr") }
    }

    static var stdoutIsTerminal: Bool { isatty(1) == 1 }

    /// Terminal width, or 0 when stdout is not a terminal.
    static var width: Int {
        var size = winsize()
        guard ioctl(1, UInt(TIOCGWINSZ), &size) == 0 else { return 0 }
        return Int(size.ws_col)
    }
}
