import Foundation
import Glibc
import HTTPServer
import Images
import NIOCore
import NIOHTTP1
import Platform

extension DockerAPI {
    func ping(_ request: HTTPServerRequest) -> HTTPServerResponse {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain; charset=utf-8")
        headers.add(name: "Cache-Control", value: "no-cache, no-store, must-revalidate")
        headers.add(name: "Pragma", value: "no-cache")
        headers.add(name: "Builder-Version", value: "1")
        headers.add(name: "Swarm", value: "inactive")
        let body: [UInt8] = request.method == .HEAD ? [] : Array("OK".utf8)
        return HTTPServerResponse(status: .ok, headers: headers, bytes: body)
    }

    func versionResponse() -> HTTPServerResponse {
        let host = HostFacts.current
        let details: OrderedJSON = .object([
            ("ApiVersion", .string(DockerAPIVersion.current)), ("Arch", .string(host.architecture)),
            ("BuildTime", .string("")), ("Experimental", .string("false")), ("GitCommit", .string("")),
            ("GoVersion", .string("")), ("KernelVersion", .string(host.kernel)),
            ("MinAPIVersion", .string(DockerAPIVersion.minimum)), ("Os", .string("linux")),
        ])
        return DockerResponse.json(.object([
            ("Platform", .object([("Name", .string("onekube \(OnekubeVersion.string)"))])),
            ("Components", .array([.object([
                ("Name", .string("Engine")), ("Version", .string(DockerAPIVersion.engine)), ("Details", details),
            ])])),
            ("Version", .string(DockerAPIVersion.engine)), ("ApiVersion", .string(DockerAPIVersion.current)),
            ("MinAPIVersion", .string(DockerAPIVersion.minimum)), ("GitCommit", .string("")),
            ("GoVersion", .string("")), ("Os", .string("linux")), ("Arch", .string(host.architecture)),
            ("KernelVersion", .string(host.kernel)),
        ]))
    }

    func infoResponse() throws -> HTTPServerResponse {
        let host = HostFacts.current
        let imageCount = try images.list().count
        let mirrors = info.registry.mirrors
        let all = containers.list()
        let running = all.filter(\.state.isRunning).count
        return DockerResponse.json(.object([
            ("ID", .string(host.machineID)), ("Containers", .int(all.count)), ("ContainersRunning", .int(running)),
            ("ContainersPaused", .int(0)), ("ContainersStopped", .int(all.count - running)), ("Images", .int(imageCount)),
            ("Driver", .string("overlay2")),
            ("Plugins", .object([
                ("Volume", .array([.string("local")])), ("Network", .array([.string("bridge")])),
                ("Log", .array([.string("json-file")])),
            ])),
            ("MemoryLimit", .bool(true)), ("SwapLimit", .bool(false)), ("CpuCfsPeriod", .bool(true)),
            ("CpuCfsQuota", .bool(true)), ("PidsLimit", .bool(true)), ("IPv4Forwarding", .bool(true)),
            ("Debug", .bool(false)), ("LoggingDriver", .string("json-file")),
            ("CgroupDriver", .string("cgroupfs")), ("CgroupVersion", .string("\(containers.cgroupVersion)")),
            ("KernelVersion", .string(host.kernel)), ("OperatingSystem", .string(host.operatingSystem)),
            ("OSVersion", .string("")), ("OSType", .string("linux")), ("Architecture", .string(host.machine)),
            ("IndexServerAddress", .string(DockerConfigFile.dockerHubKey)),
            ("RegistryConfig", .object([
                ("InsecureRegistryCIDRs", .array([.string("::1/128"), .string("127.0.0.0/8")])),
                ("IndexConfigs", .object([])),
                ("Mirrors", .array(mirrors.map(OrderedJSON.string))),
            ])),
            ("NCPU", .int(host.cpus)), ("MemTotal", .int(host.memoryBytes)), ("DockerRootDir", .string(info.dataDirectory)),
            ("Name", .string(host.hostname)), ("Labels", .array([])), ("ExperimentalBuild", .bool(false)),
            ("ServerVersion", .string(DockerAPIVersion.engine)),
            ("Runtimes", .object([("onekube", .object([("path", .string("onekube"))]))])),
            ("DefaultRuntime", .string("onekube")),
            ("Swarm", .object([("NodeID", .string("")), ("NodeAddr", .string("")), ("LocalNodeState", .string("inactive")),
                               ("ControlAvailable", .bool(false)), ("Error", .string("")), ("RemoteManagers", .null)])),
            ("LiveRestoreEnabled", .bool(false)), ("Isolation", .string("")), ("InitBinary", .string("")),
            ("ContainerdCommit", .object([("ID", .string(""))])), ("RuncCommit", .object([("ID", .string(""))])),
            ("InitCommit", .object([("ID", .string(""))])),
            ("SecurityOptions", .array([.string("name=seccomp,profile=builtin")])),
            ("Warnings", .null),
        ]))
    }
}

/// What `docker version` and `docker info` say about the host.
struct HostFacts {
    var kernel: String
    var machine: String
    var architecture: String
    var hostname: String
    var operatingSystem: String
    var cpus: Int
    var memoryBytes: Int64
    var machineID: String

    static var current: HostFacts {
        var info = utsname()
        uname(&info)
        func field<T>(_ value: T) -> String {
            withUnsafeBytes(of: value) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        }
        let osRelease = (try? FileSystem.readString("/etc/os-release")) ?? ""
        let pretty = osRelease.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") })
            .map { $0.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")) } ?? "Linux"
        let machineID = ((try? FileSystem.readString("/etc/machine-id")) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        return HostFacts(
            kernel: field(info.release), machine: field(info.machine), architecture: PlatformSelector.host.architecture,
            hostname: field(info.nodename), operatingSystem: pretty,
            cpus: ProcessInfo.processInfo.activeProcessorCount,
            memoryBytes: Int64(ProcessInfo.processInfo.physicalMemory),
            machineID: machineID)
    }
}
