import Platform

/// Reading and writing the metadata every Kubernetes object carries, on its JSON.
extension OrderedJSON {
    public var kind: String? { self["kind"]?.stringValue }
    public var apiVersion: String? { self["apiVersion"]?.stringValue }

    public var name: String {
        get { self[path: ["metadata", "name"]]?.stringValue ?? "" }
        set { self[path: ["metadata", "name"]] = .string(newValue) }
    }

    public var namespace: String {
        get { self[path: ["metadata", "namespace"]]?.stringValue ?? "" }
        set { self[path: ["metadata", "namespace"]] = newValue.isEmpty ? nil : .string(newValue) }
    }

    public var uid: String { self[path: ["metadata", "uid"]]?.stringValue ?? "" }
    public var resourceVersion: String? { self[path: ["metadata", "resourceVersion"]]?.stringValue }
    public var generation: Int64 { self[path: ["metadata", "generation"]]?.intValue ?? 0 }
    public var creationTimestamp: String? { self[path: ["metadata", "creationTimestamp"]]?.stringValue }
    public var deletionTimestamp: String? { self[path: ["metadata", "deletionTimestamp"]]?.stringValue }

    public var labels: [String: String] {
        get { self[path: ["metadata", "labels"]]?.stringMap ?? [:] }
        set { self[path: ["metadata", "labels"]] = newValue.isEmpty ? nil : .stringMap(newValue) }
    }

    public var annotations: [String: String] {
        get { self[path: ["metadata", "annotations"]]?.stringMap ?? [:] }
        set { self[path: ["metadata", "annotations"]] = newValue.isEmpty ? nil : .stringMap(newValue) }
    }

    public var finalizers: [String] {
        get { (self[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue) }
        set { self[path: ["metadata", "finalizers"]] = newValue.isEmpty ? nil : .array(newValue.map(OrderedJSON.string)) }
    }

    public var ownerReferences: [OwnerReference] {
        (self[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).compactMap(OwnerReference.init)
    }
}

/// `metadata.ownerReferences[]`, for the garbage collector and `describe`'s "Controlled By".
public struct OwnerReference: Sendable, Equatable {
    public var apiVersion: String
    public var kind: String
    public var name: String
    public var uid: String
    public var controller: Bool
    public var blockOwnerDeletion: Bool

    public init(apiVersion: String, kind: String, name: String, uid: String, controller: Bool = true, blockOwnerDeletion: Bool = true) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.name = name
        self.uid = uid
        self.controller = controller
        self.blockOwnerDeletion = blockOwnerDeletion
    }

    init?(_ json: OrderedJSON) {
        guard let kind = json["kind"]?.stringValue, let name = json["name"]?.stringValue, let uid = json["uid"]?.stringValue else { return nil }
        self.init(apiVersion: json["apiVersion"]?.stringValue ?? "v1", kind: kind, name: name, uid: uid,
                  controller: json["controller"]?.boolValue ?? false, blockOwnerDeletion: json["blockOwnerDeletion"]?.boolValue ?? false)
    }

    public var json: OrderedJSON {
        .object([("apiVersion", .string(apiVersion)), ("kind", .string(kind)), ("name", .string(name)), ("uid", .string(uid)),
                 ("controller", .bool(controller)), ("blockOwnerDeletion", .bool(blockOwnerDeletion))])
    }
}
