import Foundation
import Platform

/// A label selector as `?labelSelector=` writes it: `a=b,c!=d,e in (f,g),h notin (i),j,!k`.
public struct LabelSelector: Sendable, Equatable {
    public enum Operator: Sendable, Equatable { case equals, notEquals, `in`, notIn, exists, doesNotExist, greaterThan, lessThan }

    public struct Requirement: Sendable, Equatable {
        public var key: String
        public var op: Operator
        public var values: [String]
    }

    public var requirements: [Requirement]

    public static let everything = LabelSelector(requirements: [])

    public init(requirements: [Requirement]) { self.requirements = requirements }

    /// Parses the string form; errors read like the apiserver's.
    public init(parsing text: String) throws {
        var requirements: [Requirement] = []
        for term in Self.splitTerms(text) {
            let t = term.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            requirements.append(try Self.parseTerm(t, whole: text))
        }
        self.requirements = requirements
    }

    /// A selector from a map (`spec.selector` of RCs and services): every key equals its value.
    public init(matching map: [String: String]) {
        requirements = map.keys.sorted().map { Requirement(key: $0, op: .equals, values: [map[$0] ?? ""]) }
    }

    /// `spec.selector` of apps/v1 kinds: matchLabels and matchExpressions.
    public init(labelSelectorJSON json: OrderedJSON) {
        var requirements = LabelSelector(matching: json["matchLabels"]?.stringMap ?? [:]).requirements
        for expression in json["matchExpressions"]?.arrayValue ?? [] {
            guard let key = expression["key"]?.stringValue, let op = expression["operator"]?.stringValue else { continue }
            let values = (expression["values"]?.arrayValue ?? []).compactMap(\.stringValue)
            switch op {
            case "In": requirements.append(Requirement(key: key, op: .in, values: values))
            case "NotIn": requirements.append(Requirement(key: key, op: .notIn, values: values))
            case "Exists": requirements.append(Requirement(key: key, op: .exists, values: []))
            case "DoesNotExist": requirements.append(Requirement(key: key, op: .doesNotExist, values: []))
            default: continue
            }
        }
        self.requirements = requirements
    }

    public var isEmpty: Bool { requirements.isEmpty }

    public func matches(_ labels: [String: String]) -> Bool {
        requirements.allSatisfy { r in
            let value = labels[r.key]
            switch r.op {
            case .equals: return value == r.values.first
            case .notEquals: return value != r.values.first
            case .in: return value.map { r.values.contains($0) } ?? false
            case .notIn: return value.map { !r.values.contains($0) } ?? true
            case .exists: return value != nil
            case .doesNotExist: return value == nil
            case .greaterThan, .lessThan:
                guard let v = value.flatMap(Int64.init), let bound = r.values.first.flatMap(Int64.init) else { return false }
                return r.op == .greaterThan ? v > bound : v < bound
            }
        }
    }

    /// `app=kubia,tier in (a,b)` — what Scale's status.selector and describe print.
    public var description: String {
        requirements.map { r in
            switch r.op {
            case .equals: return "\(r.key)=\(r.values.first ?? "")"
            case .notEquals: return "\(r.key)!=\(r.values.first ?? "")"
            case .in: return "\(r.key) in (\(r.values.sorted().joined(separator: ",")))"
            case .notIn: return "\(r.key) notin (\(r.values.sorted().joined(separator: ",")))"
            case .exists: return r.key
            case .doesNotExist: return "!\(r.key)"
            case .greaterThan: return "\(r.key)>\(r.values.first ?? "")"
            case .lessThan: return "\(r.key)<\(r.values.first ?? "")"
            }
        }.joined(separator: ",")
    }

    /// Commas separate terms, except inside `( )`.
    static func splitTerms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for c in text {
            if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
            if c == "," && depth == 0 {
                terms.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        terms.append(current)
        return terms
    }

    static func parseTerm(_ t: String, whole: String) throws -> Requirement {
        func invalid(_ why: String) -> APIError {
            APIError.badRequest("unable to parse requirement: \(why)")
        }
        if t.hasPrefix("!") {
            let key = String(t.dropFirst()).trimmingCharacters(in: .whitespaces)
            try validateKey(key)
            return Requirement(key: key, op: .doesNotExist, values: [])
        }
        for (token, op) in [("!=", Operator.notEquals), ("==", .equals), ("=", .equals), (">", .greaterThan), ("<", .lessThan)] {
            if let range = t.range(of: token) {
                let key = t[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
                let value = t[range.upperBound...].trimmingCharacters(in: .whitespaces)
                try validateKey(key)
                try validateValue(value)
                return Requirement(key: key, op: op, values: [value])
            }
        }
        let words = t.split(separator: " ", maxSplits: 1).map(String.init)
        if words.count == 2 {
            let key = words[0]
            let rest = words[1].trimmingCharacters(in: .whitespaces)
            for (word, op) in [("notin", Operator.notIn), ("in", .in)] where rest.hasPrefix(word) {
                let set = rest.dropFirst(word.count).trimmingCharacters(in: .whitespaces)
                guard set.hasPrefix("("), set.hasSuffix(")") else { throw invalid("found '\(set)', expected: '('") }
                let values = set.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                try validateKey(key)
                for value in values { try validateValue(value) }
                return Requirement(key: key, op: op, values: values)
            }
            throw invalid("found '\(rest)', expected: in, notin, =, ==, !=, gt, lt")
        }
        try validateKey(t)
        return Requirement(key: t, op: .exists, values: [])
    }

    static func validateKey(_ key: String) throws {
        guard !key.isEmpty, Validation.labelKeyProblems(key).isEmpty else {
            throw APIError.badRequest("unable to parse requirement: invalid label key \"\(key)\": \(Validation.labelKeyProblems(key).first ?? "name part must be non-empty")")
        }
    }

    static func validateValue(_ value: String) throws {
        if let problem = Validation.labelValueProblems(value).first {
            throw APIError.badRequest("unable to parse requirement: invalid label value: \"\(value)\": at key: \(problem)")
        }
    }
}

/// A field selector (`?fieldSelector=spec.nodeName=n1,status.phase!=Failed`), evaluated against
/// the fields each resource supports, as the apiserver does.
public struct FieldSelector: Sendable, Equatable {
    public struct Term: Sendable, Equatable {
        public var field: String
        public var equals: Bool
        public var value: String
    }

    public var terms: [Term]

    public static let everything = FieldSelector(terms: [])

    public init(terms: [Term]) { self.terms = terms }

    public init(parsing text: String) throws {
        var terms: [Term] = []
        for raw in Self.split(text) where !raw.isEmpty {
            let (field, equals, value): (String, Bool, String)
            if let r = raw.range(of: "!=") {
                (field, equals, value) = (String(raw[..<r.lowerBound]), false, String(raw[r.upperBound...]))
            } else if let r = raw.range(of: "==") {
                (field, equals, value) = (String(raw[..<r.lowerBound]), true, String(raw[r.upperBound...]))
            } else if let r = raw.range(of: "=") {
                (field, equals, value) = (String(raw[..<r.lowerBound]), true, String(raw[r.upperBound...]))
            } else {
                throw APIError.badRequest("invalid selector: '\(text)'; can't understand '\(raw)'")
            }
            terms.append(Term(field: field.trimmingCharacters(in: .whitespaces), equals: equals, value: Self.unescape(value)))
        }
        self.terms = terms
    }

    /// Splits on unescaped commas.
    static func split(_ text: String) -> [String] {
        var parts: [String] = []
        var current = ""
        var escaped = false
        for c in text {
            if escaped { current.append("\\"); current.append(c); escaped = false; continue }
            if c == "\\" { escaped = true; continue }
            if c == "," { parts.append(current); current = ""; continue }
            current.append(c)
        }
        parts.append(current)
        return parts
    }

    static func unescape(_ s: String) -> String {
        var out = ""
        var escaped = false
        for c in s {
            if escaped { out.append(c); escaped = false } else if c == "\\" { escaped = true } else { out.append(c) }
        }
        return out
    }

    /// Rejects fields the resource does not support (the apiserver's "field label not supported").
    public func validate(for type: ResourceType) throws {
        for term in terms where Self.path(for: term.field, in: type) == nil {
            throw APIError.badRequest("field label not supported: \(term.field)")
        }
    }

    public func matches(_ object: OrderedJSON, type: ResourceType) -> Bool {
        terms.allSatisfy { term in
            guard let path = Self.path(for: term.field, in: type) else { return false }
            let value = Self.stringValue(object[path: path])
            return term.equals ? value == term.value : value != term.value
        }
    }

    static func stringValue(_ json: OrderedJSON?) -> String {
        switch json {
        case .string(let s): return s
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        default: return ""
        }
    }

    /// The JSON path behind a field label, per resource (the apiserver's field label conversions).
    static func path(for field: String, in type: ResourceType) -> [String]? {
        switch field {
        case "metadata.name": return ["metadata", "name"]
        case "metadata.namespace": return ["metadata", "namespace"]
        default: break
        }
        let supported: [String]
        switch type.kind {
        case "Pod":
            supported = ["spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                         "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"]
        case "Event":
            supported = ["involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
                         "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
                         "reason", "reportingComponent", "type"]
            if field == "source" { return ["source", "component"] }
        case "Node": supported = ["spec.unschedulable"]
        case "Namespace": supported = ["status.phase"]
        case "Secret": supported = ["type"]
        case "ReplicaSet", "ReplicationController": supported = ["status.replicas"]
        default: supported = []
        }
        return supported.contains(field) ? field.split(separator: ".").map(String.init) : nil
    }
}

