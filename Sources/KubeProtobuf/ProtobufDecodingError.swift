/// Why a protobuf body could not be decoded, in apimachinery's words, and how far decoding got: the
/// apiserver words its 400 differently when the body's kind was already known.
public struct ProtobufDecodingError: Error, Equatable, CustomStringConvertible {
    public enum Stage: Sendable, Equatable {
        /// The magic or the `runtime.Unknown` envelope.
        case envelope
        /// The object of this kind inside the envelope.
        case object(apiVersion: String, kind: String)
    }

    public var stage: Stage
    /// The decoder's own message ("unexpected EOF", "proto: wrong wireType = 2 for field Replicas").
    public var reason: String

    public init(stage: Stage, reason: String) {
        self.stage = stage
        self.reason = reason
    }

    public var description: String { reason }
}

/// A wire-level failure, worded as gogo-protobuf's generated unmarshalers word it.
struct WireError: Error, Equatable {
    let reason: String

    static let unexpectedEOF = WireError(reason: "unexpected EOF")
    static let integerOverflow = WireError(reason: "proto: integer overflow")
    static let negativeLength = WireError(reason: "proto: negative length found during unmarshaling")
    static let unexpectedEndOfGroup = WireError(reason: "proto: unexpected end of group")
    static let tooDeep = WireError(reason: "proto: message nested too deeply")

    static func illegalWireType(_ wireType: Int) -> WireError {
        WireError(reason: "proto: illegal wireType \(wireType)")
    }

    static func illegalTag(message: String, field: Int, wireType: Int) -> WireError {
        WireError(reason: "proto: \(goName(message)): illegal tag \(field) (wire type \(wireType))")
    }

    static func endGroup(message: String) -> WireError {
        WireError(reason: "proto: \(goName(message)): wiretype end group for non-group")
    }

    static func wrongWireType(_ wireType: Int, field: String) -> WireError {
        WireError(reason: "proto: wrong wireType = \(wireType) for field \(goName(field))")
    }

    /// Go names the message by its type and the field by its Go name; the schema knows JSON names,
    /// whose capitalised form is the Go name for almost every field.
    static func goName(_ name: String) -> String {
        let last = name.split(separator: ".").last.map(String.init) ?? name
        return last.prefix(1).uppercased() + last.dropFirst()
    }
}
