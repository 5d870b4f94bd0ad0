import HTTPServer
import KubeModel
import KubeProtobuf
import Platform

/// `fieldValidation`: what the apiserver does with fields the kind does not declare. Strict
/// refuses the request (kubectl sends Strict by default), Warn (the default) and Ignore drop
/// them, Warn with a `Warning` header per field that kubectl prints.
enum FieldValidation: String {
    case strict = "Strict", warn = "Warn", ignore = "Ignore"

    init(_ request: HTTPServerRequest) throws {
        let value = request.query["fieldValidation"] ?? ""
        if value.isEmpty {
            self = .warn
            return
        }
        guard let mode = FieldValidation(rawValue: value) else {
            throw APIError.badRequest("fieldValidation must be one of \"Ignore\", \"Warn\" or \"Strict\", got \(value)")
        }
        self = mode
    }

    /// The object with undeclared fields dropped, and the warnings to send; throws in Strict mode.
    /// Fields already in `alreadyStored` are the server's own and neither reported nor dropped.
    func apply(_ object: OrderedJSON, type: ResourceType, alreadyStored: OrderedJSON? = nil) throws -> (object: OrderedJSON, warnings: [String]) {
        guard let result = KnownFields.check(object, apiVersion: type.apiVersion, kind: type.kind), !result.unknown.isEmpty else {
            return (object, [])
        }
        let stored = Set(alreadyStored.flatMap { KnownFields.check($0, apiVersion: type.apiVersion, kind: type.kind)?.unknown } ?? [])
        guard stored.isEmpty || !Set(result.unknown).isSubset(of: stored) else { return (object, []) }
        let problems = result.unknown.filter { !stored.contains($0) }.map { "unknown field \"\($0)\"" }
        switch self {
        case .strict:
            throw APIError.badRequest("\(type.kind) in version \"\(type.version)\" cannot be handled as a \(type.kind): strict decoding error: "
                                      + problems.joined(separator: ", "))
        case .warn: return (result.object, problems)
        case .ignore: return (result.object, [])
        }
    }
}

extension HTTPServerResponse {
    /// RFC 7234 warnings as the apiserver sends them: `299 - "text"`, one header each.
    func withWarnings(_ warnings: [String]) -> HTTPServerResponse {
        var response = self
        for warning in warnings {
            let quoted = warning.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            response.headers.add(name: "Warning", value: "299 - \"\(quoted)\"")
        }
        return response
    }
}
