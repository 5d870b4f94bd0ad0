import Foundation
import Platform

/// Images for container tests, served by a local docker-registry that the daemon uses as its
/// Docker Hub mirror, so `busybox` and `luksa/kubia` resolve as in the book.
public final class ContainerRegistry: @unchecked Sendable {
    public let registry: LocalRegistry
    let scratch: TemporaryDirectory

    /// `busybox` (Cmd `sh`) and `luksa/kubia` (also as :v1 and :v2), a busybox httpd on 8080 that answers
    /// "You've hit <hostname>" as the book's kubia app does.
    public init() throws {
        scratch = try TemporaryDirectory("onekube-images")
        registry = try LocalRegistry()
        let root = try scratch.sub("busybox-root")
        try OCILayoutBuilder.busyboxRoot(at: root)
        let busybox = try OCILayoutBuilder.build(layout: try scratch.sub("busybox"), layers: [LayerSource(directory: root)])
        try registry.push(busybox, as: "library/busybox")
        let app = try scratch.sub("kubia-app")
        try FileManager.default.createDirectory(atPath: app + "/www", withIntermediateDirectories: true)
        let kubia = try OCILayoutBuilder.build(
            layout: try scratch.sub("kubia"), layers: [LayerSource(directory: root), LayerSource(directory: app)], cmd: nil,
            entrypoint: ["sh", "-c", "echo \"You've hit $(hostname)\" > /www/index.html && exec httpd -f -p 8080 -h /www"],
            exposedPorts: ["8080/tcp"])
        // The tags the book's later chapters roll between.
        for tag in ["latest", "v1", "v2"] { try registry.push(kubia, as: "luksa/kubia", tag: tag) }
    }

    /// A daemon on its own data directory, bridge and CIDR that pulls Docker Hub names from here.
    public func instance(arguments: [String] = []) throws -> OnekubeInstance {
        try OnekubeInstance(arguments: ["--registry-mirror", "http://\(registry.host)"] + arguments)
    }
}

/// What a onekube instance has on the host: mounts under its data directory, container
/// cgroups under its parent, veths on its bridge. Scoped to the instance, so that tests running
/// side by side do not disturb each other's counts.
public struct HostFootprint: Equatable, Sendable, CustomStringConvertible {
    public var mounts: Int
    public var cgroups: [String]
    public var veths: [String]

    public static func of(_ instance: OnekubeInstance) throws -> HostFootprint {
        let mountinfo = try String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)
        let mounts = mountinfo.split(separator: "\n").filter { $0.contains(instance.dataDirectory) }.count
        var cgroups: [String] = []
        for parent in cgroupParents(instance) {
            for child in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? [] {
                var isDirectory: ObjCBool = false
                if FileManager.default.fileExists(atPath: parent + "/" + child, isDirectory: &isDirectory), isDirectory.boolValue {
                    cgroups.append(parent + "/" + child)
                }
            }
        }
        let links = try Run.program("ip", ["-o", "link", "show", "master", instance.bridge])
        let veths = links.stdout.split(separator: "\n").compactMap { line in
            line.split(separator: ":").dropFirst().first.map { String($0.trimmingCharacters(in: .whitespaces).split(separator: "@").first ?? "") }
        }
        return HostFootprint(mounts: mounts, cgroups: cgroups.sorted(), veths: veths.sorted())
    }

    public static func cgroupParents(_ instance: OnekubeInstance) -> [String] {
        if FileManager.default.fileExists(atPath: "/sys/fs/cgroup/cgroup.controllers") {
            return ["/sys/fs/cgroup/\(instance.cgroupParent)"]
        }
        let hierarchies = (try? FileManager.default.contentsOfDirectory(atPath: "/sys/fs/cgroup")) ?? []
        return hierarchies.map { "/sys/fs/cgroup/\($0)/\(instance.cgroupParent)" }.filter { FileManager.default.fileExists(atPath: $0) }
    }

    public var description: String { "mounts \(mounts), cgroups \(cgroups), veths \(veths)" }

    /// The network namespace a process is in (its inode), if it lives.
    public static func networkNamespace(of pid: Int32) -> String? {
        try? FileSystem.readLink("/proc/\(pid)/ns/net")
    }

    /// Whether any process on the host is still in `namespace`.
    public static func namespaceInUse(_ namespace: String) -> Bool {
        let pids = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).filter { Int32($0) != nil }
        return pids.contains { (try? FileSystem.readLink("/proc/\($0)/ns/net")) == namespace }
    }
}

/// Runs a command on a pseudo-terminal (Tests/Fixtures/ptydrive.py), typing `script`'s texts
/// after the expected ones appear.
public func runOnTerminal(_ argv: [String], environment: [String: String], rows: Int = 30, columns: Int = 100,
                          script: [(expect: String, send: String)]) throws -> (output: String, status: Int32) {
    let steps = try JSONSerialization.data(withJSONObject: script.map { [$0.expect, $0.send] })
    let result = try Run.checked("python3", [Fixtures.path("ptydrive.py"), "\(rows)", "\(columns)",
                                             String(decoding: steps, as: UTF8.self)] + argv, environment: environment)
    guard let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any],
          let output = json["output"] as? String, let status = json["status"] as? Int else {
        throw TestFailure("ptydrive.py printed \(result.stdout)")
    }
    return (output, Int32(status))
}
