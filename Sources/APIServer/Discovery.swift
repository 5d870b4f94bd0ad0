import KubeModel
import Platform

/// Legacy discovery documents and the OpenAPI stub that `create -f` and `apply` need.
enum Discovery {
    static let version: OrderedJSON = .object([
        ("major", .string("1")), ("minor", .string("32")), ("gitVersion", .string("v1.32.0")),
        ("gitCommit", .string("70d3cc986aa8221cd1dfb1121852688902d3bf53")), ("gitTreeState", .string("clean")),
        ("buildDate", .string("2024-12-11T17:59:15Z")), ("goVersion", .string("go1.23.3")), ("compiler", .string("gc")),
        ("platform", .string("linux/amd64")),
    ])

    static func apiVersions(serverAddress: String) -> OrderedJSON {
        .object([("kind", .string("APIVersions")), ("versions", .array([.string("v1")])),
                 ("serverAddressByClientCIDRs", .array([.object([("clientCIDR", .string("0.0.0.0/0")),
                                                                  ("serverAddress", .string(serverAddress))])]))])
    }

    static var apiGroupList: OrderedJSON {
        .object([("kind", .string("APIGroupList")), ("apiVersion", .string("v1")), ("groups", .array(ResourceCatalog.groups.map { group in
            let gv = OrderedJSON.object([("groupVersion", .string("\(group.name)/\(group.version)")), ("version", .string(group.version))])
            return .object([("name", .string(group.name)), ("versions", .array([gv])), ("preferredVersion", gv)])
        }))])
    }

    static func apiGroup(_ name: String) -> OrderedJSON? {
        guard let group = ResourceCatalog.groups.first(where: { $0.name == name }) else { return nil }
        let gv = OrderedJSON.object([("groupVersion", .string("\(group.name)/\(group.version)")), ("version", .string(group.version))])
        return .object([("kind", .string("APIGroup")), ("apiVersion", .string("v1")), ("name", .string(name)),
                        ("versions", .array([gv])), ("preferredVersion", gv)])
    }

    /// `APIResourceList` of one group/version, subresources as `parent/sub` entries.
    static func resourceList(group: String, version: String) -> OrderedJSON? {
        let types = ResourceCatalog.all.filter { $0.group == group && $0.version == version }
        guard !types.isEmpty else { return nil }
        var resources: [OrderedJSON] = []
        for type in types {
            var pairs: [(String, OrderedJSON)] = [
                ("name", .string(type.plural)), ("singularName", .string(type.singular)), ("namespaced", .bool(type.namespaced)),
                ("kind", .string(type.kind)), ("verbs", .strings(type.verbs)),
            ]
            if !type.shortNames.isEmpty { pairs.append(("shortNames", .strings(type.shortNames))) }
            if !type.categories.isEmpty { pairs.append(("categories", .strings(type.categories))) }
            resources.append(.object(pairs))
            for sub in type.subresources {
                var subPairs: [(String, OrderedJSON)] = [("name", .string("\(type.plural)/\(sub.name)")), ("singularName", .string("")),
                                                         ("namespaced", .bool(type.namespaced))]
                if let g = sub.group { subPairs.append(("group", .string(g))) }
                if let v = sub.version { subPairs.append(("version", .string(v))) }
                subPairs += [("kind", .string(sub.kind)), ("verbs", .strings(sub.verbs))]
                resources.append(.object(subPairs))
            }
        }
        let groupVersion = group.isEmpty ? version : "\(group)/\(version)"
        return .object([("kind", .string("APIResourceList")), ("apiVersion", .string("v1")),
                        ("groupVersion", .string(groupVersion)), ("resources", .array(resources))])
    }

    /// `/openapi/v3`: one entry per group/version.
    static var openAPIRoot: OrderedJSON {
        var paths: [(String, OrderedJSON)] = [("api/v1", .object([("serverRelativeURL", .string("/openapi/v3/api/v1?hash=onekube1"))]))]
        for group in ResourceCatalog.groups {
            let key = "apis/\(group.name)/\(group.version)"
            paths.append((key, .object([("serverRelativeURL", .string("/openapi/v3/\(key)?hash=onekube1"))])))
        }
        return .object([("paths", .object(paths))])
    }

    /// The per-group/version document: a PATCH operation per kind that declares `fieldValidation`,
    /// which is all kubectl reads (it then validates on the server and sends fieldValidation=Strict).
    static func openAPI(groupVersion: String) -> OrderedJSON? {
        let types = ResourceCatalog.all.filter { $0.apiVersion == groupVersion }
        guard !types.isEmpty else { return nil }
        let parameters: OrderedJSON = .array(["dryRun", "fieldManager", "fieldValidation", "force"].map { name in
            .object([("name", .string(name)), ("in", .string("query")),
                     ("schema", .object([("type", .string(name == "force" ? "boolean" : "string"))]))])
        })
        var paths: [(String, OrderedJSON)] = []
        for type in types {
            let prefix = type.group.isEmpty ? "/api/\(type.version)" : "/apis/\(type.group)/\(type.version)"
            let path = type.namespaced ? "\(prefix)/namespaces/{namespace}/\(type.plural)/{name}" : "\(prefix)/\(type.plural)/{name}"
            let operation: OrderedJSON = .object([
                ("operationId", .string("patch\(type.kind)")), ("parameters", parameters),
                ("requestBody", .object([("content", .object([
                    ("application/json-patch+json", .object([])), ("application/merge-patch+json", .object([])),
                    ("application/strategic-merge-patch+json", .object([])), ("application/apply-patch+yaml", .object([])),
                ]))])),
                ("responses", .object([("200", .object([("description", .string("OK"))]))])),
                ("x-kubernetes-action", .string("patch")),
                ("x-kubernetes-group-version-kind", .object([("group", .string(type.group)), ("version", .string(type.version)),
                                                             ("kind", .string(type.kind))])),
            ])
            paths.append((path, .object([("patch", operation)])))
        }
        return .object([("openapi", .string("3.0.0")), ("info", .object([("title", .string("Kubernetes")), ("version", .string("v1.32.0"))])),
                        ("components", .object([("schemas", .object([]))])), ("paths", .object(paths))])
    }
}
