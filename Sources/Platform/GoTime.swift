import Foundation

/// Go's time.Parse with the RFC 3339 layout, down to its error texts: how kubectl reads
/// `--since-time` (its RFC3339Nano attempt takes the same texts, the RFC3339 one's error is
/// shown) and the API server a metav1.Time query parameter. Fractions are taken either way.
public enum GoTime {
    public static let rfc3339Layout = "2006-01-02T15:04:05Z07:00"

    public struct ParseError: Error, CustomStringConvertible {
        public let description: String
    }

    /// The instant `text` names (fractions and any offset kept), or Go's error.
    public static func parseRFC3339(_ text: String) throws -> Date {
        let layout = rfc3339Layout
        var rest = Substring(text)
        // Go's ParseError: "cannot parse" names what was left and the layout element it missed;
        // a message (a range, extra text) replaces both.
        func cannotParse(as element: String) -> ParseError {
            ParseError(description: "parsing time \(GoQuote.quote(text)) as \(GoQuote.quote(layout)): cannot parse \(GoQuote.quote(String(rest))) as \(GoQuote.quote(element))")
        }
        func fail(_ message: String) -> ParseError {
            ParseError(description: "parsing time \(GoQuote.quote(text))\(message)")
        }
        /// A fixed-width number; Go checks its range as soon as it is read.
        func number(_ digits: Int, as element: String, range: ClosedRange<Int>? = nil, name: String = "") throws -> Int {
            let head = rest.prefix(digits)
            guard head.count == digits, head.allSatisfy(\.isASCIIDigit), let value = Int(head) else { throw cannotParse(as: element) }
            rest = rest.dropFirst(digits)
            if let range, !range.contains(value) { throw fail(": \(name) out of range") }
            return value
        }
        func literal(_ expected: String) throws {
            guard rest.hasPrefix(expected) else { throw cannotParse(as: expected) }
            rest = rest.dropFirst(expected.count)
        }
        let year = try number(4, as: "2006")
        try literal("-")
        let month = try number(2, as: "01", range: 1...12, name: "month")
        try literal("-")
        let day = try number(2, as: "02")
        try literal("T")
        let hour = try number(2, as: "15", range: 0...23, name: "hour")
        try literal(":")
        let minute = try number(2, as: "04", range: 0...59, name: "minute")
        try literal(":")
        let second = try number(2, as: "05", range: 0...59, name: "second")
        var nanoseconds = 0
        if rest.first == ".", rest.dropFirst().first?.isASCIIDigit == true {
            let digits = rest.dropFirst().prefix { $0.isASCIIDigit }
            nanoseconds = Int(String(digits.prefix(9)).padding(toLength: 9, withPad: "0", startingAt: 0)) ?? 0
            rest = rest.dropFirst(1 + digits.count)
        }
        var offset = 0
        if rest.first == "Z" {
            rest = rest.dropFirst()
        } else {
            let zone = rest.prefix(6)
            let sign = zone.first
            guard zone.count == 6, sign == "+" || sign == "-", zone.dropFirst(3).first == ":",
                  let hours = Int(zone.dropFirst().prefix(2)), let minutes = Int(zone.suffix(2)),
                  zone.dropFirst().prefix(2).allSatisfy(\.isASCIIDigit), zone.suffix(2).allSatisfy(\.isASCIIDigit) else {
                throw cannotParse(as: "Z07:00")
            }
            offset = (hours * 3600 + minutes * 60) * (sign == "-" ? -1 : 1)
            rest = rest.dropFirst(6)
        }
        guard rest.isEmpty else { throw fail(": extra text: \(GoQuote.quote(String(rest)))") }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(secondsFromGMT: 0) ?? calendar.timeZone
        let components = DateComponents(year: year, month: month, day: 1, hour: hour, minute: minute, second: second)
        guard let firstOfMonth = calendar.date(from: components),
              let days = calendar.range(of: .day, in: .month, for: firstOfMonth), days.contains(day) else {
            throw fail(": day out of range")
        }
        return firstOfMonth.addingTimeInterval(Double(day - 1) * 86_400 - Double(offset) + Double(nanoseconds) / 1e9)
    }

    /// metav1.Time in a query or JSON: RFC 3339 in UTC, whole seconds.
    public static func formatRFC3339UTC(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(secondsFromGMT: 0)
        return formatter.string(from: Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)))
    }
}

/// Go's strconv.Quote (what `%q` prints): the docker CLI's COMMAND column, time.Parse's errors.
public enum GoQuote {
    public static func quote(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7f {
                    out += String(format: "\\x%02x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

private extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
