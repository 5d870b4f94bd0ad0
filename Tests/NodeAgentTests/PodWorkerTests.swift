import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import SQLite
import Synchronization
import Testing
@testable import NodeAgent

/// A runtime that runs nothing: containers "run" until the test makes them exit.
final class FakeRuntime: PodRuntime, Sendable {
    struct Container {
        var launch: ContainerLaunch
        var state: RuntimeContainerState
        var stoppedWithGrace: Int?
    }
    let containers = Mutex<[String: Container]>([:])
    let sandboxes = Mutex<[String: String]>([:])
    let exits = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])
    let counter = Mutex(0)
    let missingImages: Set<String>

    init(missingImages: Set<String> = []) { self.missingImages = missingImages }

    func nextID(_ prefix: String) -> String { counter.withLock { $0 += 1; return "\(prefix)\($0)" } }

    func prepareImage(_ reference: String, policy: String, events: @escaping @Sendable (ImageEvent) -> Void) async throws -> RuntimeImage {
        if missingImages.contains(reference) { throw FakeError(message: "manifest unknown") }
        events(.alreadyPresent)
        return RuntimeImage(id: "sha256:abc", imageID: "docker.io/library/\(reference)@sha256:abc", entrypoint: ["/entry"], cmd: ["serve"],
                            env: ["PATH=/bin"], workingDir: "/", user: "")
    }

    func startSandbox(name: String, hostname: String) async throws -> RuntimeSandbox {
        let id = nextID("sandbox")
        sandboxes.withLock { $0[id] = hostname }
        return RuntimeSandbox(id: id, ip: "10.244.0.\(counter.withLock { $0 } + 10)")
    }

    func stopSandbox(_ id: String) async { sandboxes.withLock { _ = $0.removeValue(forKey: id) } }

    func createContainer(_ launch: ContainerLaunch) async throws -> String {
        let id = nextID("c")
        containers.withLock { $0[id] = Container(launch: launch, state: RuntimeContainerState(running: false, exitCode: 0, oomKilled: false, startedAt: nil, finishedAt: nil)) }
        return id
    }

    func startContainer(_ id: String) async throws {
        containers.withLock { $0[id]?.state = RuntimeContainerState(running: true, exitCode: 0, oomKilled: false, startedAt: Date(), finishedAt: nil) }
    }

    func stopContainer(_ id: String, gracePeriod: Int) async {
        containers.withLock { $0[id]?.stoppedWithGrace = gracePeriod }
        exit(id, code: 137)
    }

    func removeContainer(_ id: String) async { containers.withLock { _ = $0.removeValue(forKey: id) } }

    func state(_ id: String) -> RuntimeContainerState? { containers.withLock { $0[id]?.state } }

    func waitForExit(_ id: String) async {
        await withCheckedContinuation { continuation in
            let done = containers.withLock { $0[id]?.state.running != true }
            if done { continuation.resume() } else { exits.withLock { $0[id, default: []].append(continuation) } }
        }
    }

    func exec(_ id: String, command: [String], timeout: Duration) async -> (exitCode: Int32, output: String) { (0, "") }

    /// The test's hand: the container ends with `code`.
    func exit(_ id: String, code: Int32) {
        containers.withLock {
            guard $0[id]?.state.running == true else { return }
            $0[id]?.state.running = false
            $0[id]?.state.exitCode = code
            $0[id]?.state.finishedAt = Date()
        }
        for waiter in exits.withLock({ $0.removeValue(forKey: id) ?? [] }) { waiter.resume() }
    }

    func running(_ container: String) -> [String] {
        containers.withLock { $0.filter { $0.value.state.running && $0.value.launch.labels["io.kubernetes.container.name"] == container }.map(\.key) }
    }
}

struct FakeError: Error, CustomStringConvertible { let message: String; var description: String { message } }

@Suite("Pod workers on a fake runtime")
struct PodWorkerTests {
    let directory = NSTemporaryDirectory() + "onekube-agent-\(UUID().uuidString)"
    let registry: ObjectRegistry
    let pods = ResourceCatalog.find(kind: "Pod")!
    let runtime: FakeRuntime

    init() throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try ObjectStore(database: SQLiteDatabase(path: directory + "/state.db"), logger: Logger(label: "test"))
        registry = ObjectRegistry(store: store, allocator: ServiceAllocator(serviceCIDR: IPv4Network("10.96.0.0/12")!), logger: Logger(label: "test"))
        let namespaces = ResourceCatalog.find(kind: "Namespace")!
        _ = try registry.createObject(.object([("metadata", .object([("name", .string("default"))]))]), type: namespaces)
        runtime = FakeRuntime(missingImages: ["nowhere/nothing"])
    }

    func manager() -> PodManager {
        PodManager(context: NodeContext(registry: registry, runtime: runtime, nodeName: "onekube", hostIP: "10.88.0.1",
                                        podsDirectory: directory + "/pods", initialBackoff: .milliseconds(300), logger: Logger(label: "agent")))
    }

    func create(_ json: String) throws {
        var pod = try OrderedJSON(parsing: Array(json.utf8))
        pod[path: ["spec", "nodeName"]] = .string("onekube")
        pod[path: ["metadata", "namespace"]] = .string("default")
        _ = try registry.createObject(pod, type: pods)
    }

    func pod(_ name: String) -> OrderedJSON? { registry.store.get(ObjectKey(resource: "pods", namespace: "default", name: name))?.value }

    func wait(_ what: String, timeout: Double = 10, _ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("timed out waiting for \(what)")
        throw FakeError(message: what)
    }

    func status(_ name: String, _ path: String...) -> OrderedJSON? { pod(name)?[path: ["status"] + path] }

    @Test func aPodRunsRestartsWithBackoffAndIsDeletedGracefully() async throws {
        let agent = manager()
        let task = Task { try await agent.run() }
        defer { task.cancel() }
        try registry.store.create(ObjectKey(resource: "configmaps", namespace: "default", name: "settings"),
                                  try OrderedJSON(parsing: Array(#"{"metadata":{"name":"settings","namespace":"default"},"data":{"greeting":"hello"}}"#.utf8)))
        try create(#"{"metadata":{"name":"kubia"},"spec":{"terminationGracePeriodSeconds":7,"containers":[{"name":"kubia","image":"luksa/kubia","args":["--greet","$(GREETING)"],"env":[{"name":"GREETING","valueFrom":{"configMapKeyRef":{"name":"settings","key":"greeting"}}},{"name":"POD","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}]}]}}"#)
        try await wait("Running") { status("kubia", "phase")?.stringValue == "Running" }
        let launch = try #require(runtime.containers.withLock { $0.values.first?.launch })
        #expect(launch.args == ["/entry", "--greet", "hello"])
        #expect(launch.env.contains("GREETING=hello") && launch.env.contains("POD=kubia") && launch.env.contains("KUBERNETES_SERVICE_HOST=10.96.0.1") == false)
        #expect(runtime.sandboxes.withLock { Array($0.values) } == ["kubia"], "the hostname is the pod's name")
        try await wait("Ready") { (status("kubia", "conditions")?.arrayValue ?? []).contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" } }
        #expect(status("kubia", "podIP")?.stringValue?.hasPrefix("10.244.0.") == true)
        #expect(status("kubia", "hostIP")?.stringValue == "10.88.0.1")

        // First crash: restarted at once. Second: CrashLoopBackOff, then restarted after the back-off.
        runtime.exit(try #require(runtime.running("kubia").first), code: 1)
        try await wait("restart 1") { status("kubia", "containerStatuses")?.arrayValue?.first?["restartCount"]?.intValue == 1 && runtime.running("kubia").count == 1 }
        runtime.exit(try #require(runtime.running("kubia").first), code: 2)
        try await wait("CrashLoopBackOff") {
            status("kubia", "containerStatuses")?.arrayValue?.first?[path: ["state", "waiting", "reason"]]?.stringValue == "CrashLoopBackOff"
        }
        let waiting = try #require(status("kubia", "containerStatuses")?.arrayValue?.first)
        #expect(waiting[path: ["lastState", "terminated", "exitCode"]]?.intValue == 2)
        #expect(waiting[path: ["lastState", "terminated", "reason"]]?.stringValue == "Error")
        #expect(status("kubia", "phase")?.stringValue == "Running", "a container waiting to restart keeps the pod Running")
        try await wait("restart 2") { status("kubia", "containerStatuses")?.arrayValue?.first?["restartCount"]?.intValue == 2 && runtime.running("kubia").count == 1 }

        let stored = try #require(registry.store.get(ObjectKey(resource: "pods", namespace: "default", name: "kubia")))
        _ = try registry.deleteObject(pods, namespace: "default", name: "kubia", options: DeleteOptions())
        try await wait("the pod removed") { pod("kubia") == nil }
        #expect(runtime.containers.withLock { $0.isEmpty } && runtime.sandboxes.withLock { $0.isEmpty }, "nothing left behind")
        _ = stored
        // Events are written by the recorder in the background: wait for the last one.
        func reasons() -> Set<String> {
            Set(registry.store.list(ObjectScope(resource: "events", namespace: "default")).items.compactMap { $0.value["reason"]?.stringValue })
        }
        try await wait("the Killing event") { reasons().contains("Killing") }
        #expect(reasons().isSuperset(of: ["Pulled", "Created", "Started", "BackOff", "Killing"]), "\(reasons())")
    }

    @Test func podsThatEndReachTheirPhaseAndBadImagesWait() async throws {
        let agent = manager()
        let task = Task { try await agent.run() }
        defer { task.cancel() }
        try create(#"{"metadata":{"name":"once"},"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox","command":["true"]}]}}"#)
        try await wait("started") { runtime.running("c").count == 1 }
        #expect(runtime.containers.withLock { $0.values.first?.launch.args } == ["true"], "command replaces entrypoint and cmd")
        runtime.exit(try #require(runtime.running("c").first), code: 0)
        try await wait("Succeeded") { status("once", "phase")?.stringValue == "Succeeded" }
        #expect(status("once", "containerStatuses")?.arrayValue?.first?[path: ["state", "terminated", "reason"]]?.stringValue == "Completed")
        try await wait("the sandbox released") { runtime.sandboxes.withLock { $0.isEmpty } }

        try create(#"{"metadata":{"name":"lost"},"spec":{"containers":[{"name":"x","image":"nowhere/nothing"}]}}"#)
        try await wait("ErrImagePull") {
            ["ErrImagePull", "ImagePullBackOff"].contains(status("lost", "containerStatuses")?.arrayValue?.first?[path: ["state", "waiting", "reason"]]?.stringValue ?? "")
        }
        #expect(status("lost", "phase")?.stringValue == "Pending")
        try await wait("ImagePullBackOff") {
            status("lost", "containerStatuses")?.arrayValue?.first?[path: ["state", "waiting", "reason"]]?.stringValue == "ImagePullBackOff"
        }
    }
}
