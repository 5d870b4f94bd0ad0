import Foundation
import Glibc
import HTTPClient
import Images
import Platform

/// Why the demo stopped: the step and what went wrong, for the verdict line.
struct DemoFailure: Error, CustomStringConvertible {
    var step: String
    var reason: String
    var description: String { "failed at `\(step)`: \(reason)" }
}

/// Runs the demo's commands as a presenter would: each command line printed before it runs
/// (`$ onekube docker build …`), then its output. Commands are this binary again, in its docker
/// and kubectl modes, so the demo shows exactly what a user typing them would see.
struct DemoNarrator {
    let dataDirectory: String
    let scratch: String

    /// Prints `$ onekube ARGS`, runs it, prints its output; fails the demo on a non-zero exit.
    @discardableResult
    func show(_ arguments: [String]) throws -> String {
        let line = (["onekube"] + arguments).joined(separator: " ")
        Console.out("$ \(line)\n")
        let result = try run(arguments)
        Console.out(result.stdout)
        Console.out(result.stderr)
        guard result.status == 0 else {
            throw DemoFailure(step: line, reason: "exit status \(result.status)")
        }
        return result.stdout
    }

    /// Runs `onekube ARGS` without showing it (the demo's own checks); its stdout, or a failure.
    func quiet(_ arguments: [String]) throws -> String {
        let result = try run(arguments)
        guard result.status == 0 else {
            let line = (["onekube"] + arguments).joined(separator: " ")
            throw DemoFailure(step: line, reason: result.stderr.isEmpty ? "exit status \(result.status)" : result.stderr)
        }
        return result.stdout
    }

    /// `onekube kubectl ARGS -o json`, parsed.
    func json(_ arguments: [String]) throws -> OrderedJSON {
        let text = try quiet(["kubectl"] + arguments + ["-o", "json"])
        do {
            return try OrderedJSON(parsing: Array(text.utf8))
        } catch {
            throw DemoFailure(step: "onekube kubectl \(arguments.joined(separator: " ")) -o json", reason: "unreadable JSON: \(error)")
        }
    }

    /// One HTTP GET, shown as `$ curl ADDRESS` with the answer; nil when nothing answered.
    func curl(_ address: String, show: Bool = true) -> String? {
        let answer = get(address)
        if show {
            Console.out("$ curl \(address)\n")
            Console.out(answer ?? "curl: (7) Failed to connect to \(address)\n")
        }
        return answer
    }

    func get(_ address: String) -> String? {
        let request = HTTPClientRequest(url: "http://\(address)/", stallTimeout: 5, connectTimeout: 5)
        guard let response = try? CurlHTTPClient.shared.sendBlocking(request), response.status == 200 else { return nil }
        return String(decoding: response.body, as: UTF8.self)
    }

    /// Polls `condition` every 100 ms for up to `seconds`; fails the demo with `what` otherwise.
    func wait(_ what: String, seconds: Double, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            usleep(100_000)
        }
        throw DemoFailure(step: "waiting until \(what)", reason: "not after \(Int(seconds)) s")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// This binary with `arguments`, its output captured in files of the scratch directory.
    func run(_ arguments: [String]) throws -> Result {
        let stdoutPath = scratch + "/stdout"
        let stderrPath = scratch + "/stderr"
        var environment = ProcessInfo.processInfo.environment
        environment["ONEKUBE_DATA_DIR"] = dataDirectory
        let pid = try ProcessSpawner.spawn(
            executable: ProcessSpawner.currentExecutable(), arguments: arguments,
            environment: environment.map { "\($0.key)=\($0.value)" },
            stdinPath: "/dev/null", stdoutPath: stdoutPath, stderrPath: stderrPath)
        let status = try ProcessSpawner.wait(pid)
        return Result(status: status, stdout: (try? FileSystem.readString(stdoutPath)) ?? "",
                      stderr: (try? FileSystem.readString(stderrPath)) ?? "")
    }
}
