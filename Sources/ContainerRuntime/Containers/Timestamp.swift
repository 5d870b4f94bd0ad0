import Glibc

/// A wall-clock instant with nanoseconds, written as Docker and Kubernetes write times
/// (RFC 3339 with nine fractional digits: `2026-11-27T08:37:22.333856540Z`).
public struct Timestamp: Codable, Sendable, Comparable, Hashable, CustomStringConvertible {
    public var seconds: Int64
    public var nanoseconds: Int32

    public init(seconds: Int64, nanoseconds: Int32 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func now() -> Timestamp {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Timestamp(seconds: Int64(ts.tv_sec), nanoseconds: Int32(ts.tv_nsec))
    }

    /// Go's zero time, which Docker prints for times never set.
    public static let zeroString = "0001-01-01T00:00:00Z"

    public var secondsDouble: Double { Double(seconds) + Double(nanoseconds) / 1e9 }

    public static func < (a: Timestamp, b: Timestamp) -> Bool {
        (a.seconds, a.nanoseconds) < (b.seconds, b.nanoseconds)
    }

    public var rfc3339Nano: String {
        var time = time_t(seconds)
        var parts = tm()
        gmtime_r(&time, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(nanoseconds, 9))Z"
    }

    public var description: String { rfc3339Nano }

    /// Parses what `rfc3339Nano` writes (and fewer fractional digits, or none).
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count >= 20, bytes.last == UInt8(ascii: "Z") else { return nil }
        func number(_ range: Range<Int>) -> Int32? { Int32(String(decoding: bytes[range], as: UTF8.self)) }
        guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10),
              let hour = number(11..<13), let minute = number(14..<16), let second = number(17..<19) else { return nil }
        var parts = tm()
        parts.tm_year = year - 1900
        parts.tm_mon = month - 1
        parts.tm_mday = day
        parts.tm_hour = hour
        parts.tm_min = minute
        parts.tm_sec = second
        var nanos: Int32 = 0
        if bytes[19] == UInt8(ascii: ".") {
            let digits = bytes[20..<(bytes.count - 1)]
            guard !digits.isEmpty, digits.count <= 9, let value = Int32(String(decoding: digits, as: UTF8.self)) else { return nil }
            nanos = value
            for _ in digits.count..<9 { nanos *= 10 }
        }
        self.init(seconds: Int64(timegm(&parts)), nanoseconds: nanos)
    }
}
