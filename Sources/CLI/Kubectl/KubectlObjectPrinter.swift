import Foundation
import Platform

/// `-o json|yaml|name` as kubectl prints objects: keys in alphabetical order (Go marshals maps
/// that way), JSON indented by four spaces, a List around several objects.
enum KubectlObjectPrinter {
    static func sortedKeys(_ value: OrderedJSON) -> OrderedJSON {
        switch value {
        case .object(let pairs): return .object(pairs.map { ($0.0, sortedKeys($0.1)) }.sorted { $0.0 < $1.0 })
        case .array(let items): return .array(items.map(sortedKeys))
        default: return value
        }
    }

    static func list(_ items: [OrderedJSON]) -> OrderedJSON {
        .object([("apiVersion", .string("v1")), ("items", .array(items)), ("kind", .string("List")),
                 ("metadata", .object([("resourceVersion", .string(""))]))])
    }

    static func json(_ value: OrderedJSON) -> String {
        sortedKeys(value).pretty(indent: "    ") + "\n"
    }

    static func yaml(_ value: OrderedJSON) -> String {
        KubectlYAML.render(value)
    }

    /// `pod/kubia`, `deployment.apps/kubia`.
    static func name(_ object: OrderedJSON, type: ResourceDiscovery.ResourceType) -> String {
        "\(type.nameKind)/\(object[path: ["metadata", "name"]]?.stringValue ?? "")"
    }
}
