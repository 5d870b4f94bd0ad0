/// Go's `time.Duration.String()`, the JSON form of `metav1.Duration`: `1h2m3.5s`, `1.5ms`, `0s`.
enum GoDuration {
    static func string(nanoseconds: Int64) -> String {
        if nanoseconds == 0 { return "0s" }
        let magnitude = nanoseconds.magnitude
        let sign = nanoseconds < 0 ? "-" : ""
        if magnitude < 1_000_000_000 {
            // Under a second Go switches to the largest unit that keeps an integer part.
            let (unit, digits): (String, Int) = magnitude < 1_000 ? ("ns", 0) : magnitude < 1_000_000 ? ("µs", 3) : ("ms", 6)
            return sign + decimal(magnitude, fractionDigits: digits) + unit
        }
        let seconds = magnitude / 1_000_000_000
        var text = decimal(seconds % 60 * 1_000_000_000 + magnitude % 1_000_000_000, fractionDigits: 9) + "s"
        let minutes = seconds / 60
        if minutes > 0 {
            text = "\(minutes % 60)m" + text
            let hours = minutes / 60
            if hours > 0 { text = "\(hours)h" + text }
        }
        return sign + text
    }

    /// `value / 10^fractionDigits` with the fraction's trailing zeros (and a bare point) dropped.
    static func decimal(_ value: UInt64, fractionDigits: Int) -> String {
        var scale: UInt64 = 1
        for _ in 0..<fractionDigits { scale *= 10 }
        var fraction = String(value % scale)
        guard fractionDigits > 0, value % scale != 0 else { return String(value / scale) }
        fraction = String(repeating: "0", count: fractionDigits - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return "\(value / scale).\(fraction)"
    }
}
