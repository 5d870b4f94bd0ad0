import Platform

/// The PATCH flavours kubectl sends.
public enum Patch {
    /// RFC 7386 JSON merge patch: objects merge recursively, null deletes, everything else replaces.
    public static func merge(_ target: OrderedJSON, _ patch: OrderedJSON) -> OrderedJSON {
        guard case .object(let patchPairs) = patch else { return patch }
        var result: OrderedJSON = target.objectValue != nil ? target : .object([])
        for (key, value) in patchPairs {
            if value.isNull {
                result[key] = nil
            } else {
                result[key] = merge(result[key] ?? .null, value)
            }
        }
        return result
    }

    /// RFC 6902 JSON patch.
    public static func jsonPatch(_ target: OrderedJSON, _ operations: OrderedJSON) throws -> OrderedJSON {
        guard let ops = operations.arrayValue else { throw APIError.badRequest("json patch must be an array of operations") }
        var doc = target
        for op in ops {
            guard let name = op["op"]?.stringValue, let path = op["path"]?.stringValue else {
                throw APIError.badRequest("json patch operation is missing op or path")
            }
            let pointer = try JSONPointer(path)
            switch name {
            case "add": doc = try pointer.add(op["value"] ?? .null, to: doc)
            case "remove": doc = try pointer.remove(from: doc)
            case "replace":
                doc = try pointer.replace(op["value"] ?? .null, in: doc)
            case "move", "copy":
                guard let from = op["from"]?.stringValue else { throw APIError.badRequest("json patch \(name) needs from") }
                let source = try JSONPointer(from)
                let value = try source.get(doc)
                if name == "move" { doc = try source.remove(from: doc) }
                doc = try pointer.add(value, to: doc)
            case "test":
                guard try pointer.get(doc) == (op["value"] ?? .null) else {
                    throw APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: test operation failed at \(path)")
                }
            default:
                throw APIError.badRequest("unknown json patch operation \"\(name)\"")
            }
        }
        return doc
    }

    /// Strategic merge patch for the built-in kinds: lists with a merge key merge element by
    /// element (`$patch: delete` removes one); other lists replace; `$patch: replace` replaces a
    /// map; `$retainKeys`, `$setElementOrder/…` and `$deleteFromPrimitiveList/…` are honoured.
    public static func strategicMerge(_ target: OrderedJSON, _ patch: OrderedJSON) -> OrderedJSON {
        guard case .object(var patchPairs) = patch else { return patch }
        if let directive = patchPairs.first(where: { $0.0 == "$patch" })?.1.stringValue {
            patchPairs.removeAll { $0.0 == "$patch" }
            if directive == "replace" { return .object(patchPairs) }
            if directive == "delete" { return .null }
        }
        var result: OrderedJSON = target.objectValue != nil ? target : .object([])
        var orders: [String: [OrderedJSON]] = [:]
        var retainKeys: [String]?
        for (key, value) in patchPairs {
            if key.hasPrefix("$setElementOrder/") {
                orders[String(key.dropFirst("$setElementOrder/".count))] = value.arrayValue ?? []
                continue
            }
            if key == "$retainKeys" {
                retainKeys = (value.arrayValue ?? []).compactMap(\.stringValue)
                continue
            }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let list = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = value.arrayValue ?? []
                if let existing = result[list]?.arrayValue { result[list] = .array(existing.filter { !remove.contains($0) }) }
                continue
            }
            if value.isNull {
                result[key] = nil
            } else if let patchList = value.arrayValue, let mergeKey = mergeKey(for: key, elements: patchList + (result[key]?.arrayValue ?? [])) {
                result[key] = .array(mergeList(result[key]?.arrayValue ?? [], patchList, key: mergeKey))
            } else if value.objectValue != nil {
                result[key] = strategicMerge(result[key] ?? .null, value)
            } else {
                result[key] = value
            }
        }
        for (list, order) in orders {
            guard let items = result[list]?.arrayValue, let mergeKey = mergeKey(for: list, elements: items) else { continue }
            let keyed = order.compactMap { $0[mergeKey] }
            let ordered = keyed.compactMap { k in items.first { $0[mergeKey] == k } }
            let rest = items.filter { item in !keyed.contains { $0 == item[mergeKey] } }
            result[list] = .array(ordered + rest)
        }
        if let retainKeys, case .object(let pairs) = result {
            result = .object(pairs.filter { retainKeys.contains($0.0) })
        }
        return result
    }

    /// The patch merge key of the built-in types' lists, by field name (ports: by the element
    /// shape — `containerPort` in containers, `port` in services).
    static func mergeKey(for field: String, elements: [OrderedJSON]) -> String? {
        switch field {
        case "containers", "initContainers", "ephemeralContainers", "env", "volumes", "imagePullSecrets":
            return "name"
        case "ports":
            return elements.contains { $0["containerPort"] != nil } ? "containerPort" : "port"
        case "volumeMounts": return "mountPath"
        case "volumeDevices": return "devicePath"
        case "conditions", "addresses": return "type"
        case "ownerReferences": return "uid"
        default: return nil
        }
    }

    static func mergeList(_ target: [OrderedJSON], _ patch: [OrderedJSON], key: String) -> [OrderedJSON] {
        var result = target
        for element in patch {
            let id = element[key]
            let directive = element["$patch"]?.stringValue
            let index = result.firstIndex { $0[key] == id && id != nil }
            if directive == "delete" {
                if let index { result.remove(at: index) }
                continue
            }
            if let index {
                result[index] = strategicMerge(result[index], element)
            } else {
                result.append(strategicMerge(.object([]), element))
            }
        }
        return result
    }
}

/// RFC 6901 JSON pointer over OrderedJSON.
struct JSONPointer {
    let tokens: [String]

    init(_ text: String) throws {
        guard text.isEmpty || text.hasPrefix("/") else { throw APIError.badRequest("invalid JSON pointer \"\(text)\"") }
        tokens = text.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map {
            $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        }
    }

    func get(_ doc: OrderedJSON) throws -> OrderedJSON {
        var current = doc
        for token in tokens { current = try child(current, token) }
        return current
    }

    func child(_ value: OrderedJSON, _ token: String) throws -> OrderedJSON {
        if let array = value.arrayValue {
            guard let i = Int(token), array.indices.contains(i) else { throw missing() }
            return array[i]
        }
        guard let v = value[token] else { throw missing() }
        return v
    }

    func missing() -> APIError {
        APIError(code: 422, reason: "Invalid", message: "the server rejected our request due to an error in our request: path /\(tokens.joined(separator: "/")) does not exist")
    }

    func add(_ value: OrderedJSON, to doc: OrderedJSON) throws -> OrderedJSON {
        try modify(doc, tokens[...]) { parent, last in
            if var array = parent.arrayValue {
                if last == "-" { array.append(value) } else {
                    guard let i = Int(last), i >= 0, i <= array.count else { throw missing() }
                    array.insert(value, at: i)
                }
                return .array(array)
            }
            var p = parent
            p[last] = value
            return p
        }
    }

    /// Replaces in place (an object member keeps its position).
    func replace(_ value: OrderedJSON, in doc: OrderedJSON) throws -> OrderedJSON {
        _ = try get(doc)
        return try modify(doc, tokens[...]) { parent, last in
            if var array = parent.arrayValue {
                guard let i = Int(last), array.indices.contains(i) else { throw missing() }
                array[i] = value
                return .array(array)
            }
            var p = parent
            p[last] = value
            return p
        }
    }

    func remove(from doc: OrderedJSON) throws -> OrderedJSON {
        try modify(doc, tokens[...]) { parent, last in
            if var array = parent.arrayValue {
                guard let i = Int(last), array.indices.contains(i) else { throw missing() }
                array.remove(at: i)
                return .array(array)
            }
            guard parent[last] != nil else { throw missing() }
            var p = parent
            p[last] = nil
            return p
        }
    }

    private func modify(_ doc: OrderedJSON, _ rest: ArraySlice<String>,
                        _ apply: (OrderedJSON, String) throws -> OrderedJSON) throws -> OrderedJSON {
        guard let first = rest.first else { throw APIError.badRequest("a JSON patch cannot replace the whole object") }
        if rest.count == 1 { return try apply(doc, first) }
        let inner = try modify(try child(doc, first), rest.dropFirst(), apply)
        if var array = doc.arrayValue, let i = Int(first) {
            array[i] = inner
            return .array(array)
        }
        var copy = doc
        copy[first] = inner
        return copy
    }
}

import Foundation
