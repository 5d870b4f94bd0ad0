import CLinux
import ContainerRuntime
import DockerAPI
import HTTPServer
import Images
import Logging
import Platform
import SQLite
import ServiceLifecycle

/// The composition root: configuration → components → one ServiceGroup. No domain logic here.
public enum Daemon {
    /// Runs until SIGTERM or SIGINT, then shuts the services down in reverse order.
    public static func run(_ configuration: DaemonConfiguration, logger: Logger) async throws {
        cz_ignore_sigpipe()
        try FileSystem.createDirectory(configuration.dataDirectory, mode: 0o711)
        try FileSystem.createDirectory(configuration.runDirectory, mode: 0o755)

        let pidFile: PidFile
        switch try PidFile.acquire(path: configuration.pidFilePath) {
        case .success(let acquired): pidFile = acquired
        case .failure(let running):
            throw OnekubeError(.alreadyExists, "onekube is already running (pid \(running.pid), data dir \(configuration.dataDirectory))")
        }
        defer { pidFile.release() }

        let database = try SQLiteDatabase(path: configuration.databasePath)
        let images = try ImageService(
            dataDirectory: configuration.dataDirectory, database: database, registry: configuration.registry,
            logger: logger.withLabel("images"))
        // A crash may have left half-unpacked layers and unreferenced blobs.
        try images.recoverAfterCrash()

        let containers = try ContainerService(configuration: try configuration.runtime(), logger: logger.withLabel("containers"))
        // A crash may have left container processes, cgroups and veths.
        try containers.prepare()

        let dockerAPI = DockerAPI(
            images: images, containers: containers,
            info: DockerDaemonInfo(dataDirectory: configuration.dataDirectory, registry: configuration.registry),
            logger: logger.withLabel("docker-api"))
        let dockerServer = HTTPServer(
            address: .unix(path: configuration.dockerSocketPath, mode: 0o660), responder: dockerAPI,
            logger: logger.withLabel("docker-api"))

        let group = ServiceGroup(configuration: .init(
            // Shut down in reverse: the API stops taking requests, then every container stops.
            services: [.init(service: containers), .init(service: dockerServer)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        logger.info("onekube daemon starting", metadata: ["version": "\(OnekubeVersion.string)", "dataDir": "\(configuration.dataDirectory)"])
        try await group.run()
        logger.info("onekube daemon stopped")
    }
}

extension Logger {
    /// A logger for a component, sharing the handler.
    public func withLabel(_ component: String) -> Logger {
        var copy = self
        copy[metadataKey: "component"] = "\(component)"
        return copy
    }
}
