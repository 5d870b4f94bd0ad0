import Platform

/// Which fields of a JSON object its kind declares, from the same schema the protobuf decoder
/// uses: what the apiserver's strict decoding reports as `unknown field "spec.contianers"` and
/// what its typed decoding silently drops otherwise.
public enum KnownFields {
    public struct Result: Sendable {
        /// The object without the undeclared fields, as a typed decode would leave it.
        public var object: OrderedJSON
        /// The undeclared fields' paths in document order (`spec.containers[0].imagePolicy`).
        public var unknown: [String]
    }

    /// nil when onekube has no schema for the kind (nothing is checked then).
    public static func check(_ object: OrderedJSON, apiVersion: String, kind: String) -> Result? {
        guard let name = ProtobufSchema.messageName(apiVersion: apiVersion, kind: kind),
              let message = ProtobufSchema.message(named: name) else { return nil }
        var unknown: [String] = []
        // TypeMeta travels outside the protobuf message, in the envelope.
        let pruned = prune(object, message: message, path: "", unknown: &unknown, allowed: ["kind", "apiVersion"])
        return Result(object: pruned, unknown: unknown)
    }

    /// The fields a message declares under their JSON names, inline members lifted into it.
    static func fields(of message: IndexedMessage) -> [String: ProtoField] {
        var result: [String: ProtoField] = [:]
        for field in message.message.fields {
            if field.flags.contains(.inline), case .message(let inner) = field.type, let embedded = ProtobufSchema.message(named: inner) {
                for (name, member) in fields(of: embedded) { result[name] = member }
            } else {
                result[field.name] = field
            }
        }
        return result
    }

    static func prune(_ value: OrderedJSON, message: IndexedMessage, path: String, unknown: inout [String],
                      allowed: Set<String> = []) -> OrderedJSON {
        guard case .object(let pairs) = value else { return value }
        let declared = fields(of: message)
        var kept: [(String, OrderedJSON)] = []
        for (key, member) in pairs {
            let memberPath = path.isEmpty ? key : "\(path).\(key)"
            guard let field = declared[key] else {
                if allowed.contains(key) {
                    kept.append((key, member))
                } else {
                    unknown.append(memberPath)
                }
                continue
            }
            kept.append((key, prune(member, type: field.type, repeated: field.flags.contains(.repeated), path: memberPath, unknown: &unknown)))
        }
        return .object(kept)
    }

    static func prune(_ value: OrderedJSON, type: ProtoFieldType, repeated: Bool, path: String, unknown: inout [String]) -> OrderedJSON {
        if repeated, case .array(let items) = value {
            return .array(items.enumerated().map { index, item in
                prune(item, type: type, repeated: false, path: "\(path)[\(index)]", unknown: &unknown)
            })
        }
        switch type {
        case .message(let name):
            // Times, quantities, int-or-strings and raw extensions are not objects of fields.
            guard WellKnownType(rawValue: name) == nil, let message = ProtobufSchema.message(named: name) else { return value }
            return prune(value, message: message, path: path, unknown: &unknown)
        case .map(_, let valueType):
            guard case .object(let entries) = value, case .message = valueType else { return value }
            return .object(entries.map { key, entry in
                (key, prune(entry, type: valueType, repeated: false, path: "\(path)[\(key)]", unknown: &unknown))
            })
        default:
            return value
        }
    }
}
