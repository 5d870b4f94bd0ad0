import Foundation
import HTTPClient
import Platform

/// A background program the tests started; terminated when the value goes away.
public final class BackgroundProcess: @unchecked Sendable {
    public let pid: pid_t
    public let logPath: String
    private let lock = NSLock()
    private var exited = false

    public init(_ executable: String, _ arguments: [String], logPath: String, environment: [String: String] = [:]) throws {
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        self.logPath = logPath
        pid = try ProcessSpawner.spawn(
            executable: try Run.resolve(executable), arguments: arguments, environment: env.map { "\($0.key)=\($0.value)" },
            stdinPath: "/dev/null", stdoutPath: logPath, stderrPath: nil)
    }

    public var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    public func stop() {
        lock.lock()
        defer { lock.unlock() }
        guard !exited else { return }
        exited = true
        kill(pid, SIGTERM)
        _ = try? ProcessSpawner.wait(pid)
    }

    deinit { stop() }
}

/// Debian's `docker-registry` (distribution) on a free loopback port, storing in a temp dir.
public final class LocalRegistry: @unchecked Sendable {
    public let port: Int
    public let directory: TemporaryDirectory
    let server: BackgroundProcess

    public var host: String { "127.0.0.1:\(port)" }

    /// With `htpasswd`, the registry asks for Basic auth and accepts only that user.
    public init(htpasswd: (user: String, password: String)? = nil) throws {
        directory = try TemporaryDirectory("onekube-registry")
        port = try freePort()
        var auth = ""
        if let htpasswd {
            // distribution wants bcrypt; Python's crypt module makes it without extra packages, at the
            // lowest cost (every request of a push checks it).
            let hash = try Run.checked("python3", ["-W", "ignore", "-c", "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))",
                                                  htpasswd.password]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try "\(htpasswd.user):\(hash)\n".write(toFile: directory.path + "/htpasswd", atomically: true, encoding: .utf8)
            auth = "\nauth:\n  htpasswd:\n    realm: onekube-test\n    path: \(directory.path)/htpasswd"
        }
        let config = """
            version: 0.1
            log:
              level: warn
            storage:
              filesystem:
                rootdirectory: \(directory.path)/data
              delete:
                enabled: true
            http:
              addr: 127.0.0.1:\(port)
            """ + auth
        try config.write(toFile: directory.path + "/config.yml", atomically: true, encoding: .utf8)
        server = try BackgroundProcess("docker-registry", ["serve", directory.path + "/config.yml"], logPath: directory.path + "/registry.log")
        let url = "http://\(host)/v2/"
        try waitUntil("docker-registry on \(host)") {
            let status = (try? CurlHTTPClient.shared.sendBlocking(HTTPClientRequest(url: url, connectTimeout: 1)))?.status
            return status == 200 || (htpasswd != nil && status == 401)
        }
    }

    /// Copies an OCI layout's tag into the registry, digests preserved (skopeo).
    public func push(_ image: BuiltImage, as repository: String, tag: String? = nil) throws {
        try Run.checked("skopeo", [
            "copy", "--all", "--preserve-digests", "--dest-tls-verify=false", "--quiet",
            "oci:\(image.layoutDirectory):\(image.tag)", "docker://\(host)/\(repository):\(tag ?? image.tag)",
        ])
    }

    public func stop() { server.stop() }
}

/// Tests/Fixtures/fakehub.py: a registry that behaves like Docker Hub (Bearer challenge, token
/// server on another port, blobs redirected to a CDN port that rejects Authorization), with faults.
public final class FakeHub: @unchecked Sendable {
    public let registryPort: Int
    public let tokenPort: Int
    public let cdnPort: Int
    let directory: TemporaryDirectory
    let server: BackgroundProcess

    public var host: String { "127.0.0.1:\(registryPort)" }

    public init(repositories: [String: String], user: String? = nil) throws {
        directory = try TemporaryDirectory("onekube-fakehub")
        let portsFile = directory.path + "/ports.json"
        var arguments = [Fixtures.path("fakehub.py"), "--ports-file", portsFile]
        for (name, layout) in repositories.sorted(by: { $0.key < $1.key }) { arguments += ["--repo", "\(name)=\(layout)"] }
        if let user { arguments += ["--user", user] }
        server = try BackgroundProcess("python3", arguments, logPath: directory.path + "/fakehub.log")
        var ports: [String: Int] = [:]
        try waitUntil("fakehub ports") {
            guard let data = FileManager.default.contents(atPath: portsFile),
                  let parsed = try? JSONSerialization.jsonObject(with: data) as? [String: Int] else { return false }
            ports = parsed
            return true
        }
        guard let r = ports["registry"], let t = ports["token"], let c = ports["cdn"] else {
            throw TestFailure("fakehub wrote no ports: \(server.log)")
        }
        registryPort = r
        tokenPort = t
        cdnPort = c
    }

    public func fault(_ body: [String: String]) throws {
        let data = Array(try JSONSerialization.data(withJSONObject: body))
        let response = try CurlHTTPClient.shared.sendBlocking(
            HTTPClientRequest(method: "POST", url: "http://\(host)/_fault", body: data))
        guard response.status == 200 else { throw TestFailure("fakehub refused fault \(body): \(response.status)") }
    }

    /// Every request the fake hub saw.
    public func requests() throws -> [[String: Any]] {
        let response = try CurlHTTPClient.shared.sendBlocking(HTTPClientRequest(url: "http://\(host)/_log"))
        return (try JSONSerialization.jsonObject(with: Data(response.body)) as? [[String: Any]]) ?? []
    }

    public func stop() { server.stop() }
}
