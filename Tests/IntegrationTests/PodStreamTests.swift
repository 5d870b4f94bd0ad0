import Foundation
import TestSupport
import Testing

/// `kubectl exec`, `attach` and `port-forward` into pods that really run: WebSocket for
/// kubectl 1.30+, SPDY/3.1 for older builds and as the fallback, port-forward as SPDY either
/// tunnelled in a WebSocket or on its own.
@Suite("Streams into pods: exec, attach, port-forward")
struct PodStreamTests {
    /// A daemon with one running `kubia` pod (busybox httpd on 8080).
    static func kubia() throws -> (ContainerRegistry, OnekubeInstance) {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.kubectl(["run", "kubia", "--image=luksa/kubia", "--port=8080"]).status == 0)
        try waitForPhase(onekube, "kubia", "Running")
        return (images, onekube)
    }

    static func waitForPhase(_ onekube: OnekubeInstance, _ pod: String, _ phase: String) throws {
        try waitUntil(timeout: 60, "pod \(pod) is \(phase)") {
            try onekube.kubectl(["get", "pod", pod, "-o", "jsonpath={.status.phase}"]).stdout == phase
        }
    }

    /// The kubectl build for `minor` (`kubectl.1.29`), beside the dispatcher.
    static func build(_ minor: Int) throws -> String {
        guard let path = KubectlBuilds.all.first(where: { $0.hasSuffix("kubectl.1.\(minor)") }) else {
            throw TestFailure("no kubectl 1.\(minor) beside kubectl: \(KubectlBuilds.all)")
        }
        return path
    }

    /// kubectl 1.32 over WebSocket, the same over SPDY, and 1.27 and 1.29 (SPDY only for exec).
    static func execClients() throws -> [(name: String, binary: String, environment: [String: String])] {
        [("1.32 websocket", "kubectl", [:]),
         ("1.32 spdy", "kubectl", ["KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"]),
         ("1.27", try build(27), [:]), ("1.29", try build(29), [:])]
    }

    @Test func execRunsCommandsWithTheirOutputStdinAndExitCode() throws {
        let (_, onekube) = try Self.kubia()
        for client in try Self.execClients() {
            let run = { (arguments: [String], stdin: String?) in
                try onekube.kubectl(arguments, binary: client.binary, stdin: stdin, environment: client.environment)
            }
            let hi = try run(["exec", "kubia", "--", "echo", "hi"], nil)
            #expect(hi.status == 0 && hi.stdout == "hi\n", "\(client.name): \(hi)\n\(onekube.daemonLog.suffix(3000))")
            let split = try run(["exec", "kubia", "--", "sh", "-c", "echo out; echo err >&2"], nil)
            #expect(split.stdout == "out\n" && split.stderr.contains("err\n"), "\(client.name): \(split)")
            let failed = try run(["exec", "kubia", "--", "sh", "-c", "exit 3"], nil)
            #expect(failed.status == 3 && failed.stderr.contains("command terminated with exit code 3"), "\(client.name): \(failed)")
            let piped = try run(["exec", "-i", "kubia", "--", "cat"], "x\ny\n")
            #expect(piped.status == 0 && piped.stdout == "x\ny\n", "\(client.name): \(piped)")
            let hostname = try run(["exec", "kubia", "--", "hostname"], nil)
            #expect(hostname.stdout == "kubia\n", "\(client.name): \(hostname)")
        }
    }

    @Test func execOnATerminalIsAShellInThePod() throws {
        let (_, onekube) = try Self.kubia()
        for client in try Self.execClients() {
            var environment = client.environment
            environment["KUBECONFIG"] = onekube.kubeconfigPath
            environment["HOME"] = onekube.scratchDirectory
            let session = try runOnTerminal([client.binary, "--cache-dir", onekube.scratchDirectory + "/kube-cache", "exec", "-it", "kubia", "--", "sh"],
                                            environment: environment, rows: 40, columns: 120, script: [
                ("# ", "hostname; stty size; tty\r"),
                ("/dev/pts/", "exit 7\r"),
            ])
            #expect(session.status == 7, "\(client.name): \(session.output)")
            #expect(session.output.contains("kubia\r\n40 120\r\n/dev/pts/"), "\(client.name): \(session.output)")
        }
    }
}
