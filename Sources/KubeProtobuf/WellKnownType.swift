import KubeModel
import Platform

/// Kubernetes types whose JSON is not the fields of their protobuf message.
enum WellKnownType: String {
    case time = "meta.v1.Time"
    case microTime = "meta.v1.MicroTime"
    case duration = "meta.v1.Duration"
    case intOrString = "intstr.IntOrString"
    case quantity = "resource.Quantity"
    case rawExtension = "runtime.RawExtension"
    case fieldsV1 = "meta.v1.FieldsV1"

    /// RFC 3339 covers years 0 to 9999, and Go's time JSON refuses the rest.
    static let secondsRange: ClosedRange<Int64> = -62_167_219_200...253_402_300_799

    func json(_ values: [MessageDecoder.Value?], message: IndexedMessage, isEmpty: Bool, decoder: MessageDecoder) throws(WireError) -> OrderedJSON {
        func scalar(_ name: String) -> (json: OrderedJSON, bytes: Range<Int>?)? {
            guard let position = message.message.fields.firstIndex(where: { $0.name == name }),
                  case .scalar(let json, _, let bytes) = values[position] else { return nil }
            return (json, bytes)
        }
        switch self {
        case .time, .microTime:
            // No bytes at all is Go's zero time, which its JSON writes as null.
            if isEmpty { return .null }
            var seconds = scalar("seconds")?.json.intValue ?? 0
            // metav1.Time keeps whole seconds only; MicroTime keeps nanos, normalised as time.Unix does.
            var nanos = self == .microTime ? scalar("nanos")?.json.intValue ?? 0 : 0
            if nanos < 0 || nanos >= 1_000_000_000 {
                let carry = nanos >= 0 ? nanos / 1_000_000_000 : (nanos + 1) / 1_000_000_000 - 1
                seconds = seconds.addingReportingOverflow(carry).partialValue
                nanos -= carry * 1_000_000_000
            }
            guard Self.secondsRange.contains(seconds) else { throw WireError(reason: "Time.MarshalJSON: year outside of range [0,9999]") }
            return self == .time ? .string(KubeTime.format(epochSeconds: seconds))
                : .string(KubeTime.formatMicro(epochSeconds: seconds, microseconds: Int(nanos / 1_000)))
        case .duration:
            return .string(GoDuration.string(nanoseconds: scalar("duration")?.json.intValue ?? 0))
        case .intOrString:
            switch scalar("type")?.json.intValue ?? 0 {
            case 0: return .int(scalar("intVal")?.json.intValue ?? 0)
            case 1: return .string(scalar("strVal")?.json.stringValue ?? "")
            default: throw WireError(reason: "impossible IntOrString.Type")
            }
        case .quantity:
            // An absent string is the zero quantity; an empty one does not parse in Go either.
            guard let text = scalar("string")?.json.stringValue else { return .string("0") }
            guard !text.isEmpty else {
                throw WireError(reason: "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
            }
            return .string(text)
        case .rawExtension, .fieldsV1:
            // The raw bytes are the embedded object's own JSON.
            guard let range = scalar(self == .rawExtension ? "raw" : "Raw")?.bytes, !range.isEmpty else { return .null }
            do {
                return try OrderedJSON(parsing: Array(decoder.bytes[range]))
            } catch {
                throw WireError(reason: "\(self == .rawExtension ? "runtime.RawExtension" : "metav1.FieldsV1") is not JSON: \(error)")
            }
        }
    }
}
