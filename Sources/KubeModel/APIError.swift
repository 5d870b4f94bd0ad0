import Platform

/// A failed API call as a Kubernetes `Status`: the HTTP code, the reason kubectl prints in
/// `Error from server (<reason>)`, the message, and details.
public struct APIError: Error, Sendable, CustomStringConvertible {
    public var code: Int
    public var reason: String
    public var message: String
    public var details: OrderedJSON?

    public init(code: Int, reason: String, message: String, details: OrderedJSON? = nil) {
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
    }

    public var description: String { message }

    /// `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",…}`
    public var status: OrderedJSON {
        var pairs: [(String, OrderedJSON)] = [
            ("kind", .string("Status")), ("apiVersion", .string("v1")), ("metadata", .object([])),
            ("status", .string("Failure")), ("message", .string(message)), ("reason", .string(reason)),
        ]
        if let details { pairs.append(("details", details)) }
        pairs.append(("code", .int(Int64(code))))
        return .object(pairs)
    }

    static func resourceDetails(_ type: ResourceType?, name: String, extra: [(String, OrderedJSON)] = []) -> OrderedJSON {
        var pairs: [(String, OrderedJSON)] = []
        if !name.isEmpty { pairs.append(("name", .string(name))) }
        if let type {
            if !type.group.isEmpty { pairs.append(("group", .string(type.group))) }
            pairs.append(("kind", .string(type.plural)))
        }
        return .object(pairs + extra)
    }

    public static func notFound(_ type: ResourceType, name: String) -> APIError {
        APIError(code: 404, reason: "NotFound", message: "\(type.qualifiedName) \"\(name)\" not found",
                 details: resourceDetails(type, name: name))
    }

    public static let unknownPath = APIError(code: 404, reason: "NotFound", message: "the server could not find the requested resource",
                                             details: .object([]))

    public static func alreadyExists(_ type: ResourceType, name: String) -> APIError {
        APIError(code: 409, reason: "AlreadyExists", message: "\(type.qualifiedName) \"\(name)\" already exists",
                 details: resourceDetails(type, name: name))
    }

    public static func conflict(_ type: ResourceType, name: String) -> APIError {
        APIError(code: 409, reason: "Conflict",
                 message: "Operation cannot be fulfilled on \(type.qualifiedName) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
                 details: resourceDetails(type, name: name))
    }

    public static func conflict(_ type: ResourceType, name: String, because reason: String) -> APIError {
        APIError(code: 409, reason: "Conflict", message: "Operation cannot be fulfilled on \(type.qualifiedName) \"\(name)\": \(reason)",
                 details: resourceDetails(type, name: name))
    }

    public static func badRequest(_ message: String) -> APIError {
        APIError(code: 400, reason: "BadRequest", message: message)
    }

    public static func gone(_ message: String) -> APIError {
        APIError(code: 410, reason: "Expired", message: message)
    }

    public static let unauthorized = APIError(code: 401, reason: "Unauthorized", message: "Unauthorized")

    public static func methodNotAllowed(_ message: String = "the server does not allow this method on the requested resource") -> APIError {
        APIError(code: 405, reason: "MethodNotAllowed", message: message, details: .object([]))
    }

    /// The patch types the apiserver takes, in the order its 415 lists them.
    public static let patchMediaTypes = ["application/json-patch+json", "application/merge-patch+json",
                                         "application/apply-patch+yaml", "application/strategic-merge-patch+json"]

    public static func unsupportedMediaType(accepted: [String]) -> APIError {
        APIError(code: 415, reason: "UnsupportedMediaType",
                 message: "the body of the request was in an unknown format - accepted media types include: \(accepted.joined(separator: ", "))")
    }

    public static let tooLarge = APIError(code: 413, reason: "RequestEntityTooLarge", message: "Request entity too large: limit is 3145728")

    public static func forbidden(_ type: ResourceType, name: String, _ why: String) -> APIError {
        APIError(code: 403, reason: "Forbidden", message: "\(type.qualifiedName) \"\(name)\" is forbidden: \(why)",
                 details: resourceDetails(type, name: name))
    }

    public static func internalError(_ message: String) -> APIError {
        APIError(code: 500, reason: "InternalError", message: "Internal error occurred: \(message)")
    }

    /// 422 with one cause per problem, worded as the apiserver's field errors.
    public static func invalid(kind: String, name: String, _ causes: [FieldError]) -> APIError {
        let summary = causes.map(\.text)
        let joined = summary.count == 1 ? summary[0] : "[" + summary.joined(separator: ", ") + "]"
        return APIError(
            code: 422, reason: "Invalid", message: "\(kind) \"\(name)\" is invalid: \(joined)",
            details: .object([("name", .string(name)), ("kind", .string(kind)),
                              ("causes", .array(causes.map(\.json)))]))
    }
}

/// One validation problem (`field.Error`).
public struct FieldError: Sendable, Equatable {
    public enum Kind: String, Sendable { case invalid = "FieldValueInvalid", required = "FieldValueRequired",
                                         notSupported = "FieldValueNotSupported", forbidden = "FieldValueForbidden",
                                         duplicate = "FieldValueDuplicate", tooLong = "FieldValueTooLong" }
    public var kind: Kind
    public var field: String
    public var detail: String
    public var value: String?

    public static func invalid(_ field: String, _ value: String, _ detail: String) -> FieldError {
        FieldError(kind: .invalid, field: field, detail: detail, value: value)
    }

    public static func required(_ field: String, _ detail: String = "") -> FieldError {
        FieldError(kind: .required, field: field, detail: detail, value: nil)
    }

    public static func notSupported(_ field: String, _ value: String, _ allowed: [String]) -> FieldError {
        FieldError(kind: .notSupported, field: field,
                   detail: "supported values: " + allowed.map { "\"\($0)\"" }.joined(separator: ", "), value: value)
    }

    public static func forbidden(_ field: String, _ detail: String) -> FieldError {
        FieldError(kind: .forbidden, field: field, detail: detail, value: nil)
    }

    public static func duplicate(_ field: String, _ value: String) -> FieldError {
        FieldError(kind: .duplicate, field: field, detail: "", value: value)
    }

    /// The cause's message: `Invalid value: "Bad_Name": a lowercase …`, `Required value`.
    public var message: String {
        switch kind {
        case .invalid: return "Invalid value: \"\(value ?? "")\": \(detail)"
        case .required: return detail.isEmpty ? "Required value" : "Required value: \(detail)"
        case .notSupported: return "Unsupported value: \"\(value ?? "")\": \(detail)"
        case .forbidden: return "Forbidden: \(detail)"
        case .duplicate: return "Duplicate value: \"\(value ?? "")\""
        case .tooLong: return "Too long: \(detail)"
        }
    }

    public var text: String { "\(field): \(message)" }

    var json: OrderedJSON {
        .object([("reason", .string(kind.rawValue)), ("message", .string(message)), ("field", .string(field))])
    }
}
