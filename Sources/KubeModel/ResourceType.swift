/// A kind the API serves: how discovery names it and how the store keys it.
public struct ResourceType: Sendable, Hashable {
    public var group: String
    public var version: String
    public var kind: String
    /// The plural resource name used in URLs (`pods`).
    public var plural: String
    public var singular: String
    public var namespaced: Bool
    public var shortNames: [String]
    public var categories: [String]
    public var verbs: [String]
    public var subresources: [Subresource]

    public struct Subresource: Sendable, Hashable {
        public var name: String
        public var kind: String
        public var verbs: [String]
        /// Set when the subresource's kind lives in another group (scale → autoscaling/v1).
        public var group: String?
        public var version: String?
    }

    public static let allVerbs = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]

    /// `v1` or `apps/v1`.
    public var apiVersion: String { group.isEmpty ? version : "\(group)/\(version)" }
    /// The store's resource key: `pods`, `deployments.apps`.
    public var storageName: String { group.isEmpty ? plural : "\(plural).\(group)" }
    public var listKind: String { kind + "List" }
    /// How errors name the resource (`pods`, `deployments.apps`), as the apiserver's qualified resource.
    public var qualifiedName: String { storageName }

    public func subresource(_ name: String) -> Subresource? { subresources.first { $0.name == name } }
}

/// Every resource onekube serves, in discovery order.
public enum ResourceCatalog {
    static func resource(
        _ group: String, _ version: String, _ kind: String, _ plural: String, namespaced: Bool = true,
        short: [String] = [], categories: [String] = [], verbs: [String] = ResourceType.allVerbs,
        subresources: [ResourceType.Subresource] = []
    ) -> ResourceType {
        ResourceType(group: group, version: version, kind: kind, plural: plural, singular: kind.lowercased(),
                     namespaced: namespaced, shortNames: short, categories: categories, verbs: verbs,
                     subresources: subresources)
    }

    static func status(_ kind: String) -> ResourceType.Subresource {
        .init(name: "status", kind: kind, verbs: ["get", "patch", "update"])
    }

    static let scale = ResourceType.Subresource(name: "scale", kind: "Scale", verbs: ["get", "patch", "update"],
                                                group: "autoscaling", version: "v1")

    public static let all: [ResourceType] = [
        resource("", "v1", "ConfigMap", "configmaps", short: ["cm"]),
        resource("", "v1", "Endpoints", "endpoints", short: ["ep"]).singular("endpoints"),
        resource("", "v1", "Event", "events", short: ["ev"]),
        resource("", "v1", "Namespace", "namespaces", namespaced: false, short: ["ns"],
                 verbs: ["create", "delete", "get", "list", "patch", "update", "watch"],
                 subresources: [.init(name: "finalize", kind: "Namespace", verbs: ["update"]), status("Namespace")]),
        resource("", "v1", "Node", "nodes", namespaced: false, short: ["no"], subresources: [status("Node")]),
        resource("", "v1", "Pod", "pods", short: ["po"], categories: ["all"], subresources: [
            .init(name: "binding", kind: "Binding", verbs: ["create"]),
            .init(name: "attach", kind: "PodAttachOptions", verbs: ["create", "get"]),
            .init(name: "eviction", kind: "Eviction", verbs: ["create"], group: "policy", version: "v1"),
            .init(name: "exec", kind: "PodExecOptions", verbs: ["create", "get"]),
            .init(name: "log", kind: "Pod", verbs: ["get"]),
            .init(name: "portforward", kind: "PodPortForwardOptions", verbs: ["create", "get"]),
            status("Pod"),
        ]),
        resource("", "v1", "ReplicationController", "replicationcontrollers", short: ["rc"], categories: ["all"],
                 subresources: [scale, status("ReplicationController")]),
        resource("", "v1", "Secret", "secrets"),
        resource("", "v1", "ServiceAccount", "serviceaccounts", short: ["sa"]),
        resource("", "v1", "Service", "services", short: ["svc"], categories: ["all"],
                 verbs: ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"],
                 subresources: [status("Service")]),
        resource("apps", "v1", "DaemonSet", "daemonsets", short: ["ds"], categories: ["all"], subresources: [status("DaemonSet")]),
        resource("apps", "v1", "Deployment", "deployments", short: ["deploy"], categories: ["all"],
                 subresources: [scale, status("Deployment")]),
        resource("apps", "v1", "ReplicaSet", "replicasets", short: ["rs"], categories: ["all"],
                 subresources: [scale, status("ReplicaSet")]),
        resource("batch", "v1", "Job", "jobs", categories: ["all"], subresources: [status("Job")]),
        resource("coordination.k8s.io", "v1", "Lease", "leases"),
        resource("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices"),
    ]

    /// The API groups in `/apis` order.
    public static var groups: [(name: String, version: String)] {
        var seen: [(String, String)] = []
        for r in all where !r.group.isEmpty && !seen.contains(where: { $0.0 == r.group }) { seen.append((r.group, r.version)) }
        return seen
    }

    public static func find(group: String, version: String, plural: String) -> ResourceType? {
        all.first { $0.group == group && $0.version == version && $0.plural == plural }
    }

    public static func find(apiVersion: String, kind: String) -> ResourceType? {
        all.first { $0.apiVersion == apiVersion && $0.kind == kind }
    }

    public static func find(kind: String) -> ResourceType? {
        all.first { $0.kind == kind }
    }

}

extension ResourceType {
    func singular(_ name: String) -> ResourceType {
        var copy = self
        copy.singular = name
        return copy
    }
}
