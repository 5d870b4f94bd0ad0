import Foundation
import Platform

/// YAML as kubectl prints it (sigs.k8s.io/yaml over go-yaml): keys sorted, two-space indent,
/// sequences at their key's indentation, `{}` and `[]` for empty collections, strings quoted only
/// when plain text would read as something else (numbers, booleans, null, timestamps) or could
/// not be written plainly, multi-line strings as literal blocks.
enum KubectlYAML {
    static func render(_ value: OrderedJSON) -> String {
        var out = ""
        emit(KubectlObjectPrinter.sortedKeys(value), indent: 0, into: &out, inline: false)
        return out
    }

    /// Writes `value` whose key (or sequence dash) is already on the current line when `inline`.
    static func emit(_ value: OrderedJSON, indent: Int, into out: inout String, inline: Bool) {
        let pad = String(repeating: " ", count: indent)
        switch value {
        case .object(let pairs) where !pairs.isEmpty:
            for (index, (key, child)) in pairs.enumerated() {
                if !(inline && index == 0) { out += pad }
                out += scalar(key) + ":"
                writeChild(child, indent: indent, into: &out, sequenceIndent: indent)
            }
        case .array(let items) where !items.isEmpty:
            for (index, item) in items.enumerated() {
                if !(inline && index == 0) { out += pad }
                out += "-"
                switch item {
                case .object(let pairs) where !pairs.isEmpty:
                    out += " "
                    emit(item, indent: indent + 2, into: &out, inline: true)
                case .array(let inner) where !inner.isEmpty:
                    out += " "
                    emit(item, indent: indent + 2, into: &out, inline: true)
                default:
                    writeChild(item, indent: indent, into: &out, sequenceIndent: indent + 2)
                }
            }
        default:
            out += scalarValue(value, indent: indent) + "\n"
        }
    }

    /// After `key:` or `-`: a nested mapping goes on the next lines, a sequence under a key at the
    /// key's own indentation, a scalar on the same line.
    static func writeChild(_ child: OrderedJSON, indent: Int, into out: inout String, sequenceIndent: Int) {
        switch child {
        case .object(let pairs) where !pairs.isEmpty:
            out += "\n"
            emit(child, indent: indent + 2, into: &out, inline: false)
        case .array(let items) where !items.isEmpty:
            out += "\n"
            emit(child, indent: sequenceIndent, into: &out, inline: false)
        default:
            out += " " + scalarValue(child, indent: indent + 2) + "\n"
        }
    }

    static func scalarValue(_ value: OrderedJSON, indent: Int) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .int(let number): return String(number)
        case .double(let number):
            return number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) : String(number)
        case .string(let text):
            if text.contains("\n") {
                let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
                let pad = String(repeating: " ", count: indent)
                let chomp = text.hasSuffix("\n") ? "" : "-"
                let body = (text.hasSuffix("\n") ? lines.dropLast() : lines[...]).map { $0.isEmpty ? "" : pad + $0 }
                return "|" + chomp + "\n" + body.joined(separator: "\n")
            }
            return scalar(text)
        case .object: return "{}"
        case .array: return "[]"
        }
    }

    /// A string as go-yaml writes it: plain when that reads back as the same string.
    static func scalar(_ text: String) -> String {
        needsQuotes(text) ? quoted(text) : text
    }

    static func needsQuotes(_ text: String) -> Bool {
        if text.isEmpty { return true }
        let lowered = text.lowercased()
        let special: Set<String> = ["true", "false", "yes", "no", "y", "n", "on", "off", "null", "~", ".nan", ".inf", "-.inf", "+.inf"]
        if special.contains(lowered) { return true }
        if Double(text) != nil || Int(text) != nil { return true }
        if text.hasPrefix("0x") || text.hasPrefix("0o") { return true }
        // Timestamps (2006-01-02, 2006-01-02T15:04:05Z).
        if text.range(of: #"^\d{4}-\d{1,2}-\d{1,2}([Tt ].*)?$"#, options: .regularExpression) != nil { return true }
        if let first = text.first, "-?:,[]{}#&*!|>'\"%@`".contains(first) {
            // A dash or colon followed by text other than a space is still plain ("-x" is not).
            if (first == "-" || first == "?" || first == ":"), text.count > 1, text.dropFirst().first != " " { return false }
            return true
        }
        if text.hasPrefix(" ") || text.hasSuffix(" ") || text.contains(": ") || text.contains(" #") || text.hasSuffix(":") { return true }
        if text.contains(where: { $0.asciiValue.map { $0 < 32 } ?? false }) { return true }
        return false
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            default:
                if scalar.value < 32 { out += String(format: "\\x%02X", scalar.value) } else { out.unicodeScalars.append(scalar) }
            }
        }
        return out + "\""
    }
}
