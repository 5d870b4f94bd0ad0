import Platform

/// What kubectl mode knows of the server's resource types, from legacy discovery (/api/v1,
/// /apis and each group's preferred version): a name typed by the user — plural, singular, short
/// name or kind, with an optional `.group` — becomes a path.
struct ResourceDiscovery {
    struct ResourceType: Equatable {
        var group: String
        var version: String
        var plural: String
        var singular: String
        var kind: String
        var namespaced: Bool
        var shortNames: [String]
        var verbs: [String]
        var categories: [String]

        var groupVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
        /// `pods`, `replicationcontrollers`, `deployments.apps` as kubectl names them in messages.
        var qualifiedName: String { group.isEmpty ? plural : "\(plural).\(group)" }
        /// `pod`, `deployment.apps`: the prefix of `-o name` and of kubectl's "created" lines.
        var nameKind: String { group.isEmpty ? kind.lowercased() : "\(kind.lowercased()).\(group)" }

        func collectionPath(namespace: String?) -> String {
            let base = group.isEmpty ? "/api/\(version)" : "/apis/\(group)/\(version)"
            if namespaced, let namespace { return "\(base)/namespaces/\(namespace)/\(plural)" }
            return "\(base)/\(plural)"
        }

        func objectPath(namespace: String?, name: String) -> String {
            collectionPath(namespace: namespace) + "/" + name
        }
    }

    let types: [ResourceType]

    static func load(_ client: KubeAPIClient) throws -> ResourceDiscovery {
        var types = try resources(client, group: "", version: "v1", path: "/api/v1")
        let groups = try client.expect("GET", "/apis")
        for group in groups["groups"]?.arrayValue ?? [] {
            guard let name = group["name"]?.stringValue,
                  let version = group[path: ["preferredVersion", "version"]]?.stringValue else { continue }
            types += try resources(client, group: name, version: version, path: "/apis/\(name)/\(version)")
        }
        return ResourceDiscovery(types: types)
    }

    static func resources(_ client: KubeAPIClient, group: String, version: String, path: String) throws -> [ResourceType] {
        let list = try client.expect("GET", path)
        return (list["resources"]?.arrayValue ?? []).compactMap { resource in
            guard let plural = resource["name"]?.stringValue, !plural.contains("/") else { return nil }
            return ResourceType(group: group, version: version, plural: plural,
                                singular: resource["singularName"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? plural,
                                kind: resource["kind"]?.stringValue ?? "", namespaced: resource["namespaced"]?.boolValue ?? false,
                                shortNames: resource["shortNames"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                verbs: resource["verbs"]?.arrayValue?.compactMap(\.stringValue) ?? [],
                                categories: resource["categories"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        }
    }

    /// kubectl's lookup: `po`, `pod`, `pods`, `Pod`, `deploy`, `deployments.apps`.
    func find(_ typed: String) throws -> ResourceType {
        let lowered = typed.lowercased()
        let parts = lowered.split(separator: ".", maxSplits: 1).map(String.init)
        let name = parts.first ?? lowered
        let group = parts.count > 1 ? parts[1] : nil
        let matches = types.filter { type in
            (group == nil || type.group == group)
                && (type.plural == name || type.singular == name || type.shortNames.contains(name) || type.kind.lowercased() == name)
        }
        // Core and apps win over later groups that reuse a name (events in core and events.k8s.io).
        guard let first = matches.first else {
            throw KubectlError.message("error: the server doesn't have a resource type \"\(typed)\"")
        }
        return first
    }

    /// The types in the `all` category, in discovery order (as kubectl expands it).
    var all: [ResourceType] { types.filter { $0.categories.contains("all") } }

    func byKind(_ kind: String, apiVersion: String) -> ResourceType? {
        types.first { $0.kind == kind && $0.groupVersion == apiVersion } ?? types.first { $0.kind == kind }
    }
}
