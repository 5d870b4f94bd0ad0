import ContainerRuntime
import Foundation
import Glibc
import Logging
import Platform
import TestSupport
import Testing

/// The runtime driven directly (as the pod agent will): a sandbox, and containers that join it.
/// Root, and the built onekube binary for the helper modes.
@Suite("Pod sandboxes")
struct SandboxTests {
    @Test func containersOfAPodShareItsNetworkAndHostnameButNotTheirPIDs() async throws {
        let scratch = try TemporaryDirectory("onekube-sandbox")
        let root = try scratch.sub("busybox")
        try OCILayoutBuilder.busyboxRoot(at: root)
        let data = try scratch.sub("data")
        let network = try #require(IPv4Network("10.\(250 + getpid() % 4).\(getpid() % 200).0/28"))
        let configuration = RuntimeConfiguration(dataDirectory: data, bridge: "oks\(getpid() % 100000)", podCIDR: network,
                                                 helperExecutable: OnekubeInstance.binary)
        let runtime = try ContainerService(configuration: configuration, logger: Logger(label: "sandbox-test"))
        try runtime.prepare()

        let pod = try await runtime.startSandbox(name: "kubia-pod")
        let address = try #require(pod.address)
        #expect(network.contains(address) && address != network.gateway)

        func container(_ name: String, _ script: String) throws -> ContainerRecord {
            try runtime.create(name: name, configuration: ContainerConfiguration(
                image: "busybox", imageID: "sha256:test", layers: [root], args: ["sh", "-c", script], env: [],
                workingDir: "/", user: "", hostname: "", sandboxID: pod.id))
        }
        let web = try container("web", "mkdir -p /www; echo \"You've hit $(hostname)\" > /www/index.html; exec httpd -f -p 8080 -h /www")
        #expect(web.config.hostname == "kubia-pod")
        #expect(try await runtime.start("web"))
        let client = try container("client", "for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:8080/ && exit 0; sleep 0.2; done; exit 1")
        let (_, output) = try runtime.attach(client.id, streams: [.stdout, .stderr])
        #expect(try await runtime.start("client"))
        var text = ""
        for await chunk in output { text += String(decoding: chunk.bytes, as: UTF8.self) }
        #expect(try await runtime.wait("client", condition: .notRunning) == 0)
        #expect(text == "You've hit kubia-pod\n", "localhost is shared within the pod")

        let webPID = try runtime.inspect("web").state.pid
        #expect(webPID > 0)
        #expect(try runtime.inspect("web").state.ipAddress == address.description)
        #expect(try FileSystem.readLink("/proc/\(webPID)/ns/net") == FileSystem.readLink("/proc/\(pod.pid)/ns/net"))
        #expect(try FileSystem.readLink("/proc/\(webPID)/ns/uts") == FileSystem.readLink("/proc/\(pod.pid)/ns/uts"))
        #expect(try FileSystem.readLink("/proc/\(webPID)/ns/pid") != FileSystem.readLink("/proc/\(pod.pid)/ns/pid"))

        await #expect(throws: OnekubeError.self) { try await runtime.stopSandbox(pod.id) }
        try await runtime.remove("web", force: true)
        try await runtime.remove("client", force: false)
        try await runtime.stopSandbox(pod.id)
        #expect(!ProcessSpawner.isAlive(pod.pid))
        #expect(runtime.sandbox(pod.id) == nil)
        await runtime.shutdown()
        #expect(try Run.program("ip", ["link", "show", configuration.bridge]).status != 0)
    }
}
