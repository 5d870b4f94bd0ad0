/// The protobuf messages of the Kubernetes kinds onekube serves: for each message its fields in
/// declaration order (which is the order Go's JSON writes them in), with field number, JSON name and
/// type. The table itself is generated (`Schema+Generated.swift`); names drop the `k8s.io.api.` and
/// `k8s.io.apimachinery.pkg.…` prefixes (`core.v1.Pod`, `meta.v1.ObjectMeta`, `intstr.IntOrString`).
public enum ProtobufSchema {
    /// The message that carries `kind` in `apiVersion`, if onekube has its schema.
    public static func messageName(apiVersion: String, kind: String) -> String? {
        // apimachinery registers its option kinds in every group version (AddToGroupVersion).
        if kind == "DeleteOptions" { return "meta.v1.DeleteOptions" }
        return kinds[KindKey(apiVersion: apiVersion, kind: kind)]
    }

    static func message(named name: String) -> IndexedMessage? { messages[name] }

    struct KindKey: Hashable {
        let apiVersion: String
        let kind: String
    }

    static let kinds: [KindKey: String] = Dictionary(
        generatedKinds.map { (KindKey(apiVersion: $0.apiVersion, kind: $0.kind), $0.message) },
        uniquingKeysWith: { first, _ in first })

    static let messages: [String: IndexedMessage] = Dictionary(
        generatedMessages.map { ($0.name, IndexedMessage($0)) }, uniquingKeysWith: { first, _ in first })
}

/// A field's type as the .proto declares it; `map` is a map field (repeated key/value entries).
public indirect enum ProtoFieldType: Sendable, Equatable {
    case bool, int32, int64, uint32, uint64, sint32, sint64
    case fixed32, fixed64, sfixed32, sfixed64, float, double
    case string, bytes
    case message(String)
    case map(ProtoFieldType, ProtoFieldType)
}

public struct ProtoField: Sendable {
    public struct Flags: OptionSet, Sendable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        public static let repeated = Flags(rawValue: 1)
        /// A zero value sent on the wire stays in the JSON: the Go field is a pointer or has no
        /// `omitempty`. Go's protobuf encoder writes every non-pointer field, zero or not, and Go's
        /// JSON leaves a zero `omitempty` field out.
        public static let keepsZero = Flags(rawValue: 2)
        /// Go embeds the field's struct (`json:",inline"`): its members are the parent's in JSON.
        public static let inline = Flags(rawValue: 4)
    }

    public let number: Int
    public let name: String
    public let type: ProtoFieldType
    public let flags: Flags

    public init(_ number: Int, _ name: String, _ type: ProtoFieldType, _ flags: Flags = []) {
        self.number = number
        self.name = name
        self.type = type
        self.flags = flags
    }
}

public struct ProtoMessage: Sendable {
    public let name: String
    public let fields: [ProtoField]

    public init(_ name: String, _ fields: [ProtoField]) {
        self.name = name
        self.fields = fields
    }
}

public struct ProtoKind: Sendable {
    public let apiVersion: String
    public let kind: String
    public let message: String

    public init(_ apiVersion: String, _ kind: String, _ message: String) {
        self.apiVersion = apiVersion
        self.kind = kind
        self.message = message
    }
}

/// A message with its fields findable by number.
struct IndexedMessage: Sendable {
    let message: ProtoMessage
    let positions: [Int: Int]

    init(_ message: ProtoMessage) {
        self.message = message
        positions = Dictionary(message.fields.enumerated().map { ($1.number, $0) }, uniquingKeysWith: { first, _ in first })
    }
}
