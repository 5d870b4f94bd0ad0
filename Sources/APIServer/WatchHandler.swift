import Foundation
import HTTPServer
import KubeModel
import NIOCore
import NIOHTTP1
import ObjectStore
import Platform
import Registry

extension KubernetesAPI {
    /// `?watch=true`: newline-delimited WatchEvents, flushed one by one, kept open until the
    /// client leaves, `timeoutSeconds` passes or the daemon stops. Without a resourceVersion (or
    /// with "0") the current objects come first as ADDED. Selectors filter as the apiserver does:
    /// an object that stops matching is reported DELETED, one that starts matching ADDED.
    func watch(_ request: HTTPServerRequest, _ path: ResourcePath) throws -> HTTPServerResponse {
        let type = path.type
        let (labels, fields) = try selectors(request, type)
        let asTable = request.wantsTable
        let scope = ObjectScope(resource: type.storageName, namespace: path.namespace)
        let rv = request.query["resourceVersion"] ?? ""
        var initial: [OrderedJSON] = []
        var expired: APIError?
        var events: AsyncStream<WatchEvent>?
        @Sendable func matches(_ object: OrderedJSON) -> Bool { labels.matches(object.labels) && fields.matches(object, type: type) }

        if rv.isEmpty || rv == "0" {
            let (items, revision) = store.list(scope)
            initial = items.map(\.value).filter(matches)
            events = try store.watch(scope, after: revision)
        } else {
            guard let revision = Int64(rv) else { throw APIError.badRequest("invalid resource version: \(rv)") }
            do {
                events = try store.watch(scope, after: revision)
            } catch StoreError.gone(let requested, let oldest) {
                expired = APIError.gone("too old resource version: \(requested) (\(oldest))")
            }
        }
        let timeout = request.query["timeoutSeconds"].flatMap(Int.init)
        let includeObject = request.query["includeObject"] ?? "Metadata"
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        let stream = events
        let initialObjects = initial
        let expiredError = expired

        return HTTPServerResponse(status: .ok, headers: headers, body: .stream { writer in
            let encoder = WatchEncoder(writer: writer, type: type, asTable: asTable, includeObject: includeObject)
            if let expiredError {
                try await writer.write(OrderedJSON.object([("type", .string("ERROR")), ("object", expiredError.status)]).serialized() + "\n")
                return
            }
            guard let stream else { return }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for object in initialObjects { try await encoder.send("ADDED", object) }
                    for await event in stream {
                        let now = matches(event.object)
                        switch event.kind {
                        case .added:
                            if now { try await encoder.send("ADDED", event.object) }
                        case .deleted:
                            if now { try await encoder.send("DELETED", event.object) }
                        case .modified:
                            let before = event.previous.map(matches) ?? now
                            if now && before { try await encoder.send("MODIFIED", event.object) }
                            else if now { try await encoder.send("ADDED", event.object) }
                            else if before { try await encoder.send("DELETED", event.object) }
                        }
                    }
                }
                group.addTask { await writer.waitForClose() }
                if let timeout {
                    group.addTask { try await Task.sleep(nanoseconds: UInt64(max(timeout, 0)) * 1_000_000_000) }
                }
                // Whichever ends first (the store closing the stream, the client leaving, the
                // timeout) ends the watch.
                _ = try await group.next()
                group.cancelAll()
            }
        })
    }
}

/// Encodes watch events for one stream; a Table watch carries column definitions only in its
/// first event, as the apiserver's do. Used by one task at a time.
final class WatchEncoder: @unchecked Sendable {
    let writer: HTTPBodyWriter
    let type: ResourceType
    let asTable: Bool
    let includeObject: String
    private var firstTable = true

    init(writer: HTTPBodyWriter, type: ResourceType, asTable: Bool, includeObject: String) {
        self.writer = writer
        self.type = type
        self.asTable = asTable
        self.includeObject = includeObject
    }

    func send(_ kind: String, _ object: OrderedJSON) async throws {
        var encoded = object
        if asTable {
            encoded = TablePrinter.table(for: [object], type: type, resourceVersion: object.resourceVersion ?? "",
                                         includeObject: includeObject, columnDefinitions: firstTable)
            firstTable = false
        }
        try await writer.write(OrderedJSON.object([("type", .string(kind)), ("object", encoded)]).serializedBytes() + [10])
    }
}
