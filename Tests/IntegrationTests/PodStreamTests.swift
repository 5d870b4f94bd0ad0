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
        do {
            try waitUntil(timeout: 60, "pod \(pod) is \(phase)") {
                try onekube.kubectl(["get", "pod", pod, "-o", "jsonpath={.status.phase}"]).stdout == phase
            }
        } catch {
            throw TestFailure("\(error): \((try? onekube.kubectl(["describe", "pod", pod]).stdout) ?? "")")
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
    static func execClients() throws -> [(name: String, binary: String, environment: [String: String], transport: String)] {
        [("1.32 websocket", "kubectl", [:], "websocket v5.channel.k8s.io"),
         ("1.32 spdy", "kubectl", ["KUBECTL_REMOTE_COMMAND_WEBSOCKETS": "false"], "spdy v4.channel.k8s.io"),
         ("1.27", try build(27), [:], "spdy v4.channel.k8s.io"), ("1.29", try build(29), [:], "spdy v4.channel.k8s.io")]
    }

    /// The transport of the daemon's last logged `exec`/`portforward` session.
    static func lastTransport(_ onekube: OnekubeInstance, _ kind: String) -> String? {
        guard let line = onekube.daemonLog.split(separator: "\n").last(where: { $0.hasSuffix("] \(kind) session") }),
              let start = line.range(of: "transport=") else { return nil }
        let rest = line[start.upperBound...]
        let end = rest.range(of: " tty=") ?? rest.range(of: " [")
        return end.map { String(rest[..<$0.lowerBound]) }
    }

    @Test func execRunsCommandsWithTheirOutputStdinAndExitCode() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
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
            // A megabyte each way: more than any flow-control window.
            let upload = String(repeating: "0123456789abcdef", count: 65536)
            let counted = try run(["exec", "-i", "kubia", "--", "wc", "-c"], upload)
            #expect(counted.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1048576", "\(client.name): \(counted.stderr)")
            let download = try run(["exec", "kubia", "--", "sh", "-c", "yes 0123456789abcdef | head -c 1048576"], nil)
            #expect(download.stdout.utf8.count == 1048576, "\(client.name): \(download.stdout.utf8.count) bytes, \(download.stderr)")
            let hostname = try run(["exec", "kubia", "--", "hostname"], nil)
            #expect(hostname.stdout == "kubia\n", "\(client.name): \(hostname)")
            #expect(Self.lastTransport(onekube, "exec") == client.transport, "\(client.name)")
        }
    }

    @Test func execOnATerminalIsAShellInThePod() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
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

extension PodStreamTests {
    /// `kubectl port-forward POD LOCAL:8080` in the background, two curls through it, then stop it.
    static func portForward(_ onekube: OnekubeInstance, binary: String, environment: [String: String]) throws -> ProcessResult {
        let port = try freePort()
        var env = environment
        env["KUBECONFIG"] = onekube.kubeconfigPath
        env["HOME"] = onekube.scratchDirectory
        let script = """
            out="$1/pf-\(port)"
            "$0" --cache-dir "$1" port-forward kubia \(port):8080 >"$out.out" 2>"$out.err" & pid=$!
            for i in $(seq 200); do grep -q Forwarding "$out.out" 2>/dev/null && break; sleep 0.1; done
            curl -s --max-time 5 127.0.0.1:\(port); curl -s --max-time 5 127.0.0.1:\(port)
            curl -s --max-time 10 127.0.0.1:\(port)/big | wc -c >"$out.big"
            kill $pid; wait $pid 2>/dev/null
            cat "$out.out" "$out.err" >&2; echo "big: $(cat "$out.big")" >&2
            """
        return try Run.program("sh", ["-c", script, binary, onekube.scratchDirectory], environment: env)
    }

    @Test func portForwardReachesThePodsPort() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
        // A big file, to see more than flow-control windows through the forward.
        #expect(try onekube.kubectl(["exec", "kubia", "--", "sh", "-c", "yes 0123456789abcdef | head -c 3000000 > /www/big"]).status == 0)
        let clients: [(String, String, [String: String], String)] = [
            ("1.32 websocket tunnel", "kubectl", [:], "websocket SPDY/3.1+portforward.k8s.io"),
            ("1.32 spdy", "kubectl", ["KUBECTL_PORT_FORWARD_WEBSOCKETS": "false"], "spdy portforward.k8s.io"),
            ("1.29", try Self.build(29), [:], "spdy portforward.k8s.io"),
        ]
        for (name, binary, environment, transport) in clients {
            let result = try Self.portForward(onekube, binary: binary, environment: environment)
            #expect(result.stdout == "You've hit kubia\nYou've hit kubia\n", "\(name): \(result)\n\(onekube.daemonLog.suffix(3000))")
            #expect(result.stderr.contains("Forwarding from 127.0.0.1:"), "\(name): \(result)")
            #expect(result.stderr.contains("Handling connection for"), "\(name): \(result)")
            #expect(result.stderr.contains("big: 3000000"), "\(name): \(result)")
            #expect(Self.lastTransport(onekube, "portforward") == transport, "\(name)")
        }
    }

    @Test func everyKubectlBuildExecsAndForwards() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
        #expect(try onekube.kubectl(["exec", "kubia", "--", "sh", "-c", "echo tiny > /www/big"]).status == 0)
        let builds = KubectlBuilds.all
        #expect(builds.count >= 7, "\(builds)")
        for build in builds {
            let hi = try onekube.kubectl(["exec", "kubia", "--", "echo", "hi"], binary: build)
            #expect(hi.status == 0 && hi.stdout == "hi\n", "\(build): \(hi)")
            let forwarded = try Self.portForward(onekube, binary: build, environment: [:])
            #expect(forwarded.stdout == "You've hit kubia\nYou've hit kubia\n", "\(build): \(forwarded)")
        }
    }

    @Test func attachJoinsTheContainersOwnStdio() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let pod = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: talker
            spec:
              restartPolicy: Never
              containers:
              - name: talker
                image: busybox
                command: ["sh", "-c", "echo ready; read line; echo got $line; echo bye >&2"]
                stdin: true
                stdinOnce: true
            """
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: pod).status == 0)
        try Self.waitForPhase(onekube, "talker", "Running")
        let attached = try onekube.kubectl(["attach", "-i", "talker"], stdin: "hello\n")
        #expect(attached.status == 0, "\(attached)\n\(onekube.daemonLog.suffix(3000))")
        #expect(attached.stdout.contains("got hello\n"), "\(attached)")
        #expect(attached.stderr.contains("bye"), "\(attached)")
        try Self.waitForPhase(onekube, "talker", "Succeeded")

        // Without stdin: the output as it comes, until kubectl is stopped.
        #expect(try onekube.kubectl(["run", "ticker", "--image=busybox", "--", "sh", "-c", "while true; do echo tick; sleep 0.2; done"]).status == 0)
        try Self.waitForPhase(onekube, "ticker", "Running")
        for (name, binary, environment) in [("1.32", "kubectl", [String: String]()), ("1.29", try Self.build(29), [:])] {
            var env = environment
            env["KUBECONFIG"] = onekube.kubeconfigPath
            env["HOME"] = onekube.scratchDirectory
            let watched = try Run.program("timeout", ["3", binary, "--cache-dir", onekube.scratchDirectory + "/kube-cache", "attach", "ticker"],
                                          environment: env)
            #expect(watched.stdout.hasPrefix("tick\ntick\n"), "\(name): \(watched)")
        }
    }

    @Test func copyGoesThroughExec() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
        // kubectl cp runs tar in the container; the test image links only some busybox applets.
        #expect(try onekube.kubectl(["exec", "kubia", "--", "sh", "-c", "ln /bin/busybox /bin/tar"]).status == 0)
        let local = onekube.scratchDirectory + "/note.txt"
        try "a note\n".write(toFile: local, atomically: true, encoding: .utf8)
        let into = try onekube.kubectl(["cp", local, "kubia:/tmp/note.txt"])
        #expect(into.status == 0, "\(into)")
        #expect(try onekube.kubectl(["exec", "kubia", "--", "cat", "/tmp/note.txt"]).stdout == "a note\n")
        let back = try onekube.kubectl(["cp", "kubia:/tmp/note.txt", onekube.scratchDirectory + "/back.txt"])
        #expect(back.status == 0, "\(back)")
        #expect((try? String(contentsOfFile: onekube.scratchDirectory + "/back.txt", encoding: .utf8)) == "a note\n")
    }

    @Test func thePythonClientExecs() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
        // Debian's python3-kubernetes lives in the system interpreter's path.
        let result = try Run.program("/usr/bin/python3", [Fixtures.path("k8s_exec_check.py"), onekube.kubeconfigPath])
        #expect(result.status == 0 && result.stdout.hasSuffix("stdin got py exit 4\nOK\n"), "\(result)")
    }

    @Test func attachOnATerminal() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let pod = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: shell
            spec:
              restartPolicy: Never
              containers:
              - name: shell
                image: busybox
                command: ["sh"]
                stdin: true
                tty: true
            """
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: pod).status == 0)
        try Self.waitForPhase(onekube, "shell", "Running")
        // kubectl attach drops what is typed before it has set up the terminal, so this types
        // after pauses rather than on cue.
        let typist = """
            import os, pty, select, sys, time
            pid, fd = pty.fork()
            if pid == 0:
                os.execvp(sys.argv[1], sys.argv[1:])
            import fcntl, struct, termios
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 33, 99, 0, 0))
            out = b""
            def pump(seconds):
                global out
                end = time.time() + seconds
                while time.time() < end:
                    if select.select([fd], [], [], 0.05)[0]:
                        try:
                            out += os.read(fd, 65536)
                        except OSError:
                            return
            pump(3); os.write(fd, b"hostname; stty size\\r"); pump(2); os.write(fd, b"exit 3\\r"); pump(5)
            sys.stdout.write(out.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
            """
        let environment = ["KUBECONFIG": onekube.kubeconfigPath, "HOME": onekube.scratchDirectory]
        let session = try Run.program("timeout", ["60", "python3", "-c", typist, "kubectl", "--cache-dir", onekube.scratchDirectory + "/kube-cache",
                                                  "attach", "-it", "shell"], environment: environment)
        #expect(session.status == 0 && session.stdout.contains("shell\r\n33 99\r\n"), "\(session)\n\(onekube.daemonLog.suffix(2000))")
        try Self.waitForPhase(onekube, "shell", "Failed")
        withExtendedLifetime(images) {}
    }

    @Test func errorsAreWordedAsKubernetesWordsThem() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
        let missing = try onekube.kubectl(["exec", "nope", "--", "true"])
        #expect(missing.status == 1 && missing.stderr.contains(#"Error from server (NotFound): pods "nope" not found"#), "\(missing)")
        let container = try onekube.kubectl(["exec", "kubia", "-c", "nope", "--", "true"])
        #expect(container.status == 1 && container.stderr.contains("container nope is not valid for pod kubia"), "\(container)")
        let notFound = try onekube.kubectl(["exec", "kubia", "--", "nosuchcommand"])
        #expect(notFound.status == 1 && notFound.stderr.contains("error: Internal error occurred: error executing command in container: ")
                && notFound.stderr.contains(#"exec: "nosuchcommand": executable file not found in $PATH"#), "\(notFound)")

        // A pod no node can take stays unscheduled.
        let pending = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: homeless
            spec:
              nodeSelector:
                nowhere: "true"
              containers:
              - name: app
                image: busybox
            """
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: pending).status == 0)
        let unscheduled = try onekube.kubectl(["exec", "homeless", "--", "true"])
        #expect(unscheduled.status == 1 && unscheduled.stderr.contains("Error from server (BadRequest): pod homeless does not have a host assigned"),
                "\(unscheduled)")
        let forward = try onekube.kubectl(["port-forward", "homeless", "18888:8080"])
        #expect(forward.status == 1 && forward.stderr.contains("pod is not running"), "\(forward)")

        // A container between restarts: the kubelet's words, which kubectl shows as they come.
        #expect(try onekube.kubectl(["run", "crasher", "--image=busybox", "--", "sh", "-c", "exit 1"]).status == 0)
        try waitUntil(timeout: 60, "crasher backs off") {
            try onekube.kubectl(["get", "pod", "crasher", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"]).stdout == "CrashLoopBackOff"
        }
        let between = try onekube.kubectl(["exec", "crasher", "--", "true"])
        #expect(between.status == 1 && between.stderr.contains(#"error: unable to upgrade connection: container not found ("crasher")"#), "\(between)")

        // A finished pod: kubectl refuses before asking.
        #expect(try onekube.kubectl(["run", "done", "--image=busybox", "--restart=Never", "--", "true"]).status == 0)
        try Self.waitForPhase(onekube, "done", "Succeeded")
        let completed = try onekube.kubectl(["exec", "done", "--", "true"])
        #expect(completed.stderr.contains("cannot exec into a container in a completed pod; current phase is Succeeded"), "\(completed)")

        // Nothing listens on the port: the error stream says so and kubectl reports it.
        let port = try freePort()
        var env = ["KUBECONFIG": onekube.kubeconfigPath, "HOME": onekube.scratchDirectory]
        env["PF_PORT"] = String(port)
        let refused = try Run.program("sh", ["-c", """
            out="$0/pf-$PF_PORT"
            kubectl --cache-dir "$0/kube-cache" port-forward kubia $PF_PORT:9999 >"$out.out" 2>"$out.err" & pid=$!
            for i in $(seq 200); do grep -q Forwarding "$out.out" 2>/dev/null && break; sleep 0.1; done
            curl -s --max-time 5 127.0.0.1:$PF_PORT; sleep 1; kill $pid 2>/dev/null; wait $pid 2>/dev/null
            cat "$out.err" >&2
            """, onekube.scratchDirectory], environment: env)
        #expect(refused.stderr.contains("error forwarding port 9999 to pod kubia"), "\(refused)")
    }
}

@Suite("kubectl auth can-i")
struct AccessReviewTests {
    @Test func theAdminMayDoAnything() throws {
        let onekube = try OnekubeInstance()
        for arguments in [["create", "pods"], ["delete", "nodes"], ["get", "pods", "--subresource=log"], ["create", "pods/exec"]] {
            let answer = try onekube.kubectl(["auth", "can-i"] + arguments)
            #expect(answer.status == 0 && answer.stdout == "yes\n", "\(arguments): \(answer)")
        }
    }
}
