import Foundation
import Platform

/// What a finished program printed and how it ended.
public struct ProcessResult: Sendable, CustomStringConvertible {
    public var status: Int32
    public var stdout: String
    public var stderr: String

    public var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

public struct TestFailure: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Runs programs for tests, with output captured through files (no pipe deadlocks).
public enum Run {
    /// Runs a program to completion. Spawned with posix_spawn and every other descriptor closed
    /// (Foundation's Process lets concurrently started children inherit each other's exit-watch
    /// sockets, so a long-lived child can hide a short one's exit).
    @discardableResult
    public static func program(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        stdin: String? = nil, directory: String? = nil
    ) throws -> ProcessResult {
        let base = NSTemporaryDirectory() + "onekube-run-\(UUID().uuidString)"
        let inPath = base + ".in", outPath = base + ".out", errPath = base + ".err"
        defer { for path in [inPath, outPath, errPath] { unlink(path) } }
        try (stdin ?? "").write(toFile: inPath, atomically: false, encoding: .utf8)
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        var program = try resolve(executable)
        var argv = arguments
        if let directory {
            argv = ["-c", "cd \"$0\" && exec \"$@\"", directory, program] + arguments
            program = "/bin/sh"
        }
        let pid = try ProcessSpawner.spawn(
            executable: program, arguments: argv, environment: env.map { "\($0.key)=\($0.value)" },
            stdinPath: inPath, stdoutPath: outPath, stderrPath: errPath)
        let status = try ProcessSpawner.wait(pid)
        let out = (try? String(contentsOfFile: outPath, encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        return ProcessResult(status: status, stdout: out, stderr: err)
    }

    /// Runs and fails the test with everything printed when the program fails.
    @discardableResult
    public static func checked(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                               stdin: String? = nil, directory: String? = nil) throws -> ProcessResult {
        let result = try program(executable, arguments, environment: environment, stdin: stdin, directory: directory)
        guard result.status == 0 else {
            throw TestFailure("\(executable) \(arguments.joined(separator: " ")) failed: \(result)")
        }
        return result
    }

    /// A program name looked up on PATH (absolute paths pass through).
    public static func resolve(_ name: String) throws -> String {
        if name.hasPrefix("/") { return name }
        let path = getenv("PATH").map { String(cString: $0) } ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":").map(String.init) + ["/usr/sbin", "/sbin"] {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        throw TestFailure("\(name) is not installed (.ci/run installs every tool the tests need)")
    }
}

/// A scratch directory removed when the value goes away.
public final class TemporaryDirectory: @unchecked Sendable {
    public let path: String

    public init(_ label: String = "onekube-test") throws {
        path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    public func sub(_ name: String) throws -> String {
        let p = path + "/" + name
        try FileManager.default.createDirectory(atPath: p, withIntermediateDirectories: true)
        return p
    }
}

/// Polls until `condition` holds or the timeout passes.
public func waitUntil(timeout: TimeInterval = 20, _ what: String, _ condition: () throws -> Bool) throws {
    let started = Date()
    defer { if Date().timeIntervalSince(started) > 3 { print("waitUntil \(what): \(Date().timeIntervalSince(started)) s") } }
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try condition() { return }
        usleep(20_000)
    }
    throw TestFailure("timed out after \(timeout) s waiting for \(what)")
}

/// A TCP port on 127.0.0.1 that nothing listens on right now.
public func freePort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TestFailure("socket failed") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0 else { throw TestFailure("bind failed") }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
    }
    return Int(UInt16(bigEndian: address.sin_port))
}
