import ContainerRuntime
import Foundation
import HTTPServer
import ImageBuilder
import Images
import Logging
import NIOCore
import NIOHTTP1
import Platform

/// Facts about the daemon the system endpoints report.
public struct DockerDaemonInfo: Sendable {
    public var dataDirectory: String
    public var registry: RegistryConfiguration

    public init(dataDirectory: String, registry: RegistryConfiguration) {
        self.dataDirectory = dataDirectory
        self.registry = registry
    }
}

/// The Docker Engine API subset onekube serves on its unix socket: transport only (decode,
/// validate, encode); the work is done by the subsystems it is given.
public final class DockerAPI: HTTPResponder {
    let images: ImageService
    let containers: ContainerService
    let builder: ImageBuilder
    let info: DockerDaemonInfo
    let logger: Logger

    public init(images: ImageService, containers: ContainerService, builder: ImageBuilder, info: DockerDaemonInfo, logger: Logger) {
        self.images = images
        self.containers = containers
        self.builder = builder
        self.info = info
        self.logger = logger
    }

    public func respond(to request: HTTPServerRequest) async -> HTTPServerResponse {
        var response = await route(request)
        response.headers.replaceOrAdd(name: "Api-Version", value: DockerAPIVersion.current)
        response.headers.replaceOrAdd(name: "Ostype", value: "linux")
        response.headers.replaceOrAdd(name: "Docker-Experimental", value: "false")
        response.headers.replaceOrAdd(name: "Server", value: "Docker/\(DockerAPIVersion.engine) (linux) onekube/\(OnekubeVersion.string)")
        logger.debug("request", metadata: ["method": "\(request.method)", "uri": "\(request.uri)", "status": "\(response.status.code)"])
        return response
    }

    /// Splits an optional `/vX.Y` prefix off the path; moby routes both forms.
    /// The requests whose bodies the server should spool to a file: `docker build`'s context
    /// and `docker load`'s archive, which can run to gigabytes and are read from files anyway.
    public static func spoolsBody(method: HTTPMethod, path: String) -> Bool {
        let (_, bare) = versionAndPath(path)
        return method == .POST && (bare == "/build" || bare == "/images/load")
    }

    static func versionAndPath(_ path: String) -> (String?, String) {
        guard path.hasPrefix("/v"), let slash = path.dropFirst(2).firstIndex(of: "/") else { return (nil, path) }
        let version = String(path[path.index(path.startIndex, offsetBy: 2)..<slash])
        guard !version.isEmpty, version.allSatisfy({ $0.isNumber || $0 == "." }) else { return (nil, path) }
        return (version, String(path[slash...]))
    }

    func route(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        let (version, path) = Self.versionAndPath(request.path)
        if let version {
            if DockerAPIVersion.compare(version, DockerAPIVersion.current) > 0 {
                return DockerResponse.error(.badRequest, "client version \(version) is too new. Maximum supported API version is \(DockerAPIVersion.current)")
            }
            if DockerAPIVersion.compare(version, DockerAPIVersion.minimum) < 0 {
                return DockerResponse.error(.badRequest, "client version \(version) is too old. Minimum supported API version is \(DockerAPIVersion.minimum), please upgrade your client to a newer version")
            }
        }
        do {
            switch (request.method, path) {
            case (.GET, "/_ping"), (.HEAD, "/_ping"): return ping(request)
            case (.GET, "/version"): return versionResponse()
            case (.GET, "/info"): return try infoResponse()
            case (.POST, "/images/create"): return await pull(request)
            case (.GET, "/images/json"): return try listImages(request)
            case (.POST, "/build"): return await build(request)
            case (.POST, "/build/prune"): return try pruneBuildCache()
            case (.GET, "/images/get"): return try saveImages(request.query.all("names"))
            case (.POST, "/images/load"): return await loadImages(request)
            case (.POST, "/images/prune"): return try pruneImages(request)
            // onekube's one network is its bridge, which, like docker's predefined networks, is
            // never pruned (`docker system prune` asks).
            case (.POST, "/networks/prune"): return DockerResponse.json(.object([("NetworksDeleted", .null)]))
            case (.POST, "/auth"): return try await login(request)
            default: break
            }
            if let response = try await routeContainers(request, path: path) { return response }
            if path.hasPrefix("/images/") {
                let rest = String(path.dropFirst("/images/".count))
                switch request.method {
                case .GET where rest.hasSuffix("/json"):
                    return try inspectImage(String(rest.dropLast("/json".count)))
                case .GET where rest.hasSuffix("/history"):
                    return try imageHistory(String(rest.dropLast("/history".count)))
                case .POST where rest.hasSuffix("/tag"):
                    return try tagImage(String(rest.dropLast("/tag".count)), request)
                case .POST where rest.hasSuffix("/push"):
                    return try push(String(rest.dropLast("/push".count)), request)
                case .GET where rest.hasSuffix("/get"):
                    return try saveImages([String(rest.dropLast("/get".count))])
                case .DELETE:
                    return try removeImage(rest, request)
                default: break
                }
            }
            return DockerResponse.error(.notFound, "page not found")
        } catch {
            return DockerResponse.error(error)
        }
    }
}
