import DequeModule
import Dispatch
import Foundation
import Logging
import Platform
import SQLite
import Synchronization

/// The cluster's state: a revision log in SQLite in the spirit of k3s's kine. Every write appends a
/// row whose revision (one global counter) becomes the object's resourceVersion; the current state
/// is a second table updated in the same transaction, and a copy of it lives in memory, so reads
/// never touch the disk. Writes are acknowledged only after SQLite committed them (WAL,
/// synchronous=NORMAL: they survive kill -9 of the daemon), in batches (group commit). Watchers get
/// every change after the revision they ask for, replayed from memory or the log, then live.
public final class ObjectStore: Sendable {
    let db: SQLiteDatabase
    let logger: Logger
    /// How many revisions of history watches can resume from.
    let retainedRevisions: Int64
    let recentEventLimit: Int
    let watcherBufferLimit: Int

    private let writes = Mutex<WriteQueue>(WriteQueue())
    private let state: Mutex<State>

    /// Writes waiting for the current leader's next batch.
    struct WriteQueue {
        var pending: [WriteRequest] = []
        var leaderActive = false
    }

    struct State {
        var objects: [String: [ObjectKey: StoredObject]] = [:]
        var revision: Int64 = 0
        var compacted: Int64 = 0
        var recent: Deque<WatchEvent> = []
        var watchers: [UInt64: Watcher] = [:]
        var nextWatcherID: UInt64 = 0
        var writesSinceCompaction = 0
    }

    struct Watcher {
        let scope: ObjectScope
        let continuation: AsyncStream<WatchEvent>.Continuation
    }

    public init(database: SQLiteDatabase, logger: Logger, retainedRevisions: Int64 = 20_000,
                recentEventLimit: Int = 10_000, watcherBufferLimit: Int = 10_000) throws {
        db = database
        self.logger = logger
        self.retainedRevisions = retainedRevisions
        self.recentEventLimit = recentEventLimit
        self.watcherBufferLimit = watcherBufferLimit
        try db.execute("""
            CREATE TABLE IF NOT EXISTS object_log (
                revision INTEGER PRIMARY KEY,
                key TEXT NOT NULL,
                kind TEXT NOT NULL,
                value BLOB NOT NULL
            );
            CREATE TABLE IF NOT EXISTS objects (
                key TEXT PRIMARY KEY,
                revision INTEGER NOT NULL,
                value BLOB NOT NULL
            );
            CREATE TABLE IF NOT EXISTS store_meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
            """)
        var loaded = State()
        for row in try db.query("SELECT key, revision, value FROM objects") {
            guard let text = row[0].string, let key = ObjectKey(parsing: text), let revision = row[1].int64,
                  let bytes = row[2].bytes else { continue }
            let value = try OrderedJSON(parsing: bytes)
            loaded.objects[key.resource, default: [:]][key] = StoredObject(key: key, revision: revision, value: value)
        }
        loaded.revision = try db.query("SELECT max(revision) FROM object_log").first?[0].int64 ?? 0
        let storedRevision = try db.query("SELECT value FROM store_meta WHERE name = 'revision'").first?[0].int64 ?? 0
        loaded.revision = max(loaded.revision, storedRevision)
        loaded.compacted = try db.query("SELECT value FROM store_meta WHERE name = 'compacted'").first?[0].int64 ?? 0
        state = Mutex(loaded)
    }

    // MARK: reads

    public var currentRevision: Int64 { state.withLock { $0.revision } }

    public func get(_ key: ObjectKey) -> StoredObject? {
        state.withLock { $0.objects[key.resource]?[key] }
    }

    /// The objects in scope, ordered by namespace and name, and the revision the list is current at.
    public func list(_ scope: ObjectScope) -> (items: [StoredObject], revision: Int64) {
        state.withLock { s in
            let all = s.objects[scope.resource] ?? [:]
            let items = all.values.filter { scope.contains($0.key) }.sorted { $0.key < $1.key }
            return (items, s.revision)
        }
    }

    // MARK: writes

    /// Stores a new object; its metadata.resourceVersion is set to the new revision.
    @discardableResult
    public func create(_ key: ObjectKey, _ value: OrderedJSON) throws -> StoredObject {
        try write(key) { current in
            guard current == nil else { throw StoreError.alreadyExists(key) }
            return (.added, value)
        }
    }

    /// Replaces an object through `transform`, which sees the current value. `expectedRevision`, if
    /// given, must still be the object's revision (compare-and-swap on resourceVersion).
    /// `transform` runs on the thread committing a batch of writes: it must not write to the store.
    @discardableResult
    public func update(_ key: ObjectKey, expectedRevision: Int64? = nil,
                       _ transform: @escaping (StoredObject) throws -> OrderedJSON) throws -> StoredObject {
        try write(key) { current in
            guard let current else { throw StoreError.notFound(key) }
            if let expectedRevision, expectedRevision != current.revision { throw StoreError.conflict(key) }
            return (.modified, try transform(current))
        }
    }

    /// Removes an object; watchers get its last state with the deletion's revision.
    @discardableResult
    public func delete(_ key: ObjectKey, expectedRevision: Int64? = nil) throws -> StoredObject {
        try write(key) { current in
            guard let current else { throw StoreError.notFound(key) }
            if let expectedRevision, expectedRevision != current.revision { throw StoreError.conflict(key) }
            return (.deleted, current.value)
        }
    }

    /// One write waiting to be decided and committed.
    final class WriteRequest: @unchecked Sendable {
        let key: ObjectKey
        let decide: (StoredObject?) throws -> (WatchEvent.Kind, OrderedJSON)
        var result: Result<StoredObject, Error>?
        let done = DispatchSemaphore(value: 0)

        init(key: ObjectKey, decide: @escaping (StoredObject?) throws -> (WatchEvent.Kind, OrderedJSON)) {
            self.key = key
            self.decide = decide
        }
    }

    /// Group commit: the first writer to find no batch in progress becomes the leader and commits
    /// everything queued meanwhile in one SQLite transaction (one fsync for many writes), again
    /// and again until the queue is empty; the others wait for their result. Each write is
    /// decided against the state including the earlier writes of its batch. Nothing is
    /// acknowledged, visible or published before its transaction committed.
    private func write(_ key: ObjectKey, _ decide: @escaping (StoredObject?) throws -> (WatchEvent.Kind, OrderedJSON)) throws -> StoredObject {
        let request = WriteRequest(key: key, decide: decide)
        let leads = writes.withLock { queue -> Bool in
            queue.pending.append(request)
            if queue.leaderActive { return false }
            queue.leaderActive = true
            return true
        }
        if leads { lead() }
        request.done.wait()
        guard let result = request.result else { throw StoreError.notFound(key) }
        return try result.get()
    }

    private func lead() {
        while true {
            let batch = writes.withLock { queue -> [WriteRequest] in
                if queue.pending.isEmpty {
                    queue.leaderActive = false
                    return []
                }
                defer { queue.pending = [] }
                return queue.pending
            }
            if batch.isEmpty { return }
            commit(batch)
        }
    }

    private func commit(_ batch: [WriteRequest]) {
        var revision = state.withLock { $0.revision }
        // What this batch has done so far, per key (nil value: deleted).
        var overlay: [ObjectKey: StoredObject?] = [:]
        var accepted: [(request: WriteRequest, stored: StoredObject, event: WatchEvent, bytes: [UInt8])] = []
        for request in batch {
            let current: StoredObject? = overlay[request.key] ?? state.withLock { $0.objects[request.key.resource]?[request.key] }
            do {
                let (kind, proposed) = try request.decide(current)
                // An update that changes nothing writes nothing and keeps the resourceVersion.
                if kind == .modified, let current {
                    var unchanged = proposed
                    unchanged[path: ["metadata", "resourceVersion"]] = current.value[path: ["metadata", "resourceVersion"]]
                    if unchanged == current.value {
                        request.result = .success(current)
                        continue
                    }
                }
                revision += 1
                var value = proposed
                value[path: ["metadata", "resourceVersion"]] = .string(String(revision))
                let stored = StoredObject(key: request.key, revision: revision, value: value)
                let event = WatchEvent(kind: kind, revision: revision, key: request.key, object: value, previous: current?.value)
                overlay[request.key] = kind == .deleted ? .some(nil) : .some(stored)
                accepted.append((request, stored, event, value.serializedBytes()))
            } catch {
                request.result = .failure(error)
            }
        }
        if !accepted.isEmpty {
            do {
                try db.transaction { conn in
                    for write in accepted {
                        let keyText = write.stored.key.description
                        try conn.run("INSERT INTO object_log (revision, key, kind, value) VALUES (?, ?, ?, ?)",
                                     [.integer(write.stored.revision), .text(keyText), .text(write.event.kind.rawValue), .blob(write.bytes)])
                        if write.event.kind == .deleted {
                            try conn.run("DELETE FROM objects WHERE key = ?", [.text(keyText)])
                        } else {
                            try conn.run("INSERT OR REPLACE INTO objects (key, revision, value) VALUES (?, ?, ?)",
                                         [.text(keyText), .integer(write.stored.revision), .blob(write.bytes)])
                        }
                    }
                }
                let (compact, cutOff) = state.withLock { s -> (Bool, [Watcher]) in
                    var cutOff: [Watcher] = []
                    for write in accepted {
                        let key = write.stored.key
                        s.revision = write.stored.revision
                        if write.event.kind == .deleted {
                            s.objects[key.resource]?[key] = nil
                        } else {
                            s.objects[key.resource, default: [:]][key] = write.stored
                        }
                        s.recent.append(write.event)
                        if s.recent.count > recentEventLimit { s.recent.removeFirst() }
                        cutOff += publish(write.event, to: &s)
                    }
                    s.writesSinceCompaction += accepted.count
                    return (s.writesSinceCompaction >= 1_000, cutOff)
                }
                // Outside the state lock: finishing runs the stream's onTermination, which takes it.
                for watcher in cutOff { watcher.continuation.finish() }
                for write in accepted { write.request.result = .success(write.stored) }
                if compact { try? compactNow() }
            } catch {
                logger.error("committing writes failed", metadata: ["writes": "\(accepted.count)", "error": "\(error)"])
                for write in accepted { write.request.result = .failure(error) }
            }
        }
        for request in batch { request.done.signal() }
    }

    /// Hands an event to every watcher in scope; one whose buffer is full is cut off (its stream
    /// ends, so its client relists) rather than making the writer wait.
    private func publish(_ event: WatchEvent, to s: inout State) -> [Watcher] {
        var cutOff: [Watcher] = []
        for (id, watcher) in s.watchers where watcher.scope.contains(event.key) {
            if case .dropped = watcher.continuation.yield(event) {
                cutOff.append(watcher)
                s.watchers[id] = nil
                logger.info("watcher cut off: too slow", metadata: ["watcher": "\(id)"])
            }
        }
        return cutOff
    }

    // MARK: watch

    /// Every change in `scope` after `revision`, then live changes. Throws `gone` when that history
    /// was compacted away. The stream ends when the consumer stops iterating, or when it falls
    /// `watcherBufferLimit` events behind.
    public func watch(_ scope: ObjectScope, after revision: Int64) throws -> AsyncStream<WatchEvent> {
        let (stream, continuation) = AsyncStream<WatchEvent>.makeStream(bufferingPolicy: .bufferingOldest(watcherBufferLimit))
        let id: UInt64 = try state.withLock { s in
            if revision < s.compacted { throw StoreError.gone(requested: revision, oldest: s.compacted) }
            let replay: [WatchEvent]
            if let oldestRecent = s.recent.first?.revision, oldestRecent <= revision + 1 {
                replay = s.recent.filter { $0.revision > revision && scope.contains($0.key) }
            } else if revision < s.revision {
                replay = try replayFromLog(scope, after: revision)
            } else {
                replay = []
            }
            // More history than a watcher may buffer: better a relist than a silent gap.
            if replay.count >= watcherBufferLimit {
                throw StoreError.gone(requested: revision, oldest: s.revision - Int64(watcherBufferLimit))
            }
            for event in replay { continuation.yield(event) }
            let id = s.nextWatcherID
            s.nextWatcherID += 1
            s.watchers[id] = Watcher(scope: scope, continuation: continuation)
            return id
        }
        continuation.onTermination = { [weak self] _ in
            self?.state.withLock { _ = $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }

    public var watcherCount: Int { state.withLock { $0.watchers.count } }

    private func replayFromLog(_ scope: ObjectScope, after revision: Int64) throws -> [WatchEvent] {
        let prefix = scope.namespace.map { "\(scope.resource)/\($0)/" } ?? "\(scope.resource)/"
        let rows = try db.query("""
            SELECT revision, key, kind, value FROM object_log
            WHERE revision > ? AND key >= ? AND key < ? ORDER BY revision
            """, [.integer(revision), .text(prefix), .text(prefix + "\u{10FFFF}")])
        return try rows.compactMap { row in
            guard let rev = row[0].int64, let text = row[1].string, let key = ObjectKey(parsing: text),
                  let kind = row[2].string.flatMap(WatchEvent.Kind.init(rawValue:)), let bytes = row[3].bytes else { return nil }
            return WatchEvent(kind: kind, revision: rev, key: key, object: try OrderedJSON(parsing: bytes), previous: nil)
        }
    }

    // MARK: compaction

    /// Drops log rows older than the retained window; watches from before it get 410 Gone.
    public func compact() throws {
        // Runs as the write leader, so no batch commits meanwhile.
        let leads = writes.withLock { queue -> Bool in
            if queue.leaderActive { return false }
            queue.leaderActive = true
            return true
        }
        guard leads else { return }
        defer { lead() }
        try compactNow()
    }

    private func compactNow() throws {
        let (revision, compacted) = state.withLock { ($0.revision, $0.compacted) }
        let cutoff = revision - retainedRevisions
        guard cutoff > compacted else {
            state.withLock { $0.writesSinceCompaction = 0 }
            return
        }
        try db.transaction { conn in
            try conn.run("DELETE FROM object_log WHERE revision <= ?", [.integer(cutoff)])
            try conn.run("INSERT OR REPLACE INTO store_meta (name, value) VALUES ('compacted', ?), ('revision', ?)",
                         [.integer(cutoff), .integer(revision)])
        }
        state.withLock { s in
            s.compacted = cutoff
            s.writesSinceCompaction = 0
        }
        logger.debug("compacted the object log", metadata: ["upTo": "\(cutoff)"])
    }

    /// Ends every watch (at shutdown), so streaming responses finish.
    public func closeWatches() {
        let watchers = state.withLock { s -> [Watcher] in
            defer { s.watchers = [:] }
            return Array(s.watchers.values)
        }
        for watcher in watchers { watcher.continuation.finish() }
    }
}
