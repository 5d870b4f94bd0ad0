import Foundation
import Platform

/// client-go's JSONPath templates (k8s.io/client-go/util/jsonpath), as `kubectl get -o
/// jsonpath=…` and `-o custom-columns=…` use them: text with `{…}` actions holding paths
/// (`.a.b`, `['a']`, `[0]`, `[1:3]`, `[*]`, `..a`, `[?(@.a=="x")]`, `[,]` unions), string literals
/// (`{"\n"}`), and `{range …}…{end}`. Missing keys yield nothing, as kubectl's
/// `--allow-missing-template-keys=true` (its default) has it.
struct KubectlJSONPath {
    indirect enum Node {
        case text(String)
        /// Paths separated by commas, each printed in turn.
        case paths([[Step]])
        case range([Step], [Node])
    }

    enum Step {
        case field(String)
        case recursive(String)
        case index(start: Int?, end: Int?, step: Int?, single: Bool)
        case wildcard
        case union([String])
        case filter(Filter)
    }

    struct Filter {
        var left: [Step]
        /// nil: an existence test (`[?(@.a)]`).
        var comparison: (op: String, right: Operand)?
    }

    enum Operand {
        case literal(OrderedJSON)
        case path([Step])
    }

    struct ParseError: Error, CustomStringConvertible {
        var message: String
        var description: String { message }
    }

    let nodes: [Node]

    init(_ template: String) throws {
        var parser = Parser(text: Array(template))
        nodes = try parser.template(untilEnd: false)
    }

    /// kubectl's relaxed form for custom columns and --sort-by: `.a.b`, `a.b`, `{.a.b}`.
    static func relaxed(_ expression: String) -> String {
        var inner = expression
        if inner.hasPrefix("{") && inner.hasSuffix("}") { inner = String(inner.dropFirst().dropLast()) }
        if !inner.hasPrefix(".") && !inner.hasPrefix("[") { inner = "." + inner }
        return "{" + inner + "}"
    }

    // MARK: Evaluation

    /// The template's output for `data`, as kubectl prints it.
    func render(_ data: OrderedJSON) -> String {
        Self.render(nodes, data)
    }

    /// The values the template's paths find, in order (custom columns print them joined by ",").
    func values(_ data: OrderedJSON) -> [OrderedJSON] {
        nodes.flatMap { node -> [OrderedJSON] in
            if case .paths(let paths) = node { return paths.flatMap { Self.evaluate($0, [data], root: data) } }
            return []
        }
    }

    static func render(_ nodes: [Node], _ data: OrderedJSON, root: OrderedJSON? = nil) -> String {
        let root = root ?? data
        var out = ""
        for node in nodes {
            switch node {
            case .text(let text):
                out += text
            case .paths(let paths):
                let results = paths.flatMap { evaluate($0, [data], root: root) }
                out += results.map(text).joined(separator: " ")
            case .range(let path, let body):
                for value in evaluate(path, [data], root: root) {
                    let items: [OrderedJSON] = if case .array(let elements) = value { elements } else { [value] }
                    for item in items { out += render(body, item, root: root) }
                }
            }
        }
        return out
    }

    static func evaluate(_ steps: [Step], _ start: [OrderedJSON], root: OrderedJSON) -> [OrderedJSON] {
        var current = start
        for step in steps {
            current = current.flatMap { apply(step, to: $0, root: root) }
        }
        return current
    }

    static func apply(_ step: Step, to value: OrderedJSON, root: OrderedJSON) -> [OrderedJSON] {
        switch step {
        case .field(let name):
            if name == "$" { return [root] }
            if name == "@" || name.isEmpty { return [value] }
            guard case .object(let pairs) = value else { return [] }
            return pairs.first { $0.0 == name }.map { [$0.1] } ?? []
        case .recursive(let name):
            return descendants(value).flatMap { apply(name == "*" ? .wildcard : .field(name), to: $0, root: root) }
        case .wildcard:
            switch value {
            case .object(let pairs): return pairs.sorted { $0.0 < $1.0 }.map(\.1)
            case .array(let items): return items
            default: return []
            }
        case .union(let names):
            return names.flatMap { apply(.field($0), to: value, root: root) }
        case .index(let start, let end, let step, let single):
            guard case .array(let items) = value else { return [] }
            let count = items.count
            func clamp(_ index: Int) -> Int { min(max(index < 0 ? index + count : index, 0), count) }
            if single {
                let index = (start ?? 0) < 0 ? (start ?? 0) + count : (start ?? 0)
                return index >= 0 && index < count ? [items[index]] : []
            }
            let from = clamp(start ?? 0)
            let to = clamp(end ?? count)
            let stride = max(step ?? 1, 1)
            guard from < to else { return [] }
            return Swift.stride(from: from, to: to, by: stride).map { items[$0] }
        case .filter(let filter):
            let candidates: [OrderedJSON] = if case .array(let items) = value { items } else { [value] }
            return candidates.filter { matches(filter, $0, root: root) }
        }
    }

    static func descendants(_ value: OrderedJSON) -> [OrderedJSON] {
        var result = [value]
        switch value {
        case .object(let pairs): result += pairs.flatMap { descendants($0.1) }
        case .array(let items): result += items.flatMap(descendants)
        default: break
        }
        return result
    }

    static func matches(_ filter: Filter, _ element: OrderedJSON, root: OrderedJSON) -> Bool {
        let left = evaluate(filter.left, [element], root: root)
        guard let (op, operand) = filter.comparison else { return !left.isEmpty }
        let right: [OrderedJSON] = switch operand {
        case .literal(let value): [value]
        case .path(let steps): evaluate(steps, [element], root: root)
        }
        guard let l = left.first, let r = right.first else { return false }
        if let a = number(l), let b = number(r) { return compare(a, op, b) }
        return compare(text(l), op, text(r))
    }

    static func compare<T: Comparable>(_ a: T, _ op: String, _ b: T) -> Bool {
        switch op {
        case "==": a == b
        case "!=": a != b
        case "<": a < b
        case "<=": a <= b
        case ">": a > b
        case ">=": a >= b
        default: false
        }
    }

    static func number(_ value: OrderedJSON) -> Double? {
        switch value {
        case .int(let n): Double(n)
        case .double(let d): d
        default: nil
        }
    }

    /// One result as client-go prints it: objects and arrays as compact JSON (Go's json.Marshal:
    /// sorted keys, HTML characters escaped), everything else as Go's fmt prints it.
    static func text(_ value: OrderedJSON) -> String {
        switch value {
        case .object, .array:
            let json = String(decoding: KubectlObjectPrinter.sortedKeys(value).serializedBytes(), as: UTF8.self)
            return json.replacingOccurrences(of: "<", with: "\\u003c").replacingOccurrences(of: ">", with: "\\u003e")
                .replacingOccurrences(of: "&", with: "\\u0026")
        default:
            return goValue(value)
        }
    }

    /// Go's `fmt.Sprint` of a value decoded from JSON (custom columns print every value so).
    static func goValue(_ value: OrderedJSON) -> String {
        switch value {
        case .null: return "<nil>"
        case .bool(let b): return b ? "true" : "false"
        case .int(let n): return String(n)
        case .double(let d): return goFloat(d)
        case .string(let s): return s
        case .array(let items): return "[" + items.map(goValue).joined(separator: " ") + "]"
        case .object(let pairs): return "map[" + pairs.sorted { $0.0 < $1.0 }.map { "\($0.0):\(goValue($0.1))" }.joined(separator: " ") + "]"
        }
    }

    /// Go's %v of a float64: the shortest representation, exponent form from 1e21 (or below 1e-4).
    static func goFloat(_ d: Double) -> String {
        if d == d.rounded(), abs(d) < 1e21 { return String(Int64(d)) }
        let magnitude = abs(d)
        if magnitude < 1e-4 || magnitude >= 1e21 {
            let text = String(format: "%g", d)
            return text.replacingOccurrences(of: "e-0", with: "e-").replacingOccurrences(of: "e+0", with: "e+")
        }
        return "\(d)"
    }
}

extension KubectlJSONPath {
    /// A recursive-descent parser over the template's characters.
    struct Parser {
        let text: [Character]
        var position = 0

        var atEnd: Bool { position >= text.count }

        mutating func template(untilEnd: Bool) throws -> [Node] {
            var nodes: [Node] = []
            var literal = ""
            while !atEnd {
                let c = text[position]
                guard c == "{" else {
                    literal.append(c)
                    position += 1
                    continue
                }
                if !literal.isEmpty {
                    nodes.append(.text(literal))
                    literal = ""
                }
                position += 1
                skipSpaces()
                if consume("end") {
                    skipSpaces()
                    try expect("}")
                    guard untilEnd else { throw ParseError(message: "not in range, nothing to end") }
                    return nodes
                }
                if consume("range") {
                    skipSpaces()
                    let path = try self.path()
                    skipSpaces()
                    try expect("}")
                    nodes.append(.range(path, try template(untilEnd: true)))
                    continue
                }
                if peek() == "\"" {
                    nodes.append(.text(try quoted()))
                    skipSpaces()
                    try expect("}")
                    continue
                }
                var paths = [try path()]
                skipSpaces()
                while peek() == "," {
                    position += 1
                    skipSpaces()
                    paths.append(try path())
                    skipSpaces()
                }
                try expect("}")
                nodes.append(.paths(paths))
            }
            if untilEnd { throw ParseError(message: "unclosed action") }
            if !literal.isEmpty { nodes.append(.text(literal)) }
            return nodes
        }

        func peek() -> Character? { atEnd ? nil : text[position] }

        mutating func skipSpaces() {
            while let c = peek(), c == " " { position += 1 }
        }

        mutating func consume(_ word: String) -> Bool {
            let characters = Array(word)
            guard position + characters.count <= text.count, Array(text[position..<(position + characters.count)]) == characters else { return false }
            let after = position + characters.count
            if after < text.count, text[after].isLetter || text[after].isNumber { return false }
            position = after
            return true
        }

        mutating func consumeSymbol(_ symbol: String) -> Bool {
            let characters = Array(symbol)
            guard position + characters.count <= text.count, Array(text[position..<(position + characters.count)]) == characters else { return false }
            position += characters.count
            return true
        }

        mutating func expect(_ c: Character) throws {
            if atEnd && c == "}" { throw ParseError(message: "unclosed action") }
            guard peek() == c else {
                throw ParseError(message: "unexpected \(peek().map { "'\($0)'" } ?? "end of template") at position \(position), wanted '\(c)'")
            }
            position += 1
        }

        /// A double-quoted string with Go's escapes.
        mutating func quoted() throws -> String {
            try expect("\"")
            var value = ""
            while let c = peek(), c != "\"" {
                position += 1
                if c == "\\", let next = peek() {
                    position += 1
                    switch next {
                    case "n": value.append("\n")
                    case "t": value.append("\t")
                    case "r": value.append("\r")
                    default: value.append(next)
                    }
                } else {
                    value.append(c)
                }
            }
            try expect("\"")
            return value
        }

        /// `.a.b[0]['c']..d[?(…)]`, `@…`, `$…`.
        mutating func path() throws -> [Step] {
            var steps: [Step] = []
            if peek() == "@" || peek() == "$" {
                steps.append(.field(String(text[position])))
                position += 1
            }
            while let c = peek() {
                if c == "." {
                    position += 1
                    if peek() == "." {
                        position += 1
                        steps.append(.recursive(identifier()))
                    } else {
                        let name = identifier()
                        steps.append(name == "*" ? .wildcard : .field(name))
                    }
                } else if c == "[" {
                    position += 1
                    steps.append(try bracket())
                } else {
                    break
                }
            }
            return steps
        }

        mutating func identifier() -> String {
            if peek() == "*" {
                position += 1
                return "*"
            }
            var name = ""
            while let c = peek(), c.isLetter || c.isNumber || c == "_" || c == "-" || c == "/" {
                name.append(c)
                position += 1
            }
            return name
        }

        /// After `[`: an index, slice, `*`, quoted names, or a filter; consumes the `]`.
        mutating func bracket() throws -> Step {
            skipSpaces()
            if peek() == "*" {
                position += 1
                try expect("]")
                return .wildcard
            }
            if peek() == "'" || peek() == "\"" {
                var names: [String] = []
                repeat {
                    skipSpaces()
                    let quote = text[position]
                    position += 1
                    var name = ""
                    while let c = peek(), c != quote {
                        name.append(c)
                        position += 1
                    }
                    try expect(quote)
                    names.append(name)
                    skipSpaces()
                } while peek() == "," && { position += 1; return true }()
                try expect("]")
                return names.count == 1 ? .field(names[0]) : .union(names)
            }
            if peek() == "?" {
                position += 1
                try expect("(")
                skipSpaces()
                let left = try path()
                skipSpaces()
                var comparison: (String, Operand)?
                for op in ["==", "!=", "<=", ">=", "<", ">"] where consumeSymbol(op) {
                    skipSpaces()
                    comparison = (op, try operand())
                    skipSpaces()
                    break
                }
                try expect(")")
                try expect("]")
                return .filter(Filter(left: left, comparison: comparison))
            }
            var parts: [Int?] = [nil]
            var sawColon = false
            var number = ""
            while let c = peek(), c != "]" {
                position += 1
                if c == ":" {
                    parts[parts.count - 1] = Int(number)
                    number = ""
                    parts.append(nil)
                    sawColon = true
                } else if c != " " {
                    number.append(c)
                }
            }
            parts[parts.count - 1] = Int(number)
            try expect("]")
            return .index(start: parts[0], end: parts.count > 1 ? parts[1] : nil, step: parts.count > 2 ? parts[2] : nil, single: !sawColon)
        }

        /// The right side of a filter comparison.
        mutating func operand() throws -> Operand {
            if peek() == "'" || peek() == "\"" {
                let quote = text[position]
                position += 1
                var value = ""
                while let c = peek(), c != quote {
                    value.append(c)
                    position += 1
                }
                try expect(quote)
                return .literal(.string(value))
            }
            if peek() == "@" || peek() == "$" { return .path(try path()) }
            var token = ""
            while let c = peek(), c != ")" && c != " " {
                token.append(c)
                position += 1
            }
            if let n = Int64(token) { return .literal(.int(n)) }
            if let d = Double(token) { return .literal(.double(d)) }
            if token == "true" || token == "false" { return .literal(.bool(token == "true")) }
            return .literal(.string(token))
        }
    }
}
