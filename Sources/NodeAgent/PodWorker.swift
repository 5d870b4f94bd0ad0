import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import Synchronization

/// What every pod worker of one node shares.
public struct NodeContext: Sendable {
    public let registry: ObjectRegistry
    public let runtime: PodRuntime
    public let nodeName: String
    public let hostIP: String
    /// Where pods' volumes live (`<data>/pods`).
    public let podsDirectory: String
    public let logger: Logger
    /// The first crash back-off (10 s in Kubernetes; shorter in tests).
    public let initialBackoff: Duration
    let events: EventRecorder

    public init(registry: ObjectRegistry, runtime: PodRuntime, nodeName: String, hostIP: String, podsDirectory: String,
                initialBackoff: Duration = .seconds(10), logger: Logger) {
        self.registry = registry
        self.initialBackoff = initialBackoff
        self.runtime = runtime
        self.nodeName = nodeName
        self.hostIP = hostIP
        self.podsDirectory = podsDirectory
        self.logger = logger
        events = EventRecorder(registry: registry, component: "kubelet", host: nodeName, logger: logger)
    }

    var store: ObjectStore { registry.store }
}

/// Runs one pod as the kubelet's pod worker does: a sandbox (its IP, hostname = pod name), the
/// volumes, the init containers one after another, then the containers, each pulled per its
/// policy and restarted per the pod's restartPolicy with the crash back-off; probes decide
/// readiness and liveness; status goes to the API after every change. On deletion the
/// containers get SIGTERM, the grace period, SIGKILL, and the pod object is removed.
final class PodWorker: Sendable {
    let key: ObjectKey
    let uid: String
    let context: NodeContext
    private let kicks: AsyncStream<Void>.Continuation
    private let stream: AsyncStream<Void>
    /// Probe outcomes by container name, written by probe tasks.
    private let probes = Mutex<[String: ProbeState]>([:])

    struct ProbeState: Sendable, Equatable {
        var ready = false
        var started = false
    }

    /// The worker's own view of a container; only the worker's task touches it.
    struct Tracked {
        var id: String?
        var image: RuntimeImage?
        var restartCount = 0
        var lastTerminated: ContainerView.State?
        /// Set while the container cannot be (re)started: ErrImagePull, CrashLoopBackOff, …
        var waiting: (reason: String, message: String?)?
        var previousID: String?
        /// When the exit that is waiting for back-off happened.
        var exitedAt: ContinuousClock.Instant?
    }

    struct State {
        var sandbox: RuntimeSandbox?
        var volumes: [String: String]?
        var containers: [String: Tracked] = [:]
        var backoff: CrashBackoff
        var watched: Set<String> = []
        var lastStatus: OrderedJSON?
        var startTime = Date()
        var wakeAfter: Duration?
    }

    init(key: ObjectKey, uid: String, context: NodeContext) {
        self.key = key
        self.uid = uid
        self.context = context
        (stream, kicks) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Something changed: the pod, a container's exit, a probe, a timer.
    func kick() { kicks.yield() }

    var runtime: PodRuntime { context.runtime }
    static let pods = ResourceCatalog.find(kind: "Pod")

    /// The current pod object, if it is still this pod (same uid).
    func currentPod() -> OrderedJSON? {
        guard let pod = context.store.get(key)?.value, pod.uid == uid else { return nil }
        return pod
    }

    func run() async {
        var state = State(backoff: CrashBackoff(initial: context.initialBackoff, maximum: context.initialBackoff * 30))
        var iterator = stream.makeAsyncIterator()
        while !Task.isCancelled {
            guard let pod = currentPod() else {
                await teardown(&state, pod: nil, grace: 0)
                return
            }
            if pod.deletionTimestamp != nil {
                let grace = Int(pod[path: ["metadata", "deletionGracePeriodSeconds"]]?.intValue
                                ?? pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30)
                await teardown(&state, pod: pod, grace: grace)
                remove(pod)
                return
            }
            state.wakeAfter = nil
            await sync(pod, &state)
            publish(pod, &state)
            // Wait for the next change, or for a back-off to run out.
            if let delay = state.wakeAfter {
                let timer = Task { [weak self] in
                    try? await Task.sleep(for: delay)
                    self?.kick()
                }
                _ = await iterator.next()
                timer.cancel()
            } else {
                _ = await iterator.next()
            }
        }
        // The node stopped (or the daemon): its pods stop as if the machine went away.
        await teardown(&state, pod: nil, grace: 0)
    }

    func wake(_ state: inout State, after delay: Duration) {
        state.wakeAfter = min(state.wakeAfter ?? delay, delay)
    }

    // MARK: syncing

    func sync(_ pod: OrderedJSON, _ state: inout State) async {
        let phase = pod[path: ["status", "phase"]]?.stringValue
        if phase == "Succeeded" || phase == "Failed" {
            if let sandbox = state.sandbox {
                await runtime.stopSandbox(sandbox.id)
                state.sandbox = nil
            }
            return
        }
        if state.sandbox == nil {
            do {
                state.sandbox = try await runtime.startSandbox(name: "k8s_POD_\(pod.name)_\(pod.namespace)_\(uid)", hostname: pod.name)
            } catch {
                context.events.record(pod, type: "Warning", reason: "FailedCreatePodSandBox", message: "Failed to create pod sandbox: \(error)")
                wake(&state, after: .seconds(5))
                return
            }
        }
        if state.volumes == nil {
            let volumes = PodVolumes(podsDirectory: context.podsDirectory, uid: uid)
            do {
                state.volumes = try volumes.prepare(pod: pod, configMap: { self.object("configmaps", pod.namespace, $0) },
                                                    secret: { self.object("secrets", pod.namespace, $0) })
            } catch {
                context.events.record(pod, type: "Warning", reason: "FailedMount", message: "MountVolume.SetUp failed: \(error.message)")
                wake(&state, after: .seconds(5))
                return
            }
        }
        let restartPolicy = pod[path: ["spec", "restartPolicy"]]?.stringValue ?? "Always"
        for container in pod[path: ["spec", "initContainers"]]?.arrayValue ?? [] {
            let name = container["name"]?.stringValue ?? ""
            let tracked = refresh(name, &state)
            if tracked.id == nil, tracked.waiting == nil || tracked.waiting?.reason != "CrashLoopBackOff" {
                await start(container, in: pod, init: true, &state)
                return
            }
            guard let id = tracked.id, let observed = runtime.state(id) else { return }
            if observed.running { return }
            if observed.exitCode == 0 { continue }
            if restartPolicy == "Never" { return }
            await restart(container, in: pod, init: true, exited: observed, &state)
            return
        }
        for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
            let name = container["name"]?.stringValue ?? ""
            let tracked = refresh(name, &state)
            guard let id = tracked.id else {
                if tracked.waiting?.reason == "CrashLoopBackOff" || tracked.waiting?.reason == "ImagePullBackOff"
                    || tracked.waiting?.reason == "ErrImagePull" || tracked.waiting?.reason == "CreateContainerConfigError"
                    || tracked.waiting?.reason == "ErrImageNeverPull" || tracked.waiting?.reason == "CreateContainerError" {
                    await retryWaiting(container, in: pod, &state)
                } else {
                    await start(container, in: pod, init: false, &state)
                }
                continue
            }
            guard let observed = runtime.state(id), !observed.running else { continue }
            let shouldRestart = restartPolicy == "Always" || (restartPolicy == "OnFailure" && observed.exitCode != 0)
            if shouldRestart { await restart(container, in: pod, init: false, exited: observed, &state) }
        }
    }

    /// The tracked record of a container, created on first sight.
    func refresh(_ name: String, _ state: inout State) -> Tracked {
        if let tracked = state.containers[name] { return tracked }
        state.containers[name] = Tracked()
        return Tracked()
    }

    func object(_ resource: String, _ namespace: String, _ name: String) -> OrderedJSON? {
        context.store.get(ObjectKey(resource: resource, namespace: namespace, name: name))?.value
    }

    /// A container that could not start (bad image, missing config) is tried again after back-off.
    func retryWaiting(_ container: OrderedJSON, in pod: OrderedJSON, _ state: inout State) async {
        let name = container["name"]?.stringValue ?? ""
        let key = "start/\(name)"
        if let since = state.containers[name]?.exitedAt, let left = state.backoff.remaining(key, since: since, now: .now) {
            if state.containers[name]?.waiting?.reason == "ErrImagePull" {
                let image = container["image"]?.stringValue ?? ""
                state.containers[name]?.waiting = ("ImagePullBackOff", "Back-off pulling image \"\(image)\"")
                context.events.record(pod, reason: "BackOff", message: "Back-off pulling image \"\(image)\"", fieldPath: fieldPath(name, pod))
                context.events.record(pod, type: "Warning", reason: "Failed", message: "Error: ImagePullBackOff", fieldPath: fieldPath(name, pod))
            }
            wake(&state, after: left)
            return
        }
        await start(container, in: pod, init: false, &state)
    }

    func restart(_ container: OrderedJSON, in pod: OrderedJSON, init isInit: Bool, exited: RuntimeContainerState, _ state: inout State) async {
        let name = container["name"]?.stringValue ?? ""
        let key = "crash/\(name)"
        let now = ContinuousClock.now
        let finished = state.containers[name]?.exitedAt ?? now
        state.containers[name]?.exitedAt = finished
        if let left = state.backoff.remaining(key, since: finished, now: now) {
            if state.containers[name]?.waiting?.reason != "CrashLoopBackOff" {
                let delay = state.backoff.delay(key)
                state.containers[name]?.waiting = ("CrashLoopBackOff",
                    "back-off \(Self.format(delay)) restarting failed container=\(name) pod=\(pod.name)_\(pod.namespace)(\(uid))")
                let last = terminated(exited, id: state.containers[name]?.id)
                state.containers[name]?.lastTerminated = last
                context.events.record(pod, type: "Warning", reason: "BackOff",
                                      message: "Back-off restarting failed container \(name) in pod \(pod.name)_\(pod.namespace)(\(uid))",
                                      fieldPath: fieldPath(name, pod))
            }
            wake(&state, after: left)
            return
        }
        state.backoff.next(key, now: now)
        if var tracked = state.containers[name] {
            tracked.lastTerminated = terminated(exited, id: tracked.id)
            if let old = tracked.previousID { await runtime.removeContainer(old) }
            tracked.previousID = tracked.id
            tracked.id = nil
            tracked.restartCount += 1
            tracked.exitedAt = nil
            state.containers[name] = tracked
        }
        probes.withLock { $0[name] = nil }
        await start(container, in: pod, init: isInit, &state)
    }

    func terminated(_ observed: RuntimeContainerState, id: String?) -> ContainerView.State {
        .terminated(exitCode: observed.exitCode, reason: ContainerView.terminatedReason(exitCode: observed.exitCode, oomKilled: observed.oomKilled),
                    message: nil, startedAt: observed.startedAt, finishedAt: observed.finishedAt, containerID: id.map { "onekube://\($0)" })
    }

    static func format(_ duration: Duration) -> String {
        let seconds = duration.components.seconds
        return seconds >= 60 && seconds % 60 == 0 ? "\(seconds / 60)m0s" : seconds >= 60 ? "\(seconds / 60)m\(seconds % 60)s" : "\(seconds)s"
    }

    func fieldPath(_ name: String, _ pod: OrderedJSON) -> String {
        let isInit = (pod[path: ["spec", "initContainers"]]?.arrayValue ?? []).contains { $0["name"]?.stringValue == name }
        return isInit ? "spec.initContainers{\(name)}" : "spec.containers{\(name)}"
    }

    /// Pull, create, start; every failure leaves the container waiting with the kubelet's reason.
    func start(_ container: OrderedJSON, in pod: OrderedJSON, init isInit: Bool, _ state: inout State) async {
        guard let sandbox = state.sandbox else { return }
        let name = container["name"]?.stringValue ?? ""
        let reference = container["image"]?.stringValue ?? ""
        let policy = container["imagePullPolicy"]?.stringValue ?? (Defaulting.imageHasLatestTag(reference) ? "Always" : "IfNotPresent")
        let path = fieldPath(name, pod)
        // Show ContainerCreating while the image comes.
        state.containers[name]?.waiting = nil
        publish(pod, &state)
        let events = context.events
        let image: RuntimeImage
        do {
            image = try await runtime.prepareImage(reference, policy: policy) { event in
                switch event {
                case .pulling: events.record(pod, reason: "Pulling", message: "Pulling image \"\(reference)\"", fieldPath: path)
                case .pulled(let seconds, let bytes):
                    let took = String(format: "%.3gs", seconds)
                    events.record(pod, reason: "Pulled",
                                  message: "Successfully pulled image \"\(reference)\" in \(took) (\(took) including waiting). Image size: \(bytes) bytes.",
                                  fieldPath: path)
                case .alreadyPresent:
                    events.record(pod, reason: "Pulled", message: "Container image \"\(reference)\" already present on machine", fieldPath: path)
                }
            }
        } catch PodRuntimeError.imageNeverPull(let reference) {
            let message = "\(PodRuntimeError.imageNeverPull(reference))"
            context.events.record(pod, type: "Warning", reason: "ErrImageNeverPull", message: message, fieldPath: path)
            context.events.record(pod, type: "Warning", reason: "Failed", message: "Error: ErrImageNeverPull", fieldPath: path)
            waitAndRetry(name, reason: "ErrImageNeverPull", message: message, &state)
            return
        } catch {
            context.events.record(pod, type: "Warning", reason: "Failed", message: "Failed to pull image \"\(reference)\": \(error)", fieldPath: path)
            context.events.record(pod, type: "Warning", reason: "Failed", message: "Error: ErrImagePull", fieldPath: path)
            waitAndRetry(name, reason: "ErrImagePull", message: "\(error)", &state)
            return
        }
        state.containers[name]?.image = image
        let sources = ContainerEnvironment.Sources(
            configMap: { self.object("configmaps", pod.namespace, $0) }, secret: { self.object("secrets", pod.namespace, $0) },
            services: context.store.list(ObjectScope(resource: "services", namespace: pod.namespace)).items.map(\.value),
            masterService: object("services", "default", "kubernetes"))
        let variables: [String]
        do {
            variables = try ContainerEnvironment.variables(pod: pod, container: container, sources: sources)
        } catch {
            context.events.record(pod, type: "Warning", reason: "Failed", message: "Error: \(error.message)", fieldPath: path)
            waitAndRetry(name, reason: "CreateContainerConfigError", message: error.message, &state)
            return
        }
        let args = ContainerEnvironment.commandLine(container: container, imageEntrypoint: image.entrypoint, imageCmd: image.cmd,
                                                    environment: image.env + variables)
        let limits = container[path: ["resources", "limits"]]
        let launch = ContainerLaunch(
            name: "k8s_\(name)_\(pod.name)_\(pod.namespace)_\(uid)_\(state.containers[name]?.restartCount ?? 0)",
            image: image, reference: reference, args: args, env: variables,
            workingDir: container["workingDir"]?.stringValue ?? image.workingDir,
            user: container[path: ["securityContext", "runAsUser"]]?.intValue.map(String.init) ?? image.user,
            tty: container["tty"]?.boolValue ?? false, stdin: container["stdin"]?.boolValue ?? false,
            stdinOnce: container["stdinOnce"]?.boolValue ?? false, sandboxID: sandbox.id,
            mounts: PodVolumes.mounts(container: container, volumes: state.volumes ?? [:]),
            memoryLimit: limits?["memory"].map(Quantity.bytes) ?? 0, milliCPULimit: limits?["cpu"].map(Quantity.milliCPU) ?? 0,
            milliCPURequest: (container[path: ["resources", "requests", "cpu"]] ?? limits?["cpu"]).map(Quantity.milliCPU) ?? 0,
            labels: ["io.kubernetes.pod.name": pod.name, "io.kubernetes.pod.namespace": pod.namespace,
                     "io.kubernetes.pod.uid": uid, "io.kubernetes.container.name": name])
        let id: String
        do {
            id = try await runtime.createContainer(launch)
        } catch {
            context.events.record(pod, type: "Warning", reason: "Failed", message: "Error: \(error)", fieldPath: path)
            waitAndRetry(name, reason: "CreateContainerError", message: "\(error)", &state)
            return
        }
        state.containers[name]?.id = id
        state.containers[name]?.waiting = nil
        context.events.record(pod, reason: "Created", message: "Created container \(name)", fieldPath: path)
        do {
            try await runtime.startContainer(id)
            context.events.record(pod, reason: "Started", message: "Started container \(name)", fieldPath: path)
        } catch {
            context.events.record(pod, type: "Warning", reason: "Failed", message: "Error: failed to start container \"\(name)\": \(error)", fieldPath: path)
        }
        watch(id, state: &state)
        if !isInit { startProbes(container, id: id, pod: pod, podIP: state.sandbox?.ip) }
    }

    /// The container stays waiting with `reason`; the next attempt comes after the back-off.
    func waitAndRetry(_ name: String, reason: String, message: String, _ state: inout State) {
        let key = "start/\(name)"
        let now = ContinuousClock.now
        state.backoff.next(key, now: now)
        state.containers[name]?.waiting = (reason, message)
        state.containers[name]?.exitedAt = now
        wake(&state, after: state.backoff.delay(key))
    }

    /// Kicks the worker when the container exits.
    func watch(_ id: String, state: inout State) {
        guard state.watched.insert(id).inserted else { return }
        let runtime = self.runtime
        Task { [weak self] in
            await runtime.waitForExit(id)
            self?.kick()
        }
    }

    // MARK: probes

    func startProbes(_ container: OrderedJSON, id: String, pod: OrderedJSON, podIP: String?) {
        let name = container["name"]?.stringValue ?? ""
        let readiness = container["readinessProbe"]
        let liveness = container["livenessProbe"]
        let startup = container["startupProbe"]
        probes.withLock { $0[name] = ProbeState(ready: readiness == nil && startup == nil, started: startup == nil) }
        guard readiness != nil || liveness != nil || startup != nil else { return }
        let runner = ProbeRunner(runtime: runtime)
        Task { [weak self] in
            guard let self else { return }
            var started = startup == nil
            var counts: [String: (success: Int, failure: Int)] = [:]
            var lastRun: [String: ContinuousClock.Instant] = [:]
            let began = ContinuousClock.now
            while let observed = self.runtime.state(id), observed.running, !Task.isCancelled {
                for (kind, probe) in [("startup", startup), ("liveness", liveness), ("readiness", readiness)] {
                    guard let probe else { continue }
                    if kind == "startup" && started { continue }
                    if kind != "startup" && !started { continue }
                    let initialDelay = Duration.seconds(probe["initialDelaySeconds"]?.intValue ?? 0)
                    let period = Duration.seconds(max(1, probe["periodSeconds"]?.intValue ?? 10))
                    guard ContinuousClock.now - began >= initialDelay else { continue }
                    if let last = lastRun[kind], ContinuousClock.now - last < period { continue }
                    lastRun[kind] = .now
                    let result = await runner.run(probe, container: container, containerID: id, podIP: podIP)
                    var count = counts[kind] ?? (0, 0)
                    switch result {
                    case .success: count = (count.success + 1, 0)
                    case .failure: count = (0, count.failure + 1)
                    }
                    counts[kind] = count
                    let successNeeded = Int(probe["successThreshold"]?.intValue ?? 1)
                    let failureLimit = Int(probe["failureThreshold"]?.intValue ?? 3)
                    if case .failure(let message) = result, let pod = self.currentPod() {
                        let label = kind.prefix(1).uppercased() + kind.dropFirst()
                        self.context.events.record(pod, type: "Warning", reason: "Unhealthy", message: "\(label) probe failed: \(message)",
                                                   fieldPath: "spec.containers{\(name)}")
                    }
                    switch kind {
                    case "startup":
                        if count.success >= successNeeded {
                            started = true
                            self.setProbe(name) { $0.started = true; if readiness == nil { $0.ready = true } }
                        } else if count.failure >= failureLimit {
                            await self.killUnhealthy(name, id: id, why: "failed startup probe", probe: probe, pod: pod)
                            return
                        }
                    case "liveness":
                        if count.failure >= failureLimit {
                            await self.killUnhealthy(name, id: id, why: "failed liveness probe", probe: probe, pod: pod)
                            return
                        }
                    default:
                        if count.success >= successNeeded { self.setProbe(name) { $0.ready = true } }
                        if count.failure >= failureLimit { self.setProbe(name) { $0.ready = false } }
                    }
                }
                try? await Task.sleep(for: .milliseconds(200))
            }
        }
    }

    func setProbe(_ name: String, _ change: (inout ProbeState) -> Void) {
        let changed = probes.withLock { states -> Bool in
            var state = states[name] ?? ProbeState()
            let before = state
            change(&state)
            states[name] = state
            return state != before
        }
        if changed { kick() }
    }

    func killUnhealthy(_ name: String, id: String, why: String, probe: OrderedJSON, pod: OrderedJSON) async {
        context.events.record(pod, reason: "Killing", message: "Container \(name) \(why), will be restarted", fieldPath: "spec.containers{\(name)}")
        let grace = Int(probe["terminationGracePeriodSeconds"]?.intValue ?? pod[path: ["spec", "terminationGracePeriodSeconds"]]?.intValue ?? 30)
        await runtime.stopContainer(id, gracePeriod: grace)
    }

    // MARK: status

    func views(_ pod: OrderedJSON, _ state: State, init isInit: Bool, initialized: Bool) -> [ContainerView] {
        let specs = pod[path: ["spec", isInit ? "initContainers" : "containers"]]?.arrayValue ?? []
        let probeStates = probes.withLock { $0 }
        return specs.map { container in
            let name = container["name"]?.stringValue ?? ""
            let reference = container["image"]?.stringValue ?? ""
            let tracked = state.containers[name] ?? Tracked()
            var view = ContainerView(name: name, state: .waiting(reason: isInit || initialized ? "ContainerCreating" : "PodInitializing", message: nil),
                                     lastState: tracked.lastTerminated, restartCount: tracked.restartCount,
                                     image: reference, imageID: tracked.image?.imageID ?? "",
                                     containerID: tracked.id.map { "onekube://\($0)" } ?? nil)
            if let waiting = tracked.waiting {
                view.state = .waiting(reason: waiting.reason, message: waiting.message)
                view.containerID = nil
            } else if let id = tracked.id, let observed = runtime.state(id) {
                if observed.running {
                    view.state = .running(startedAt: observed.startedAt ?? Date())
                    let probe = probeStates[name] ?? ProbeState(ready: true, started: true)
                    view.started = probe.started
                    view.ready = !isInit && probe.ready
                } else if observed.startedAt != nil || observed.finishedAt != nil {
                    view.state = terminated(observed, id: id)
                }
            }
            return view
        }
    }

    /// Writes the status if it changed.
    func publish(_ pod: OrderedJSON, _ state: inout State) {
        guard let pods = Self.pods else { return }
        let initViews = views(pod, state, init: true, initialized: false)
        let initialized = PodStatusBuilder.initialized(initViews)
        let input = PodStatusBuilder.Input(sandboxReady: state.sandbox != nil, podIP: state.sandbox?.ip, hostIP: context.hostIP,
                                           initContainers: initViews, containers: views(pod, state, init: false, initialized: initialized),
                                           startTime: state.startTime)
        guard let current = currentPod() else { return }
        let status = PodStatusBuilder.status(pod: current, input: input)
        guard status != state.lastStatus else { return }
        do {
            _ = try context.registry.replace(pods, namespace: pod.namespace, name: pod.name, expectedRevision: nil, statusOnly: true) { value in
                guard value.uid == self.uid else { return value }
                var next = value
                next["status"] = status
                return next
            }
            state.lastStatus = status
        } catch {
            context.logger.debug("pod status not written", metadata: ["pod": "\(pod.namespace)/\(pod.name)", "error": "\(error)"])
        }
    }

    // MARK: ending

    func teardown(_ state: inout State, pod: OrderedJSON?, grace: Int) async {
        await withTaskGroup(of: Void.self) { group in
            for (name, tracked) in state.containers {
                guard let id = tracked.id else { continue }
                if let pod, runtime.state(id)?.running == true {
                    context.events.record(pod, reason: "Killing", message: "Stopping container \(name)", fieldPath: fieldPath(name, pod))
                }
                let runtime = self.runtime
                group.addTask { await runtime.stopContainer(id, gracePeriod: grace) }
            }
        }
        for tracked in state.containers.values {
            for id in [tracked.id, tracked.previousID].compactMap({ $0 }) { await runtime.removeContainer(id) }
        }
        state.containers = [:]
        if let sandbox = state.sandbox { await runtime.stopSandbox(sandbox.id) }
        state.sandbox = nil
        PodVolumes(podsDirectory: context.podsDirectory, uid: uid).remove()
    }

    /// The last step of a graceful deletion: the object goes, which `kubectl delete` waits for.
    func remove(_ pod: OrderedJSON) {
        guard let pods = Self.pods, let stored = context.store.get(key), stored.value.uid == uid, stored.value.finalizers.isEmpty else { return }
        do {
            _ = try context.registry.removeNow(pods, stored)
        } catch {
            context.logger.debug("could not remove terminated pod", metadata: ["pod": "\(pod.name)", "error": "\(error)"])
        }
    }
}
