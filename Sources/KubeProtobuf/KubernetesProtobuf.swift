import Platform

/// Kubernetes' protobuf encoding (`application/vnd.kubernetes.protobuf`) of request bodies: the
/// magic `k8s\0`, then a `runtime.Unknown` whose TypeMeta names the kind and whose `raw` holds the
/// object's own message. client-go's typed clients (kubectl's `create namespace|deployment|…`) send
/// it and do not retry with JSON, so the server has to read it.
public enum KubernetesProtobuf {
    public static let contentType = "application/vnd.kubernetes.protobuf"
    public static let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]

    /// Whether a body of this kind can be decoded at all.
    public static func hasSchema(apiVersion: String, kind: String) -> Bool {
        ProtobufSchema.messageName(apiVersion: apiVersion, kind: kind) != nil
    }

    /// The object in `body` as the JSON Go's encoder writes for it, `kind` and `apiVersion` first.
    /// The envelope may leave its kind or version out; they default to those the URL names, as
    /// the apiserver's decoder defaults them.
    public static func decodeObject(_ body: [UInt8], defaultAPIVersion: String, defaultKind: String) throws(ProtobufDecodingError) -> OrderedJSON {
        let envelope = try Envelope(body)
        let apiVersion = envelope.apiVersion.isEmpty ? defaultAPIVersion : envelope.apiVersion
        let kind = envelope.kind.isEmpty ? defaultKind : envelope.kind
        let stage = ProtobufDecodingError.Stage.object(apiVersion: apiVersion, kind: kind)
        guard let message = ProtobufSchema.messageName(apiVersion: apiVersion, kind: kind) else {
            throw ProtobufDecodingError(stage: stage, reason: "no kind \"\(kind)\" is registered for version \"\(apiVersion)\" in scheme \"pkg/api/legacyscheme/scheme.go:30\"")
        }
        do throws(WireError) {
            let object = try MessageDecoder(bytes: body).decode(message, envelope.raw)
            return .object([("kind", .string(kind)), ("apiVersion", .string(apiVersion))] + (object.objectValue ?? []))
        } catch {
            throw ProtobufDecodingError(stage: stage, reason: error.reason)
        }
    }

    /// The `runtime.Unknown` around the object: typeMeta = 1 {apiVersion = 1, kind = 2}, raw = 2,
    /// contentEncoding = 3, contentType = 4 (the last two are not used for request bodies).
    struct Envelope {
        var apiVersion = ""
        var kind = ""
        var raw: Range<Int> = 0..<0

        init(_ body: [UInt8]) throws(ProtobufDecodingError) {
            func fail(_ reason: String) -> ProtobufDecodingError { ProtobufDecodingError(stage: .envelope, reason: reason) }
            guard !body.isEmpty else { throw fail("empty data") }
            guard body.starts(with: KubernetesProtobuf.magic) else {
                throw fail("provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]")
            }
            guard body.count > KubernetesProtobuf.magic.count else { throw fail("empty body") }
            do throws(WireError) {
                var reader = WireReader(body, KubernetesProtobuf.magic.count..<body.count)
                while !reader.isAtEnd {
                    let (number, wireType) = try reader.tag()
                    guard number > 0 else { throw WireError.illegalTag(message: "Unknown", field: number, wireType: wireType) }
                    if wireType == WireReader.WireType.endGroup.rawValue { throw WireError.endGroup(message: "Unknown") }
                    switch number {
                    case 1:
                        guard wireType == WireReader.WireType.lengthDelimited.rawValue else { throw WireError.wrongWireType(wireType, field: "TypeMeta") }
                        try readTypeMeta(body, try reader.lengthDelimited())
                    case 2, 3, 4:
                        guard wireType == WireReader.WireType.lengthDelimited.rawValue else {
                            throw WireError.wrongWireType(wireType, field: ["Raw", "ContentEncoding", "ContentType"][number - 2])
                        }
                        let range = try reader.lengthDelimited()
                        if number == 2 { raw = range }
                    default:
                        try reader.skip(wireType: wireType)
                    }
                }
            } catch {
                throw fail(error.reason)
            }
        }

        mutating func readTypeMeta(_ body: [UInt8], _ range: Range<Int>) throws(WireError) {
            var reader = WireReader(body, range)
            while !reader.isAtEnd {
                let (number, wireType) = try reader.tag()
                guard number > 0 else { throw .illegalTag(message: "TypeMeta", field: number, wireType: wireType) }
                if wireType == WireReader.WireType.endGroup.rawValue { throw .endGroup(message: "TypeMeta") }
                guard number == 1 || number == 2 else {
                    try reader.skip(wireType: wireType)
                    continue
                }
                guard wireType == WireReader.WireType.lengthDelimited.rawValue else {
                    throw .wrongWireType(wireType, field: number == 1 ? "APIVersion" : "Kind")
                }
                let text = String(decoding: body[try reader.lengthDelimited()], as: UTF8.self)
                if number == 1 { apiVersion = text } else { kind = text }
            }
        }
    }
}
