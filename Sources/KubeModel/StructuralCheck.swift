import Platform

/// The JSON types of the fields the apiserver's decoder would insist on, so that a wrong type is
/// a 400 (as Go's json decoding into typed structs makes it) rather than stored garbage.
public enum StructuralCheck {
    enum Kind: String {
        case object, array, string, integer, boolean

        var goType: String {
            switch self {
            case .object: return "map"
            case .array: return "slice"
            case .string: return "string"
            case .integer: return "int32"
            case .boolean: return "bool"
            }
        }

        func matches(_ value: OrderedJSON) -> Bool {
            switch (self, value) {
            case (_, .null): return true
            case (.object, .object), (.array, .array), (.string, .string), (.integer, .int), (.boolean, .bool): return true
            default: return false
            }
        }
    }

    /// Paths use `*` for every element of an array or every value of a map.
    static let rules: [([String], Kind)] = [
        (["metadata"], .object), (["metadata", "name"], .string), (["metadata", "generateName"], .string),
        (["metadata", "namespace"], .string), (["metadata", "labels"], .object), (["metadata", "labels", "*"], .string),
        (["metadata", "annotations"], .object), (["metadata", "annotations", "*"], .string),
        (["metadata", "finalizers"], .array), (["metadata", "finalizers", "*"], .string),
        (["metadata", "ownerReferences"], .array), (["metadata", "ownerReferences", "*"], .object),
        (["metadata", "resourceVersion"], .string), (["metadata", "uid"], .string),
        (["kind"], .string), (["apiVersion"], .string), (["spec"], .object), (["status"], .object),
        (["data"], .object), (["data", "*"], .string), (["stringData"], .object), (["type"], .string),
        (["spec", "replicas"], .integer), (["spec", "selector"], .object), (["spec", "template"], .object),
        (["spec", "containers"], .array), (["spec", "containers", "*"], .object),
        (["spec", "containers", "*", "name"], .string), (["spec", "containers", "*", "image"], .string),
        (["spec", "containers", "*", "command"], .array), (["spec", "containers", "*", "args"], .array),
        (["spec", "containers", "*", "ports"], .array), (["spec", "containers", "*", "ports", "*", "containerPort"], .integer),
        (["spec", "containers", "*", "env"], .array), (["spec", "nodeName"], .string), (["spec", "nodeSelector"], .object),
        (["spec", "restartPolicy"], .string), (["spec", "ports"], .array), (["spec", "ports", "*"], .object),
        (["spec", "ports", "*", "port"], .integer), (["spec", "ports", "*", "nodePort"], .integer),
        (["spec", "ports", "*", "name"], .string), (["spec", "type"], .string), (["spec", "clusterIP"], .string),
        (["spec", "template", "spec", "containers"], .array), (["spec", "template", "spec", "containers", "*"], .object),
        (["spec", "template", "spec", "containers", "*", "name"], .string),
        (["spec", "template", "spec", "containers", "*", "image"], .string),
        (["spec", "template", "metadata", "labels"], .object),
    ]

    /// Throws a 400 like the apiserver's decoder: `Pod in version "v1" cannot be handled as a Pod: …`.
    public static func check(_ object: OrderedJSON, type: ResourceType) throws {
        guard case .object = object else {
            throw decodeError(type, "json: cannot unmarshal \(jsonType(object)) into Go value of type struct")
        }
        for (path, kind) in rules {
            for (concrete, value) in values(at: path[...], in: object, prefix: []) where !kind.matches(value) {
                throw decodeError(type, "json: cannot unmarshal \(jsonType(value)) into Go struct field \(concrete.joined(separator: ".")) of type \(kind.goType)")
            }
        }
    }

    static func decodeError(_ type: ResourceType, _ detail: String) -> APIError {
        APIError.badRequest("\(type.kind) in version \"\(type.version)\" cannot be handled as a \(type.kind): \(detail)")
    }

    static func values(at path: ArraySlice<String>, in value: OrderedJSON, prefix: [String]) -> [([String], OrderedJSON)] {
        guard let first = path.first else { return [(prefix, value)] }
        let rest = path.dropFirst()
        if first == "*" {
            switch value {
            case .array(let items): return items.enumerated().flatMap { values(at: rest, in: $1, prefix: prefix + ["[\($0)]"]) }
            case .object(let pairs): return pairs.flatMap { values(at: rest, in: $1, prefix: prefix + [$0]) }
            default: return []
            }
        }
        guard case .object = value, let child = value[first] else { return [] }
        return values(at: rest, in: child, prefix: prefix + [first])
    }

    static func jsonType(_ value: OrderedJSON) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "bool"
        case .int, .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }
}
