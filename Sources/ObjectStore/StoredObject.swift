import Platform

/// An object as the store holds it: its value carries `metadata.resourceVersion` = `revision`.
public struct StoredObject: Sendable {
    public var key: ObjectKey
    public var revision: Int64
    public var value: OrderedJSON
}

/// One change, as watchers see it. A deletion carries the object's last state, with the deletion's
/// own revision as its resourceVersion (as the Kubernetes API reports it).
public struct WatchEvent: Sendable {
    public enum Kind: String, Sendable { case added = "ADDED", modified = "MODIFIED", deleted = "DELETED" }
    public var kind: Kind
    public var revision: Int64
    public var key: ObjectKey
    public var object: OrderedJSON
    /// The state before this change (nil for ADDED, and for events replayed from the log), so
    /// that filtered watches can tell an object leaving their selector.
    public var previous: OrderedJSON?
}

/// Failures of store operations, mapped to Kubernetes `Status` by the API server.
public enum StoreError: Error, Equatable, Sendable {
    case notFound(ObjectKey)
    case alreadyExists(ObjectKey)
    /// The caller's resourceVersion precondition no longer holds.
    case conflict(ObjectKey)
    /// The watch asked for history that compaction removed.
    case gone(requested: Int64, oldest: Int64)
}
