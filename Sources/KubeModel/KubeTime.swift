import Foundation

/// Kubernetes timestamps: RFC 3339 in UTC with second precision (`metav1.Time`) or microseconds
/// (`metav1.MicroTime`), and the ages the apiserver prints in Tables.
public enum KubeTime {
    public static func format(_ date: Date) -> String {
        formatter(fractional: false).string(from: date)
    }

    public static func formatMicro(_ date: Date) -> String {
        let seconds = floor(date.timeIntervalSince1970)
        let micros = Int((date.timeIntervalSince1970 - seconds) * 1_000_000)
        let base = formatter(fractional: false).string(from: Date(timeIntervalSince1970: seconds))
        return String(base.dropLast()) + String(format: ".%06dZ", micros)
    }

    public static func parse(_ text: String) -> Date? {
        formatter(fractional: false).date(from: text) ?? formatter(fractional: true).date(from: text)
    }

    private static func formatter(fractional: Bool) -> ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.timeZone = TimeZone(identifier: "UTC")
        f.formatOptions = fractional ? [.withInternetDateTime, .withFractionalSeconds] : [.withInternetDateTime]
        return f
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
