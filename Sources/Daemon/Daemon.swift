import APIServer
import Foundation
import CLinux
import ContainerRuntime
import Controllers
import DockerAPI
import ImageBuilder
import HTTPServer
import Images
import KubeModel
import Logging
import NodeAgent
import NodeRuntime
import ObjectStore
import Platform
import PodStreams
import Registry
import SQLite
import ServiceLifecycle

/// The composition root: configuration → components → one ServiceGroup. No domain logic here.
public enum Daemon {
    /// Runs until SIGTERM or SIGINT, then shuts the services down in reverse order.
    public static func run(_ configuration: DaemonConfiguration, logger: Logger) async throws {
        cz_ignore_sigpipe()
        do {
            let limit = try OpenFileLimit.raiseToHardLimit()
            logger.debug("open file limit", metadata: ["soft": "\(limit.soft)", "hard": "\(limit.hard)"])
        } catch {
            logger.warning("cannot raise the open file limit", metadata: ["error": "\(error)"])
        }
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

        let runtimeConfiguration = try configuration.runtime()
        let containers = try ContainerService(configuration: runtimeConfiguration, logger: logger.withLabel("containers"))
        // A crash may have left container processes, cgroups and veths.
        try containers.prepare()

        let builder = try ImageBuilder(images: images, containers: containers, dataDirectory: configuration.dataDirectory,
                                       logger: logger.withLabel("build"))
        let dockerAPI = DockerAPI(
            images: images, containers: containers, builder: builder,
            info: DockerDaemonInfo(dataDirectory: configuration.dataDirectory, registry: configuration.registry),
            logger: logger.withLabel("docker-api"))
        // `docker load` and `docker build` send whole archives (the book's kubia on node:7 saves
        // to about 660 MB): they go to files as they arrive, with no limit but the disk's, as in
        // dockerd. Every other body (JSON) is held in memory, up to 64 MiB.
        let uploads = try BodySpool(directory: configuration.uploadsDirectory, maxBytes: .max,
                                    wants: { method, path in DockerAPI.spoolsBody(method: method, path: path) })
        let dockerServer = HTTPServer(
            address: .unix(path: configuration.dockerSocketPath, mode: 0o660), responder: dockerAPI,
            logger: logger.withLabel("docker-api"), maxBodyBytes: 64 << 20, spool: uploads)

        // The control plane: its own SQLite connection (WAL lets image and object writes interleave).
        let store = try ObjectStore(database: SQLiteDatabase(path: configuration.databasePath), logger: logger.withLabel("store"))
        guard let serviceCIDR = Registry.IPv4Network(configuration.serviceCIDR) else {
            throw OnekubeError(.invalidArgument, "invalid --service-cidr \(configuration.serviceCIDR)")
        }
        guard let loadBalancerPool = Registry.IPv4Network(configuration.loadBalancerRange) else {
            throw OnekubeError(.invalidArgument, "invalid --lb-range \(configuration.loadBalancerRange)")
        }
        let registry = ObjectRegistry(store: store, allocator: ServiceAllocator(serviceCIDR: serviceCIDR),
                                      defaultTolerationSeconds: Int64(configuration.podEvictionTimeout), logger: logger.withLabel("registry"))
        try ClusterBootstrap.ensureDefaults(registry: registry, apiHost: "127.0.0.1", apiPort: configuration.apiPort,
                                            logger: logger.withLabel("bootstrap"))
        let podRuntime = OnekubePodRuntime(containers: containers, images: images, clusterDNS: registry.allocator.clusterDNSServiceIP,
                                           logger: logger.withLabel("pod-runtime"))
        await podRuntime.removeLeftovers()
        let token = try APIToken.loadOrCreate(path: configuration.apiTokenPath)
        try FileSystem.writeAtomically(configuration.apiPortRecordPath, "\(configuration.apiPort)\n")
        let kubernetesAPI = KubernetesAPI(registry: registry, token: token, serverAddress: "127.0.0.1:\(configuration.apiPort)",
                                          podLogs: PodContainerLogs(containers: containers),
                                          podStreaming: RuntimePodStreaming(containers: containers, logger: logger.withLabel("pod-streams")),
                                          logger: logger.withLabel("apiserver"))
        let certificates = configuration.certificates
        try certificates.ensure(serviceIP: registry.allocator.apiServerServiceIP)
        let apiServer = HTTPServer(address: .tls(host: "127.0.0.1", port: configuration.apiPort,
                                                 certificatePath: certificates.serverCertificatePath, keyPath: certificates.serverKeyPath),
                                   responder: kubernetesAPI,
                                   logger: logger.withLabel("apiserver"), maxBodyBytes: KubernetesAPI.maxBodyBytes)

        let workloadControllers: [ServiceGroupConfiguration.ServiceConfiguration] = ["ReplicationController", "ReplicaSet"].compactMap { kind in
            ReplicaSetController(registry: registry, kind: kind, logger: logger.withLabel("\(kind.lowercased())-controller")).map { .init(service: $0) }
        }
        // Services' traffic (proxy, cluster DNS) on ClusterIPs this instance labels on lo.
        let serviceNetworking = try ServiceNetworking(configuration: configuration, store: store, logger: logger)
        serviceNetworking.sweep("startup")
        defer { serviceNetworking.sweep("exit") }

        let group = ServiceGroup(configuration: .init(
            // Shut down in reverse: the APIs stop taking requests, then every container stops.
            services: [
                .init(service: containers),
                .init(service: dockerServer),
                .init(service: apiServer),
                .init(service: GarbageCollector(registry: registry, logger: logger.withLabel("garbage-collector"))),
                .init(service: NamespaceController(registry: registry, logger: logger.withLabel("namespace-controller"))),
                .init(service: NodeFleet(registry: registry, initialNodes: configuration.nodes, logger: logger.withLabel("node"),
                                         heartbeat: .milliseconds(configuration.nodeMonitorGracePeriod * 250), runtime: podRuntime,
                                         hostIP: runtimeConfiguration.podCIDR.gateway.description,
                                         podsDirectory: configuration.podsDirectory)),
                .init(service: NodeLifecycleController(registry: registry, logger: logger.withLabel("node-lifecycle"),
                                                       gracePeriod: TimeInterval(configuration.nodeMonitorGracePeriod))),
                .init(service: Scheduler(registry: registry, logger: logger.withLabel("scheduler"))),
                .init(service: EndpointsController(registry: registry, logger: logger.withLabel("endpoints-controller"))),
                .init(service: DeploymentController(registry: registry, logger: logger.withLabel("deployment-controller"))),
                .init(service: DaemonSetController(registry: registry, logger: logger.withLabel("daemonset-controller"))),
                .init(service: JobController(registry: registry, logger: logger.withLabel("job-controller"))),
                .init(service: LoadBalancerController(registry: registry, pool: loadBalancerPool, fixedAddress: configuration.loadBalancerAddress,
                                                      logger: logger.withLabel("load-balancer"))),
            ] + workloadControllers + serviceNetworking.services,
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger))
        logger.info("onekube daemon starting", metadata: ["version": "\(OnekubeVersion.string)", "dataDir": "\(configuration.dataDirectory)"])
        try await group.run()
        store.closeWatches()
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
