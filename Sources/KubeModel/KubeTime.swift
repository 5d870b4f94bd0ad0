import Foundation

/// Kubernetes timestamps: RFC 3339 in UTC with second precision (`metav1.Time`) or microseconds
/// (`metav1.MicroTime`), and the ages the apiserver prints in Tables.
public enum KubeTime {
    public static func format(_ date: Date) -> String {
        civil(Int64(floor(date.timeIntervalSince1970))) + "Z"
    }

    /// `metav1.Time` from whole seconds since the epoch, as protobuf bodies carry it.
    public static func format(epochSeconds: Int64) -> String {
        civil(epochSeconds) + "Z"
    }

    /// `metav1.MicroTime` from seconds and microseconds since the epoch (exact, unlike a `Date`).
    public static func formatMicro(epochSeconds: Int64, microseconds: Int) -> String {
        civil(epochSeconds) + String(format: ".%06dZ", microseconds)
    }

    public static func formatMicro(_ date: Date) -> String {
        let seconds = floor(date.timeIntervalSince1970)
        let micros = Int((date.timeIntervalSince1970 - seconds) * 1_000_000)
        return civil(Int64(seconds)) + String(format: ".%06dZ", micros)
    }

    /// `YYYY-MM-DDTHH:MM:SS` in UTC (hand-rolled: tables format thousands of timestamps and
    /// Foundation's ISO 8601 formatter builds an ICU formatter per call).
    static func civil(_ epoch: Int64) -> String {
        var days = epoch / 86_400
        var rest = epoch % 86_400
        if rest < 0 { rest += 86_400; days -= 1 }
        // Howard Hinnant's civil_from_days.
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yoe + era * 400 + (month <= 2 ? 1 : 0)
        return String(format: "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld", year, month, day, rest / 3600, rest % 3600 / 60, rest % 60)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`.
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        guard b.count >= 20, b[4] == 45, b[7] == 45, b[10] == 84 || b[10] == 116, b[13] == 58, b[16] == 58 else { return nil }
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for i in range {
                guard b[i] >= 48 && b[i] <= 57 else { return nil }
                value = value * 10 + Int64(b[i] - 48)
            }
            return value
        }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10), let hour = number(11..<13),
              let minute = number(14..<16), let second = number(17..<19), (1...12).contains(month), (1...31).contains(day) else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count && b[i] == 46 {
            i += 1
            var scale = 0.1
            while i < b.count && b[i] >= 48 && b[i] <= 57 {
                fraction += Double(b[i] - 48) * scale
                scale /= 10
                i += 1
            }
        }
        var offset: Int64 = 0
        if i < b.count && (b[i] == 90 || b[i] == 122) {
            i += 1
        } else if i + 6 == b.count && (b[i] == 43 || b[i] == 45), b[i + 3] == 58,
                  let oh = number(i + 1..<i + 3), let om = number(i + 4..<i + 6) {
            offset = (oh * 3600 + om * 60) * (b[i] == 43 ? 1 : -1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        // days_from_civil.
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = month > 2 ? month - 3 : month + 9
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        let days = era * 146_097 + doe - 719_468
        let epoch = days * 86_400 + hour * 3600 + minute * 60 + second - offset
        return Date(timeIntervalSince1970: Double(epoch) + fraction)
    }

    /// The age of a timestamp as Tables print it; `<unknown>` when absent.
    public static func age(of timestamp: String?, now: Date = Date()) -> String {
        guard let timestamp, let date = parse(timestamp) else { return "<unknown>" }
        return HumanDuration.format(now.timeIntervalSince(date))
    }
}

/// apimachinery's `duration.HumanDuration`.
public enum HumanDuration {
    public static func format(_ interval: TimeInterval) -> String {
        let seconds = Int64(interval.rounded(.towardZero))
        if seconds < -1 { return "<invalid>" }
        if seconds < 0 { return "0s" }
        if seconds < 60 * 2 { return "\(seconds)s" }
        let minutes = seconds / 60
        if minutes < 10 {
            let s = seconds % 60
            return s == 0 ? "\(minutes)m" : "\(minutes)m\(s)s"
        }
        if minutes < 60 * 3 { return "\(minutes)m" }
        let hours = minutes / 60
        if hours < 8 {
            let m = minutes % 60
            return m == 0 ? "\(hours)h" : "\(hours)h\(m)m"
        }
        if hours < 48 { return "\(hours)h" }
        if hours < 24 * 8 {
            let h = hours % 24
            return h == 0 ? "\(hours / 24)d" : "\(hours / 24)d\(h)h"
        }
        if hours < 24 * 365 * 2 { return "\(hours / 24)d" }
        if hours < 24 * 365 * 8 {
            let d = (hours / 24) % 365
            return d == 0 ? "\(hours / 24 / 365)y" : "\(hours / 24 / 365)y\(d)d"
        }
        return "\(hours / 24 / 365)y"
    }
}
