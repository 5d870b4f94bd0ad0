import Foundation
import HTTPServer
import NIOCore
import NIOHTTP1
import Platform

/// Building the Engine API's answers: JSON with exactly `application/json` (the CLI ignores error
/// bodies with any other Content-Type), errors as `{"message":…}`, JSON message streams.
enum DockerResponse {
    static func json(_ value: OrderedJSON, status: HTTPResponseStatus = .ok) -> HTTPServerResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return HTTPServerResponse(status: status, headers: headers, bytes: value.serializedBytes() + [10])
    }

    static func error(_ status: HTTPResponseStatus, _ message: String) -> HTTPServerResponse {
        json(.object([("message", .string(message))]), status: status)
    }

    static func empty(_ status: HTTPResponseStatus) -> HTTPServerResponse {
        HTTPServerResponse(status: status)
    }

    /// The HTTP status each kind of failure gets, as moby maps its errdefs.
    static func status(for code: OnekubeError.Code) -> HTTPResponseStatus {
        switch code {
        case .notFound, .denied: return .notFound
        case .alreadyExists, .conflict, .notRunning: return .conflict
        case .invalidArgument: return .badRequest
        case .unauthorized: return .unauthorized
        case .unsupported: return .badRequest
        case .unavailable: return .serviceUnavailable
        case .tooManyRequests, .digestMismatch, .internalError: return .internalServerError
        }
    }

    static func error(_ error: Error) -> HTTPServerResponse {
        if let error = error as? OnekubeError {
            return self.error(status(for: error.code), error.description)
        }
        return self.error(.internalServerError, "\(error)")
    }

    /// A `200` JSON message stream; `produce` emits messages through the writer.
    static func stream(_ produce: @escaping @Sendable (JSONMessageWriter) async throws -> Void) -> HTTPServerResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        return HTTPServerResponse(status: .ok, headers: headers, body: .stream { writer in
            try await produce(JSONMessageWriter(writer: writer))
        })
    }
}

/// Writes docker's JSON messages, one object and `\r\n` each, as moby does.
struct JSONMessageWriter: Sendable {
    let writer: HTTPBodyWriter

    func send(_ message: OrderedJSON) async throws {
        try await writer.write(message.serialized() + "\r\n")
    }

    func status(_ text: String, id: String? = nil) async throws {
        var pairs: [(String, OrderedJSON)] = [("status", .string(text))]
        if let id { pairs.append(("id", .string(id))) }
        try await send(.object(pairs))
    }

    /// An in-band error: the CLI needs `errorDetail.message` (a bare `error` is ignored).
    func error(_ message: String) async throws {
        try await send(.object([("errorDetail", .object([("message", .string(message))])), ("error", .string(message))]))
    }
}

extension Encodable {
    func orderedJSON() -> OrderedJSON {
        guard let data = try? JSONEncoder().encode(self), let value = try? OrderedJSON(parsing: Array(data)) else { return .null }
        return value
    }
}
