import Foundation
import Platform

/// Which docker client a test drives: onekube's docker mode, or the real docker CLI 28.
public enum DockerClientKind: String, Sendable, CustomStringConvertible, CaseIterable {
    case builtIn = "onekube docker", real = "docker CLI"
    public var description: String { rawValue }
}

/// A onekube daemon on its own data directory, started with the real `onekube start` and
/// driven with the built-in docker mode or the real docker CLI.
public final class OnekubeInstance: @unchecked Sendable {
    public let dataDirectory: String
    let scratch: TemporaryDirectory
    public private(set) var startResult: ProcessResult?
    /// The Kubernetes API's port (free on 127.0.0.1) and the kubeconfig `start` writes.
    public let apiPort: Int
    public let kubeconfigPath: String
    public var apiServerURL: String { "https://127.0.0.1:\(apiPort)" }
    public var caCertificatePath: String { dataDirectory + "/pki/ca.crt" }
    public var apiToken: String {
        ((try? String(contentsOfFile: dataDirectory + "/api-token", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The onekube executable under test (`ONEKUBE_BIN`, else the package's debug build).
    public static var binary: String {
        if let path = ProcessInfo.processInfo.environment["ONEKUBE_BIN"], !path.isEmpty { return path }
        return Fixtures.packageRoot + "/.build/debug/onekube"
    }

    /// Each instance gets its own bridge and pod CIDR (a /24 in 10.200.0.0–10.249.255.0), so
    /// that instances of parallel tests never share a network.
    public let bridge: String
    public let podCIDR: String
    /// Likewise a service CIDR (a /24 in 10.150.0.0–10.199.255.0, clear of the default
    /// 10.96.0.0/12 and of the pod CIDRs) and a LoadBalancer pool (a /24 in 127.100–199.x), since
    /// the service proxy binds ClusterIPs, LoadBalancer addresses and cluster DNS on the host.
    public let serviceCIDR: String
    public let loadBalancerRange: String
    /// The ClusterIP `offset` addresses into the service CIDR: 1 is `kubernetes`, 10 `kube-dns`.
    public func serviceIP(_ offset: Int) -> String { serviceCIDR.split(separator: ".").prefix(3).joined(separator: ".") + ".\(offset)" }
    /// The `n`th LoadBalancer address of the pool (1 is the first handed out).
    public func loadBalancerIP(_ n: Int) -> String { loadBalancerRange.split(separator: ".").prefix(3).joined(separator: ".") + ".\(n)" }

    public init(start: Bool = true, arguments: [String] = []) throws {
        _ = Self.abandonedInstancesStopped
        scratch = try TemporaryDirectory("onekube-data")
        try String(getpid()).write(toFile: scratch.path + "/owner-pid", atomically: true, encoding: .utf8)
        dataDirectory = scratch.path + "/data"
        let slot = Self.nextSlot()
        bridge = "okt\(getpid() % 10000)-\(slot)"
        podCIDR = "10.\(200 + Int(getpid()) % 50).\(slot % 256).0/24"
        serviceCIDR = "10.\(150 + Int(getpid()) % 50).\(slot % 256).0/24"
        loadBalancerRange = "127.\(100 + Int(getpid()) % 100).\(slot % 256).0/24"
        apiPort = try freePort()
        kubeconfigPath = scratch.path + "/kubeconfig"
        if start { try self.start(arguments) }
    }

    nonisolated(unsafe) private static var slots = 0
    private static let slotLock = NSLock()

    private static func nextSlot() -> Int {
        slotLock.lock()
        defer { slotLock.unlock() }
        slots += 1
        return slots
    }

    deinit {
        _ = try? Run.program(Self.binary, ["stop", "--data-dir", dataDirectory])
    }

    /// Daemons left by an earlier test run that was killed (its deinit never ran): each
    /// instance's directory names the test process that owns it; if that process is gone, the
    /// daemon is stopped and the directory removed. Runs once per test process.
    static let abandonedInstancesStopped: Void = {
        let temporary = NSTemporaryDirectory()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: temporary)) ?? []
        for entry in entries where entry.hasPrefix("onekube-data-") {
            let directory = temporary + entry
            guard let text = try? String(contentsOfFile: directory + "/owner-pid", encoding: .utf8),
                  let owner = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
                  kill(owner, 0) != 0 && errno == ESRCH else { continue }
            _ = try? Run.program(binary, ["stop", "--data-dir", directory + "/data"])
            try? FileManager.default.removeItem(atPath: directory)
        }
    }()

    public var socketPath: String { dataDirectory + "/run/docker.sock" }
    public var dockerHost: String { "unix://" + socketPath }

    @discardableResult
    public func start(_ arguments: [String] = []) throws -> ProcessResult {
        let result = try Run.checked(Self.binary, ["start", "--data-dir", dataDirectory, "--api-port", String(apiPort),
                                                   "--kubeconfig", kubeconfigPath, "--bridge", bridge, "--pod-cidr", podCIDR,
                                                   "--service-cidr", serviceCIDR, "--lb-range", loadBalancerRange,
                                                   // Tests never reach Docker Hub: images come from local registries.
                                                   "--registry-mirror-only"] + arguments)
        startResult = result
        return result
    }

    @discardableResult
    public func stop() throws -> ProcessResult {
        try Run.checked(Self.binary, ["stop", "--data-dir", dataDirectory])
    }

    /// `onekube <arguments>` against this instance.
    @discardableResult
    public func onekube(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> ProcessResult {
        var env = environment
        env["ONEKUBE_DATA_DIR"] = dataDirectory
        env["DOCKER_HOST"] = ""  // an inherited DOCKER_HOST would win over ONEKUBE_DATA_DIR
        return try Run.program(Self.binary, arguments, environment: env, stdin: stdin)
    }

    /// `onekube docker <arguments>`.
    @discardableResult
    public func docker(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> ProcessResult {
        try onekube(["docker"] + arguments, environment: environment, stdin: stdin)
    }

    /// The real docker CLI pointed at this instance with DOCKER_HOST.
    @discardableResult
    public func realDocker(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> ProcessResult {
        var env = environment
        env["DOCKER_HOST"] = dockerHost
        return try Run.program("docker", arguments, environment: env, stdin: stdin)
    }

    /// The command line (and environment) that runs a docker client against this instance.
    public func dockerCommand(_ client: DockerClientKind) -> (argv: [String], environment: [String: String]) {
        switch client {
        case .builtIn: return ([Self.binary, "docker"], ["ONEKUBE_DATA_DIR": dataDirectory, "DOCKER_HOST": ""])
        case .real: return (["docker"], ["DOCKER_HOST": dockerHost])
        }
    }

    /// `docker <arguments>` with the built-in docker mode or the real docker CLI.
    @discardableResult
    public func docker(_ client: DockerClientKind, _ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
        switch client {
        case .builtIn: return try docker(arguments, stdin: stdin)
        case .real: return try realDocker(arguments, stdin: stdin)
        }
    }

    /// The cgroup parent this instance's containers live under (`onekube-<hash of the data dir>`).
    public var cgroupParent: String { "onekube-" + String(SHA256Hasher.hex(dataDirectory).prefix(8)) }

    /// A kubectl build (`kubectl`, the dispatcher, by default) against this instance, with a
    /// discovery cache of its own.
    @discardableResult
    public func kubectl(_ arguments: [String], binary: String = "kubectl", stdin: String? = nil,
                        environment: [String: String] = [:]) throws -> ProcessResult {
        var env = environment
        env["KUBECONFIG"] = kubeconfigPath
        env["HOME"] = scratch.path
        return try Run.program(binary, ["--cache-dir", scratch.path + "/kube-cache"] + arguments, environment: env, stdin: stdin,
                               directory: scratch.path)
    }

    public var scratchDirectory: String { scratch.path }

    public var daemonLog: String {
        (try? String(contentsOfFile: dataDirectory + "/onekube.log", encoding: .utf8)) ?? ""
    }

    public var pid: Int32? {
        guard let text = try? String(contentsOfFile: dataDirectory + "/run/onekube.pid", encoding: .utf8) else { return nil }
        return Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
