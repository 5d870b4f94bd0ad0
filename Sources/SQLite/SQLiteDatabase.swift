import CSQLite
import Synchronization

public enum SQLiteValue: Sendable, Equatable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    public var int64: Int64? { if case .integer(let v) = self { return v } else { return nil } }
    public var int: Int? { int64.map { Int($0) } }
    public var string: String? {
        switch self {
        case .text(let s): return s
        case .blob(let b): return String(decoding: b, as: UTF8.self)
        default: return nil
        }
    }
    public var bytes: [UInt8]? {
        switch self {
        case .blob(let b): return b
        case .text(let s): return Array(s.utf8)
        default: return nil
        }
    }
}

extension SQLiteValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
    public init(nilLiteral: ()) { self = .null }
}

public struct SQLiteError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let message: String
    public let path: String
    public var description: String { "sqlite \(path): \(message) (code \(code))" }
}

public typealias SQLiteRow = [SQLiteValue]

/// One SQLite connection in WAL mode, serialised by a mutex. Hot state stays synchronous (no actor
/// hop per query); callers that block for long should run on their own threads.
public final class SQLiteDatabase: Sendable {
    public let path: String
    private let connection: Mutex<Connection>

    /// WAL with `synchronous=NORMAL`: a committed transaction is in the WAL file before the call
    /// returns, so it survives the process dying (kill -9, a crash); only a power loss of the whole
    /// machine can take the last transactions back (SQLite's documented WAL trade-off). FULL (an
    /// fsync per commit) halved the API's write rate on the development machines.
    public init(path: String) throws {
        var handle: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &handle, flags, nil)
        guard rc == SQLITE_OK, let handle else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(handle)
            throw SQLiteError(code: rc, message: message, path: path)
        }
        self.path = path
        let connection = Connection(handle: handle, path: path)
        try connection.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;")
        self.connection = Mutex(connection)
    }

    deinit {
        connection.withLock { _ = sqlite3_close_v2($0.handle) }
    }

    public func execute(_ sql: String) throws {
        try connection.withLock { try $0.execute(sql) }
    }

    public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [SQLiteRow] {
        try connection.withLock { try $0.query(sql, parameters) }
    }

    @discardableResult
    public func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> Int {
        try connection.withLock { try $0.run(sql, parameters) }
    }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT, rolling back if it throws.
    public func transaction<T>(_ body: (borrowing Connection) throws -> T) throws -> T {
        try connection.withLock { conn in
            try conn.execute("BEGIN IMMEDIATE")
            do {
                let result = try body(conn)
                try conn.execute("COMMIT")
                return result
            } catch {
                try? conn.execute("ROLLBACK")
                throw error
            }
        }
    }

    public struct Connection: ~Copyable, @unchecked Sendable {
        let handle: OpaquePointer
        let path: String

        func error(_ rc: Int32) -> SQLiteError {
            SQLiteError(code: rc, message: String(cString: sqlite3_errmsg(handle)), path: path)
        }

        public func execute(_ sql: String) throws {
            var message: UnsafeMutablePointer<CChar>?
            let rc = sqlite3_exec(handle, sql, nil, nil, &message)
            if rc != SQLITE_OK {
                let text = message.map { String(cString: $0) } ?? "error"
                sqlite3_free(message)
                throw SQLiteError(code: rc, message: text, path: path)
            }
        }

        public func query(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> [SQLiteRow] {
            let statement = try prepare(sql, parameters)
            defer { sqlite3_finalize(statement) }
            var rows: [SQLiteRow] = []
            while true {
                let rc = sqlite3_step(statement)
                if rc == SQLITE_DONE { return rows }
                guard rc == SQLITE_ROW else { throw error(rc) }
                let count = sqlite3_column_count(statement)
                var row: SQLiteRow = []
                row.reserveCapacity(Int(count))
                for i in 0..<count { row.append(column(statement, i)) }
                rows.append(row)
            }
        }

        /// Runs a statement that returns no rows; answers the number of rows it changed.
        @discardableResult
        public func run(_ sql: String, _ parameters: [SQLiteValue] = []) throws -> Int {
            let statement = try prepare(sql, parameters)
            defer { sqlite3_finalize(statement) }
            var rc = sqlite3_step(statement)
            while rc == SQLITE_ROW { rc = sqlite3_step(statement) }
            guard rc == SQLITE_DONE else { throw error(rc) }
            return Int(sqlite3_changes(handle))
        }

        public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }

        private func prepare(_ sql: String, _ parameters: [SQLiteValue]) throws -> OpaquePointer {
            var statement: OpaquePointer?
            let rc = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
            guard rc == SQLITE_OK, let statement else { throw error(rc) }
            for (offset, value) in parameters.enumerated() {
                let index = Int32(offset + 1)
                let bindRC: Int32
                switch value {
                case .null: bindRC = sqlite3_bind_null(statement, index)
                case .integer(let v): bindRC = sqlite3_bind_int64(statement, index, v)
                case .real(let v): bindRC = sqlite3_bind_double(statement, index, v)
                case .text(let v): bindRC = cz_sqlite3_bind_text_transient(statement, index, v, -1)
                case .blob(let v):
                    bindRC = v.withUnsafeBytes { cz_sqlite3_bind_blob_transient(statement, index, $0.baseAddress, Int32($0.count)) }
                }
                guard bindRC == SQLITE_OK else {
                    sqlite3_finalize(statement)
                    throw error(bindRC)
                }
            }
            return statement
        }

        private func column(_ statement: OpaquePointer, _ i: Int32) -> SQLiteValue {
            switch sqlite3_column_type(statement, i) {
            case SQLITE_INTEGER: return .integer(sqlite3_column_int64(statement, i))
            case SQLITE_FLOAT: return .real(sqlite3_column_double(statement, i))
            case SQLITE_TEXT:
                guard let text = sqlite3_column_text(statement, i) else { return .text("") }
                return .text(String(cString: text))
            case SQLITE_BLOB:
                let count = Int(sqlite3_column_bytes(statement, i))
                guard count > 0, let base = sqlite3_column_blob(statement, i) else { return .blob([]) }
                return .blob(Array(UnsafeRawBufferPointer(start: base, count: count)))
            default: return .null
            }
        }
    }
}
