import Foundation

/// Sizes as docker prints them (go-units): decimal units, four significant digits.
public enum HumanSize {
    /// `precision` significant digits: 4 in progress bars (HumanSize), 3 in `docker images`.
    public static func decimal(_ bytes: Int64, precision: Int = 4) -> String {
        let units = ["B", "kB", "MB", "GB", "TB", "PB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000 && unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return goFormatG(value, precision: precision) + units[unit]
    }

    /// Go's `%.<precision>g`: significant digits, trailing zeros dropped.
    static func goFormatG(_ value: Double, precision: Int = 4) -> String {
        var text = String(format: "%.\(precision)g", value)
        if text.contains("e") { return text }
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        return text
    }
}

extension HumanSize {
    /// go-units' BytesSize: binary units with two decimals (`23.45GiB`).
    public static func binary(_ bytes: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return goFormatG(value) + units[unit]
    }
}
