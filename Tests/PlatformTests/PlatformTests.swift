import Foundation
import Glibc
import Testing
@testable import Platform

@Suite struct SHA256Tests {
    @Test("known vectors", arguments: [
        ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
    ])
    func vectors(input: String, hex: String) {
        #expect(SHA256Hasher.hex(input) == hex)
    }

    @Test func incrementalEqualsOneShot() {
        let hasher = SHA256Hasher()
        for chunk in ["a", "bc", "", "defgh"] { hasher.update(chunk) }
        #expect(hasher.finalizeHex() == SHA256Hasher.hex("abcdefgh"))
    }
}

@Suite struct OrderedJSONTests {
    @Test func keepsKeyOrderThroughParseAndSerialize() throws {
        let text = #"{"Id":"x","RepoTags":["a:b"],"Config":{"Env":null,"Z":1,"A":-2.5},"ok":true,"e":{},"l":[]}"#
        let value = try OrderedJSON(parsing: Array(text.utf8))
        #expect(value.serialized() == text)
        #expect(value["Config"]?["Z"]?.intValue == 1)
    }

    @Test func escapesLikeGo() throws {
        let value = OrderedJSON.string("a\"b\\c\nd\u{1}<>&")
        #expect(value.serialized() == #""a\"b\\c\nd\u0001<>&""#)
        #expect(try OrderedJSON(parsing: Array(value.serialized().utf8)) == value)
        #expect(try OrderedJSON(parsing: Array(#""\u00e9\ud83d\ude00""#.utf8)).stringValue == "é😀")
    }

    @Test func prettyPrintsLikeDockerInspect() {
        let value = OrderedJSON.array([.object([("Id", .string("x")), ("Tags", .array([.string("a")])), ("E", .object([]))])])
        #expect(value.pretty() == """
            [
                {
                    "Id": "x",
                    "Tags": [
                        "a"
                    ],
                    "E": {}
                }
            ]
            """)
    }

    @Test("rejects malformed JSON", arguments: ["{", "[1,]", #"{"a" 1}"#, "tru", #""\x""#, "1 2"])
    func rejects(_ text: String) {
        #expect(throws: OrderedJSONParseError.self) { try OrderedJSON(parsing: Array(text.utf8)) }
    }
}

@Suite struct HumanSizeTests {
    static let cases: [(Int64, Int, String)] = [
        (0, 4, "0B"), (999, 4, "999B"), (1000, 4, "1kB"), (4_277_910, 4, "4.278MB"), (4_277_910, 3, "4.28MB"),
        (1_982_256, 3, "1.98MB"), (1_100_000_000, 3, "1.1GB"), (1_425_970, 4, "1.426MB"),
    ]

    @Test("decimal sizes as go-units prints them", arguments: cases)
    func decimal(bytes: Int64, precision: Int, text: String) {
        #expect(HumanSize.decimal(bytes, precision: precision) == text)
    }
}

@Suite struct FileSystemTests {
    @Test func atomicWriteReplacesWholeFiles() throws {
        let dir = NSTemporaryDirectory() + "onekube-fs-\(UUID().uuidString)"
        try FileSystem.createDirectory(dir + "/a/b")
        defer { try? FileSystem.removeTree(dir) }
        try FileSystem.writeAtomically(dir + "/a/b/f", "one")
        try FileSystem.writeAtomically(dir + "/a/b/f", "two", mode: 0o600)
        #expect(try FileSystem.readString(dir + "/a/b/f") == "two")
        #expect(try FileSystem.listDirectory(dir + "/a/b") == ["f"])
        var st = stat()
        stat(dir + "/a/b/f", &st)
        #expect(st.st_mode & 0o777 == 0o600)
        try FileSystem.removeTree(dir + "/a")
        #expect(!FileSystem.exists(dir + "/a"))
    }

    @Test func errorsNameTheCallAndThePath() {
        #expect(throws: SystemError("open", path: "/nonexistent/x", errno: ENOENT)) {
            try FileSystem.readFile("/nonexistent/x")
        }
        #expect(SystemError("open", path: "/x", errno: ENOENT).description == "open /x: No such file or directory")
    }
}

@Suite struct PidFileTests {
    @Test func secondHolderIsToldWhoRuns() throws {
        let path = NSTemporaryDirectory() + "onekube-pid-\(UUID().uuidString)"
        defer { unlink(path) }
        guard case .success(let held) = try PidFile.acquire(path: path) else {
            Issue.record("first acquire failed")
            return
        }
        #expect(PidFile.status(path: path) == .running(pid: getpid()))
        guard case .failure(let running) = try PidFile.acquire(path: path) else {
            Issue.record("second acquire succeeded")
            return
        }
        #expect(running.pid == getpid())
        held.release()
        #expect(PidFile.status(path: path) == .notRunning)
    }

    @Test func staleFileWithoutLockIsNotRunning() throws {
        let path = NSTemporaryDirectory() + "onekube-pid-\(UUID().uuidString)"
        defer { unlink(path) }
        try FileSystem.writeAtomically(path, "999999\n")
        #expect(PidFile.status(path: path) == .notRunning)
        guard case .success(let held) = try PidFile.acquire(path: path) else {
            Issue.record("a stale pid file blocked acquire")
            return
        }
        #expect(try FileSystem.readString(path) == "\(getpid())\n")
        held.release()
    }
}

@Suite struct ConcurrencyHelperTests {
    @Test func limiterNeverExceedsItsLimit() async throws {
        let limiter = AsyncLimiter(limit: 3)
        let counter = Counter()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await limiter.withSlot {
                        counter.enter()
                        try await Task.sleep(nanoseconds: 2_000_000)
                        counter.leave()
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(counter.maximum == 3)
    }

    @Test func singleFlightRunsOncePerKey() async throws {
        let flight = SingleFlight<String>()
        let counter = Counter()
        let owners = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    try await flight.run("blob") {
                        counter.enter()
                        try await Task.sleep(nanoseconds: 20_000_000)
                        counter.leave()
                    }
                }
            }
            var owners = 0
            for try await owner in group where owner { owners += 1 }
            return owners
        }
        #expect(owners == 1)
        #expect(counter.total == 1)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var current = 0
    private(set) var maximum = 0
    private(set) var total = 0

    func enter() {
        lock.lock()
        current += 1
        total += 1
        maximum = max(maximum, current)
        lock.unlock()
    }

    func leave() {
        lock.lock()
        current -= 1
        lock.unlock()
    }
}

@Suite struct OrderedJSONEscapeTests {
    @Test func lineSeparatorsAreEscapedLikeGo() {
        #expect(OrderedJSON.string("a\u{2028}b\u{2029}c\"").serialized() == #""a\u2028b\u2029c\"""#)
    }
}

@Suite struct GoTimeTests {
    @Test("RFC 3339 instants", arguments: [
        ("2024-01-02T03:04:05Z", 1_704_164_645.0),
        ("2024-01-02T03:04:05.25Z", 1_704_164_645.25),
        ("2024-01-02T05:04:05+02:00", 1_704_164_645.0),
        ("2024-02-29T00:00:00-00:30", 1_709_166_600.0),
    ])
    func parses(text: String, seconds: Double) throws {
        #expect(try GoTime.parseRFC3339(text).timeIntervalSince1970 == seconds)
    }

    /// Go 1.22's time.Parse(time.RFC3339, …) errors, word for word.
    @Test("errors as Go words them", arguments: [
        ("yesterday", #"parsing time "yesterday" as "2006-01-02T15:04:05Z07:00": cannot parse "yesterday" as "2006""#),
        ("2024-01-02", #"parsing time "2024-01-02" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "T""#),
        ("2024-13-02T00:00:00Z", #"parsing time "2024-13-02T00:00:00Z": month out of range"#),
        ("2024-02-30T00:00:00Z", #"parsing time "2024-02-30T00:00:00Z": day out of range"#),
        ("2024-01-02T24:00:00Z", #"parsing time "2024-01-02T24:00:00Z": hour out of range"#),
        ("2024-01-02T00:00:00", #"parsing time "2024-01-02T00:00:00" as "2006-01-02T15:04:05Z07:00": cannot parse "" as "Z07:00""#),
        ("2024-01-02T00:00:00Zjunk", #"parsing time "2024-01-02T00:00:00Zjunk": extra text: "junk""#),
    ])
    func errors(text: String, message: String) {
        #expect(throws: GoTime.ParseError.self) { try GoTime.parseRFC3339(text) }
        do {
            _ = try GoTime.parseRFC3339(text)
        } catch {
            #expect("\(error)" == message)
        }
    }

    @Test func formatsWholeSecondsInUTC() throws {
        #expect(GoTime.formatRFC3339UTC(try GoTime.parseRFC3339("2024-01-02T05:04:05.9+02:00")) == "2024-01-02T03:04:05Z")
        #expect(GoQuote.quote("a\"b\\\n\u{1}") == #""a\"b\\\n\x01""#)
    }
}
