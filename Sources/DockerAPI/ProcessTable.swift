import Foundation
import Glibc
import Platform

/// What `docker top` shows: the columns of `ps -ef`, read from /proc.
struct ProcessTable {
    static let titles = ["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"]

    var pid: Int32
    var columns: [String]

    static func read() -> [ProcessTable] {
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let boot = bootTime()
        var rows: [ProcessTable] = []
        for name in (try? FileSystem.listDirectory("/proc")) ?? [] {
            guard let pid = Int32(name), let stat = try? FileSystem.readString("/proc/\(name)/stat"),
                  let close = stat.lastIndex(of: ")") else { continue }
            let comm = String(stat[stat.index(after: stat.firstIndex(of: "(") ?? stat.startIndex)..<close])
            let fields = stat[stat.index(after: close)...].split(separator: " ").map(String.init)
            // fields[0] = state (field 3); ppid is field 4, tty_nr 7, utime 14, stime 15, starttime 22.
            guard fields.count > 19 else { continue }
            let ppid = fields[1]
            let ttyNumber = Int(fields[4]) ?? 0
            let cpuSeconds = Int(((Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)) / ticks)
            let started = boot + (Double(fields[19]) ?? 0) / ticks
            var uid = "?"
            if let status = try? FileSystem.readString("/proc/\(name)/status"),
               let line = status.split(separator: "\n").first(where: { $0.hasPrefix("Uid:") }) {
                let id = line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.map(String.init) ?? "?"
                uid = id == "0" ? "root" : id
            }
            let cmdline = ((try? FileSystem.readFile("/proc/\(name)/cmdline")) ?? [])
                .split(separator: 0).map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")
            let minor = ttyNumber & 0xff | (ttyNumber >> 12) & 0xfff00
            let tty = ttyNumber == 0 ? "?" : ((ttyNumber >> 8) & 0xfff == 136 ? "pts/\(minor)" : "tty\(minor)")
            rows.append(ProcessTable(pid: pid, columns: [
                uid, name, ppid, "0", clock(started), tty,
                String(format: "%02d:%02d:%02d", cpuSeconds / 3600, cpuSeconds / 60 % 60, cpuSeconds % 60),
                cmdline.isEmpty ? "[\(comm)]" : cmdline,
            ]))
        }
        return rows.sorted { $0.pid < $1.pid }
    }

    static func bootTime() -> Double {
        let stat = (try? FileSystem.readString("/proc/stat")) ?? ""
        let line = stat.split(separator: "\n").first { $0.hasPrefix("btime ") }
        return Double(line?.split(separator: " ").last ?? "") ?? 0
    }

    static func clock(_ seconds: Double) -> String {
        var time = time_t(seconds)
        var parts = tm()
        localtime_r(&time, &parts)
        return String(format: "%02d:%02d", parts.tm_hour, parts.tm_min)
    }

    /// The host's total CPU time (all CPUs, all states) in nanoseconds, from /proc/stat.
    static func systemCPUNanoseconds() -> Int64 {
        let stat = (try? FileSystem.readString("/proc/stat")) ?? ""
        guard let line = stat.split(separator: "\n").first(where: { $0.hasPrefix("cpu ") }) else { return 0 }
        let ticks = line.split(separator: " ").dropFirst().compactMap { Int64($0) }.reduce(0, +)
        return ticks * 1_000_000_000 / Int64(sysconf(Int32(_SC_CLK_TCK)))
    }
}
