import Foundation
import Logging
import Platform
import SQLite
import Testing
@testable import ObjectStore

@Suite("The object store: revisions, compare-and-swap, watch")
struct ObjectStoreTests {
    let directory: String
    let logger = Logger(label: "test")

    init() throws {
        directory = NSTemporaryDirectory() + "onekube-store-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    func open(retained: Int64 = 20_000, recent: Int = 10_000, buffer: Int = 10_000) throws -> ObjectStore {
        try ObjectStore(database: SQLiteDatabase(path: directory + "/state.db"), logger: logger,
                        retainedRevisions: retained, recentEventLimit: recent, watcherBufferLimit: buffer)
    }

    func pod(_ name: String, _ extra: String = "") -> OrderedJSON {
        .object([("kind", .string("Pod")), ("metadata", .object([("name", .string(name)), ("namespace", .string("default"))])),
                 ("spec", .object([("note", .string(extra))]))])
    }

    func key(_ name: String, namespace: String = "default") -> ObjectKey {
        ObjectKey(resource: "pods", namespace: namespace, name: name)
    }

    @Test func revisionsAreResourceVersions() throws {
        let store = try open()
        let a = try store.create(key("a"), pod("a"))
        let b = try store.create(key("b"), pod("b"))
        #expect(b.revision == a.revision + 1)
        #expect(a.value[path: ["metadata", "resourceVersion"]]?.stringValue == String(a.revision))
        #expect(store.get(key("a"))?.value == a.value)
        #expect(throws: StoreError.alreadyExists(key("a"))) { try store.create(key("a"), pod("a")) }
        let list = store.list(ObjectScope(resource: "pods", namespace: "default"))
        #expect(list.items.map(\.key.name) == ["a", "b"])
        #expect(list.revision == b.revision)
    }

    @Test func updatesAreCompareAndSwap() throws {
        let store = try open()
        let created = try store.create(key("a"), pod("a"))
        let updated = try store.update(key("a"), expectedRevision: created.revision) { _ in pod("a", "v2") }
        #expect(updated.value["spec"]?["note"]?.stringValue == "v2")
        #expect(throws: StoreError.conflict(key("a"))) {
            try store.update(key("a"), expectedRevision: created.revision) { _ in pod("a", "v3") }
        }
        #expect(throws: StoreError.notFound(key("zz"))) { try store.update(key("zz")) { $0.value } }
        try store.delete(key("a"))
        #expect(store.get(key("a")) == nil)
        #expect(throws: StoreError.notFound(key("a"))) { try store.delete(key("a")) }
    }

    @Test func listsAreScopedAndSorted() throws {
        let store = try open()
        for (ns, name) in [("b", "x"), ("a", "y"), ("a", "b")] { try store.create(key(name, namespace: ns), pod(name)) }
        try store.create(ObjectKey(resource: "services", namespace: "a", name: "s"), pod("s"))
        #expect(store.list(ObjectScope(resource: "pods")).items.map(\.key.description) == ["pods/a/b", "pods/a/y", "pods/b/x"])
        #expect(store.list(ObjectScope(resource: "pods", namespace: "a")).items.count == 2)
        #expect(store.list(ObjectScope(resource: "services")).items.count == 1)
    }

    @Test func acknowledgedWritesSurviveAReopen() throws {
        do {
            let store = try open()
            try store.create(key("a"), pod("a"))
            try store.update(key("a")) { _ in pod("a", "kept") }
            try store.create(key("gone"), pod("gone"))
            try store.delete(key("gone"))
        }
        let reopened = try open()
        #expect(reopened.get(key("a"))?.value["spec"]?["note"]?.stringValue == "kept")
        #expect(reopened.get(key("gone")) == nil)
        #expect(reopened.currentRevision == 4)
        #expect(try reopened.create(key("b"), pod("b")).revision == 5)
    }

    func collect(_ stream: AsyncStream<WatchEvent>, count: Int) async -> [WatchEvent] {
        var events: [WatchEvent] = []
        for await event in stream {
            events.append(event)
            if events.count == count { break }
        }
        return events
    }

    @Test func watchReplaysWhatHappenedAfterItsRevisionThenStreams() async throws {
        let store = try open()
        let first = try store.create(key("a"), pod("a"))
        try store.update(key("a")) { _ in pod("a", "2") }
        try store.create(ObjectKey(resource: "pods", namespace: "other", name: "x"), pod("x"))
        let stream = try store.watch(ObjectScope(resource: "pods", namespace: "default"), after: first.revision)
        try store.delete(key("a"))
        let events = await collect(stream, count: 2)
        #expect(events.map(\.kind) == [.modified, .deleted])
        #expect(events.map(\.key.name) == ["a", "a"])
        #expect(events[1].object[path: ["metadata", "resourceVersion"]]?.stringValue == String(events[1].revision))
        #expect(events[1].object["spec"]?["note"]?.stringValue == "2")
    }

    @Test func watchReplaysFromTheLogWhenMemoryHasForgotten() async throws {
        let store = try open(recent: 2)
        let start = store.currentRevision
        for i in 0..<5 { try store.create(key("p\(i)"), pod("p\(i)")) }
        let stream = try store.watch(ObjectScope(resource: "pods"), after: start)
        let events = await collect(stream, count: 5)
        #expect(events.map(\.key.name) == ["p0", "p1", "p2", "p3", "p4"])
    }

    @Test func compactedHistoryIsGone() throws {
        let store = try open(retained: 3)
        for i in 0..<10 { try store.create(key("p\(i)"), pod("p\(i)")) }
        try store.compact()
        #expect(throws: StoreError.gone(requested: 2, oldest: 7)) { try store.watch(ObjectScope(resource: "pods"), after: 2) }
        _ = try store.watch(ObjectScope(resource: "pods"), after: 8)
        let rows = try SQLiteDatabase(path: directory + "/state.db").query("SELECT count(*) FROM object_log")
        #expect(rows.first?[0].int64 == 3)
        // Compaction never loses current state.
        #expect(try open().list(ObjectScope(resource: "pods")).items.count == 10)
    }

    @Test func aSlowWatcherIsCutOffAndWritersNeverWait() async throws {
        let store = try open(buffer: 5)
        let stream = try store.watch(ObjectScope(resource: "pods"), after: store.currentRevision)
        for i in 0..<20 { try store.create(key("p\(i)"), pod("p\(i)")) }
        #expect(store.watcherCount == 0)
        var received = 0
        for await _ in stream { received += 1 }
        #expect(received == 5)
    }

    @Test func endedWatchesUnregister() async throws {
        let store = try open()
        do {
            let stream = try store.watch(ObjectScope(resource: "pods"), after: store.currentRevision)
            try store.create(key("a"), pod("a"))
            _ = await collect(stream, count: 1)
        }
        try await Task.sleep(nanoseconds: 10_000_000)
        #expect(store.watcherCount == 0)
    }
}
