import ContainerRuntime
import Foundation
import Images
import Logging
import NodeAgent
import Platform

/// The node agents' runtime: onekube's own container runtime and image store behind the
/// `PodRuntime` interface, as the CRI sits between a kubelet and containerd. Pod containers are
/// ordinary runtime containers (so `docker ps` lists them, as minikube's docker driver does),
/// named and labelled the way dockershim named them.
public final class OnekubePodRuntime: PodRuntime {
    let containers: ContainerService
    let images: ImageService
    /// The cluster DNS service address that pods' resolv.conf names (nil: the host's resolvers).
    let clusterDNS: String?
    let clusterDomain: String
    let logger: Logger

    public static let podUIDLabel = ContainerConfiguration.podUIDLabel
    public static let podNameLabel = "io.kubernetes.pod.name"
    public static let podNamespaceLabel = "io.kubernetes.pod.namespace"
    public static let containerNameLabel = "io.kubernetes.container.name"

    public init(containers: ContainerService, images: ImageService, clusterDNS: String?, clusterDomain: String = "cluster.local",
                logger: Logger) {
        self.containers = containers
        self.images = images
        self.clusterDNS = clusterDNS
        self.clusterDomain = clusterDomain
        self.logger = logger
    }

    // MARK: images

    public func prepareImage(_ reference: String, policy: String, events: @escaping @Sendable (ImageEvent) -> Void) async throws -> RuntimeImage {
        let present = try? images.resolve(reference).image
        if let present, policy != "Always" {
            events(.alreadyPresent)
            return Self.runtimeImage(present)
        }
        if present == nil && policy == "Never" { throw PodRuntimeError.imageNeverPull(reference) }
        let parsed = try ImageReference.parse(reference)
        events(.pulling)
        let began = ContinuousClock.now
        let pulled = try await images.pull(parsed, credential: nil)
        let took = ContinuousClock.now - began
        events(.pulled(seconds: Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18, bytes: pulled.size))
        return Self.runtimeImage(pulled)
    }

    static func runtimeImage(_ image: ImageRecord) -> RuntimeImage {
        let config = image.config.config
        // The kubelet reports the repo digest when the image came from a registry, else the ID.
        let imageID = image.repoDigests.first ?? image.id.description
        return RuntimeImage(id: image.id.description, imageID: imageID, entrypoint: config?.Entrypoint ?? [], cmd: config?.Cmd ?? [],
                            env: config?.Env ?? [], workingDir: config?.WorkingDir ?? "", user: config?.User ?? "")
    }

    // MARK: sandboxes

    public func startSandbox(name: String, hostname: String) async throws -> RuntimeSandbox {
        let info = try await containers.startSandbox(name: hostname)
        logger.debug("sandbox started", metadata: ["sandbox": "\(name)", "id": "\(info.id)", "ip": "\(info.address?.description ?? "-")"])
        return RuntimeSandbox(id: info.id, ip: info.address?.description)
    }

    public func stopSandbox(_ id: String) async {
        do { try await containers.stopSandbox(id) } catch {
            logger.debug("sandbox not stopped", metadata: ["id": "\(id)", "error": "\(error)"])
        }
    }

    // MARK: containers

    public func createContainer(_ launch: ContainerLaunch) async throws -> String {
        let image = try images.resolve(launch.image.id).image
        guard !launch.args.isEmpty else { throw OnekubeError(.invalidArgument, "no command specified") }
        let hostname = containers.sandbox(launch.sandboxID)?.name ?? launch.labels[Self.podNameLabel] ?? ""
        let namespace = launch.labels[Self.podNamespaceLabel] ?? "default"
        var limits = ResourceLimits()
        if launch.memoryLimit > 0 { limits.memoryBytes = launch.memoryLimit }
        if launch.milliCPULimit > 0 { limits.nanoCPUs = launch.milliCPULimit * 1_000_000 }
        // The kubelet's milliCPUToShares; without a request the cpu controller is left alone, which
        // keeps the start off the v1 cpu hierarchy's slow cgroup move.
        if launch.milliCPURequest > 0 { limits.cpuShares = max(2, launch.milliCPURequest * 1024 / 1000) }
        let config = ContainerConfiguration(
            image: launch.reference, imageID: image.id.description, layers: image.layers.map { images.layers.path($0.chainID) },
            args: launch.args, env: Self.mergedEnvironment(image: launch.image.env, pod: launch.env),
            workingDir: launch.workingDir, user: launch.user, hostname: hostname, labels: launch.labels,
            tty: launch.tty, openStdin: launch.stdin, stdinOnce: launch.stdinOnce,
            stopSignal: image.config.config?.StopSignal, sandboxID: launch.sandboxID,
            binds: launch.mounts.map { BindMount(source: $0.source, destination: $0.destination, readOnly: $0.readOnly) },
            resolvConf: clusterDNS.map { Self.resolvConf(nameserver: $0, namespace: namespace, domain: clusterDomain) },
            resources: limits)
        return try containers.create(name: launch.name, configuration: config).id
    }

    /// The image's variables, then the pod's, a later one replacing an earlier one of the same name.
    static func mergedEnvironment(image: [String], pod: [String]) -> [String] {
        var order: [String] = []
        var values: [String: String] = [:]
        for entry in image + pod {
            let name = String(entry.prefix { $0 != "=" })
            if values[name] == nil { order.append(name) }
            values[name] = entry
        }
        return order.compactMap { values[$0] }
    }

    /// What the kubelet writes for dnsPolicy ClusterFirst.
    static func resolvConf(nameserver: String, namespace: String, domain: String) -> String {
        "search \(namespace).svc.\(domain) svc.\(domain) \(domain)\nnameserver \(nameserver)\noptions ndots:5\n"
    }

    public func startContainer(_ id: String) async throws {
        _ = try await containers.start(id)
    }

    /// A node (or the daemon) that stops while a pod's grace period runs cuts it short: SIGKILL.
    public func stopContainer(_ id: String, gracePeriod: Int) async {
        let containers = self.containers
        await withTaskCancellationHandler {
            do { _ = try await containers.stop(id, timeout: Task.isCancelled ? 0 : gracePeriod, signal: nil) } catch {
                logger.debug("container not stopped", metadata: ["id": "\(id)", "error": "\(error)"])
            }
        } onCancel: {
            try? containers.kill(id, signal: "SIGKILL")
        }
    }

    public func removeContainer(_ id: String) async {
        do { try await containers.remove(id, force: true) } catch {
            logger.debug("container not removed", metadata: ["id": "\(id)", "error": "\(error)"])
        }
    }

    public func state(_ id: String) -> RuntimeContainerState? {
        guard let record = try? containers.inspect(id) else { return nil }
        let state = record.state
        return RuntimeContainerState(running: state.isRunning, exitCode: state.exitCode, oomKilled: state.oomKilled,
                                     startedAt: state.startedAt.flatMap(Self.date), finishedAt: state.finishedAt.flatMap(Self.date))
    }

    static func date(_ time: Timestamp) -> Date? {
        time.seconds > 0 ? Date(timeIntervalSince1970: time.secondsDouble) : nil
    }

    public func waitForExit(_ id: String) async {
        _ = try? await containers.wait(id, condition: .notRunning)
    }

    public func exec(_ id: String, command: [String], timeout: Duration) async -> (exitCode: Int32, output: String) {
        do {
            let instance = try containers.createExec(id, configuration: ExecConfiguration(args: command))
            let output = try await containers.startExec(instance.id)
            let collected = Task {
                var bytes: [UInt8] = []
                for await chunk in output { bytes += chunk.bytes }
                return bytes
            }
            let deadline = Task {
                try await Task.sleep(for: timeout)
                instance.kill()
            }
            let bytes = await collected.value
            deadline.cancel()
            let text = String(decoding: bytes, as: UTF8.self)
            guard let code = instance.status.exitCode else { return (-1, text) }
            return (code, text)
        } catch {
            return (-1, "\(error)")
        }
    }

    // MARK: start-up

    /// Pod containers a crashed daemon left behind: the node agents start every pod afresh.
    public func removeLeftovers() async {
        for record in containers.list() where record.config.isPodContainer {
            await removeContainer(record.id)
        }
    }
}
