/// Where an object lives in the store: its resource (`pods`, `deployments.apps`), namespace (empty
/// for cluster-scoped kinds) and name. The string form orders by resource, namespace, name — the
/// order lists come back in, as from etcd.
public struct ObjectKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var resource: String
    public var namespace: String
    public var name: String

    public init(resource: String, namespace: String = "", name: String) {
        self.resource = resource
        self.namespace = namespace
        self.name = name
    }

    public var description: String { "\(resource)/\(namespace)/\(name)" }

    init?(parsing text: String) {
        let parts = text.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3 else { return nil }
        self.init(resource: String(parts[0]), namespace: String(parts[1]), name: String(parts[2]))
    }

    public static func < (a: ObjectKey, b: ObjectKey) -> Bool {
        (a.resource, a.namespace, a.name) < (b.resource, b.namespace, b.name)
    }
}

/// Which objects a list or watch covers: every object of a resource, or those of one namespace.
public struct ObjectScope: Sendable, Equatable {
    public var resource: String
    public var namespace: String?

    public init(resource: String, namespace: String? = nil) {
        self.resource = resource
        self.namespace = namespace
    }

    public func contains(_ key: ObjectKey) -> Bool {
        key.resource == resource && (namespace == nil || key.namespace == namespace)
    }
}
