import ArgumentParser
import ContainerRuntime
import Daemon
import Foundation
import Glibc
import HTTPClient
import Images
import Logging
import Platform

struct StartCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "start", abstract: "Start the onekube daemon (returns when it answers).")

    @OptionGroup var data: DataDirectoryOption

    @Flag(help: "Stay attached and log to stderr (for systemd and tests).")
    var foreground = false

    @Option(name: .customLong("registry-mirror"), help: "A registry mirror tried first for Docker Hub pulls (repeatable).")
    var registryMirrors: [String] = []

    @Flag(name: .customLong("registry-mirror-only"), help: "Pull Docker Hub images from the mirrors only, never from Docker Hub itself (air-gapped machines).")
    var registryMirrorOnly = false

    @Option(name: .customLong("insecure-registry"), help: "A registry host[:port] that may be reached over plain HTTP (repeatable).")
    var insecureRegistries: [String] = []

    @Option(name: .customLong("api-port"), help: "The Kubernetes API's port on 127.0.0.1.")
    var apiPort: Int = DaemonConfiguration.defaultAPIPort

    @Option(name: .customLong("service-cidr"), help: "The range service ClusterIPs come from.")
    var serviceCIDR: String = DaemonConfiguration.defaultServiceCIDR

    @Option(name: .customLong("kubeconfig"), help: "The kubeconfig to write the onekube context into (default $KUBECONFIG or ~/.kube/config of the invoking user).")
    var kubeconfig: String?

    @Option(help: "How many nodes the cluster has (onekube, onekube-m02, …).")
    var nodes: Int = 1

    @Option(name: .customLong("pod-eviction-timeout"), help: "Seconds before pods leave a node that stopped answering (Kubernetes' default is 300).")
    var podEvictionTimeout: Int = 300

    @Option(name: .customLong("node-monitor-grace-period"), help: "Seconds without a heartbeat before a node is NotReady (Kubernetes' default is 40).")
    var nodeMonitorGracePeriod: Int = 40

    @Option(name: .customLong("lb-range"), help: "Where LoadBalancer services' EXTERNAL-IPs come from (loopback by default).")
    var loadBalancerRange: String = "127.0.1.0/24"

    @Option(name: .customLong("lb-address"), help: "One address (e.g. the LAN's) for every LoadBalancer service instead.")
    var loadBalancerAddress: String?

    @Option(help: "The bridge containers attach to (two instances need different ones).")
    var bridge: String = RuntimeConfiguration.defaultBridge

    @Option(name: .customLong("pod-cidr"), help: "The IPv4 range container and pod addresses come from.")
    var podCIDR: String = RuntimeConfiguration.defaultPodCIDR

    var daemonConfiguration: DaemonConfiguration {
        var configuration = DaemonConfiguration(dataDirectory: data.resolved, registryMirrors: registryMirrors,
                                                insecureRegistries: insecureRegistries, apiPort: apiPort, serviceCIDR: serviceCIDR)
        configuration.nodes = nodes
        configuration.registryMirrorsOnly = registryMirrorOnly
        configuration.podEvictionTimeout = podEvictionTimeout
        configuration.nodeMonitorGracePeriod = max(nodeMonitorGracePeriod, 1)
        configuration.loadBalancerRange = loadBalancerRange
        configuration.loadBalancerAddress = loadBalancerAddress
        configuration.bridge = bridge
        configuration.podCIDR = podCIDR
        return configuration
    }

    func run() async throws {
        guard geteuid() == 0 else {
            Console.err("onekube start needs root for namespaces, mounts and cgroups (try: sudo onekube start)\n")
            throw ExitCode(1)
        }
        if foreground {
            try await runForeground()
        } else {
            try startInBackground()
        }
    }

    private func runForeground() async throws {
        let level = ProcessInfo.processInfo.environment["ONEKUBE_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "onekube")
        do {
            try await Daemon.run(daemonConfiguration, logger: logger)
        } catch let error as OnekubeError where error.code == .alreadyExists {
            Console.err("\(error)\n")
            throw ExitCode(1)
        } catch {
            logger.critical("daemon failed", metadata: ["error": "\(error)"])
            Console.err("onekube: \(error)\n")
            throw ExitCode(1)
        }
    }

    /// Spawns ourselves with `--foreground` in a new session (never fork in a threaded process),
    /// then waits until the daemon answers on its socket, or reports why it died.
    private func startInBackground() throws {
        let configuration = daemonConfiguration
        if case .running(let pid) = PidFile.status(path: configuration.pidFilePath) {
            Console.out("onekube is already running (pid \(pid), data dir \(configuration.dataDirectory))\n")
            return
        }
        try FileSystem.createDirectory(configuration.dataDirectory, mode: 0o711)
        let logStart = fileSize(configuration.logPath)
        var arguments = ["start", "--foreground", "--data-dir", configuration.dataDirectory, "--api-port", String(apiPort),
                         "--service-cidr", serviceCIDR, "--nodes", String(nodes), "--pod-eviction-timeout", String(podEvictionTimeout),
                         "--node-monitor-grace-period", String(nodeMonitorGracePeriod), "--lb-range", loadBalancerRange]
        if let loadBalancerAddress { arguments += ["--lb-address", loadBalancerAddress] }
        for mirror in registryMirrors { arguments += ["--registry-mirror", mirror] }
        for registry in insecureRegistries { arguments += ["--insecure-registry", registry] }
        if registryMirrorOnly { arguments.append("--registry-mirror-only") }
        arguments += ["--bridge", bridge, "--pod-cidr", podCIDR]
        let environment = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }
        let pid = try ProcessSpawner.spawnDetached(
            executable: ProcessSpawner.currentExecutable(), arguments: arguments, environment: environment,
            logPath: configuration.logPath)

        let client = DockerClient(socketPath: configuration.dockerSocketPath)
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                Console.err("onekube failed to start:\n" + logTail(configuration.logPath, from: logStart))
                throw ExitCode(1)
            }
            if FileSystem.exists(configuration.dockerSocketPath),
               let response = try? client.request("GET", "/_ping"), response.status == 200,
               let health = try? CurlHTTPClient.shared.sendBlocking(apiHealthRequest(configuration)), health.status == 200 {
                let kubeconfigPath = try writeKubeconfig(configuration)
                Console.out("""
                    onekube v\(OnekubeVersion.string) running (pid \(pid)): API on \(configuration.apiServerURL), context "onekube" written to \(kubeconfigPath)
                    docker API on unix://\(configuration.dockerSocketPath) (eval $(onekube docker-env)), data in \(configuration.dataDirectory)

                    """)
                return
            }
            usleep(2_000)
        }
        Console.err("onekube did not answer within 60 s; see \(configuration.logPath)\n")
        throw ExitCode(1)
    }

    private func apiHealthRequest(_ configuration: DaemonConfiguration) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: configuration.apiServerURL + "/healthz", connectTimeout: 1)
        request.caCertificatePath = configuration.certificates.caCertificatePath
        return request
    }

    /// Adds the onekube context to the user's kubeconfig and remembers where, for `delete`.
    private func writeKubeconfig(_ configuration: DaemonConfiguration) throws -> String {
        let path = Kubeconfig.path(flag: kubeconfig)
        let token = try FileSystem.readString(configuration.apiTokenPath).trimmingCharacters(in: .whitespacesAndNewlines)
        let ca = try FileSystem.readFile(configuration.certificates.caCertificatePath)
        try Kubeconfig.write(server: configuration.apiServerURL, certificateAuthorityData: Data(ca).base64EncodedString(), token: token, to: path)
        try FileSystem.writeAtomically(configuration.kubeconfigRecordPath, path + "\n", mode: 0o600)
        return path
    }

    private func fileSize(_ path: String) -> off_t {
        var st = stat()
        return stat(path, &st) == 0 ? st.st_size : 0
    }

    private func logTail(_ path: String, from offset: off_t) -> String {
        guard let bytes = try? FileSystem.readFile(path), Int(offset) <= bytes.count else { return "" }
        return String(decoding: bytes[Int(offset)...], as: UTF8.self)
    }
}
