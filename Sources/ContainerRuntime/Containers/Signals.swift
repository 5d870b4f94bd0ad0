import Glibc

/// Signal names as Docker accepts them: `KILL`, `SIGKILL` or `9`.
public enum Signals {
    static let table: [(String, Int32)] = [
        ("HUP", SIGHUP), ("INT", SIGINT), ("QUIT", SIGQUIT), ("ILL", SIGILL), ("TRAP", SIGTRAP), ("ABRT", SIGABRT),
        ("IOT", SIGABRT), ("BUS", SIGBUS), ("FPE", SIGFPE), ("KILL", SIGKILL), ("USR1", SIGUSR1), ("SEGV", SIGSEGV),
        ("USR2", SIGUSR2), ("PIPE", SIGPIPE), ("ALRM", SIGALRM), ("TERM", SIGTERM), ("STKFLT", SIGSTKFLT),
        ("CHLD", SIGCHLD), ("CONT", SIGCONT), ("STOP", SIGSTOP), ("TSTP", SIGTSTP), ("TTIN", SIGTTIN),
        ("TTOU", SIGTTOU), ("URG", SIGURG), ("XCPU", SIGXCPU), ("XFSZ", SIGXFSZ), ("VTALRM", SIGVTALRM),
        ("PROF", SIGPROF), ("WINCH", SIGWINCH), ("IO", SIGIO), ("POLL", SIGIO), ("PWR", SIGPWR), ("SYS", SIGSYS),
    ]

    public static func parse(_ text: String) -> Int32? {
        if let number = Int32(text), number > 0, number < 65 { return number }
        var name = text.uppercased()
        if name.hasPrefix("SIG") { name = String(name.dropFirst(3)) }
        if name.hasPrefix("RTMIN+"), let n = Int32(name.dropFirst(6)) { return 34 + n }
        return table.first { $0.0 == name }?.1
    }
}
