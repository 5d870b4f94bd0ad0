import Foundation
import TestSupport
import Testing

/// `onekube kubectl exec` and `port-forward` against the real kubectl 1.32 on the same pods: the
/// same output, errors and exit codes.
@Suite("onekube's kubectl mode execs and forwards as kubectl does")
struct KubectlModeStreamTests {
    /// A daemon with a running `kubia` pod (busybox httpd on 8080) behind a Service `kubia` (80 → 8080).
    static func kubia() throws -> (ContainerRegistry, OnekubeInstance) {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.kubectl(["run", "kubia", "--image=luksa/kubia", "--port=8080"]).status == 0)
        #expect(try onekube.kubectl(["expose", "pod", "kubia", "--port=80", "--target-port=8080"]).status == 0)
        try waitForPhase(onekube, "kubia", "Running")
        return (images, onekube)
    }

    static func waitForPhase(_ onekube: OnekubeInstance, _ pod: String, _ phase: String) throws {
        try waitUntil(timeout: 60, "pod \(pod) is \(phase)") {
            try onekube.kubectl(["get", "pod", pod, "-o", "jsonpath={.status.phase}"]).stdout == phase
        }
    }

    static func ours(_ onekube: OnekubeInstance, _ arguments: [String], stdin: String? = nil) throws -> ProcessResult {
        try onekube.onekube(["kubectl"] + arguments, environment: ["KUBECONFIG": onekube.kubeconfigPath], stdin: stdin)
    }

    /// Both clients, one command: exit status, stdout and stderr must be the same (but for the
    /// runtime's exec IDs, new each time).
    static func compare(_ onekube: OnekubeInstance, _ arguments: [String], stdin: String? = nil,
                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let mine = try ours(onekube, arguments, stdin: stdin)
        let theirs = try onekube.kubectl(arguments, stdin: stdin)
        let withoutIDs = { (text: String) in text.replacingOccurrences(of: "[0-9a-f]{64}", with: "<id>", options: .regularExpression) }
        #expect(mine.status == theirs.status && mine.stdout == theirs.stdout && withoutIDs(mine.stderr) == withoutIDs(theirs.stderr),
                "kubectl \(arguments.joined(separator: " ")):\nonekube kubectl: \(mine)\nkubectl: \(theirs)", sourceLocation: sourceLocation)
    }

    @Test func execPrintsWhatKubectlPrints() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
        for command in [["exec", "kubia", "--", "echo", "hi"], ["exec", "kubia", "--", "sh", "-c", "echo out; echo err >&2"],
                        ["exec", "kubia", "--", "sh", "-c", "echo partial; exit 3"], ["exec", "kubia", "--", "false"],
                        ["exec", "pod/kubia", "-c", "kubia", "--", "hostname"], ["exec", "svc/kubia", "--", "hostname"],
                        ["exec", "kubia", "--", "sh", "-c", "echo \"$0 $1\"", "a b", "c&d=e"],
                        // Errors: a missing pod or container, a missing executable, no command.
                        ["exec", "nope", "--", "true"], ["exec", "kubia", "-c", "nope", "--", "true"],
                        ["exec", "kubia", "--", "nosuchcommand"], ["exec", "kubia"],
                        // A terminal asked for without stdin, or with a stdin that is no terminal.
                        ["exec", "-t", "kubia", "--", "echo", "hi"], ["exec", "-it", "kubia", "--", "echo", "hi"],
                        ["exec", "-n", "kube-system", "kubia", "--", "true"], ["exec", "deploy/nope", "--", "true"],
                        // The command before `--` is kubectl's retired form; a later `--` is the command's.
                        ["exec", "kubia", "echo", "hi"], ["exec", "kubia", "--", "echo", "--", "hi"], ["exec"]] {
            try Self.compare(onekube, command)
        }
        let failed = try Self.ours(onekube, ["exec", "kubia", "--", "sh", "-c", "exit 42"])
        #expect(failed.status == 42 && failed.stderr == "command terminated with exit code 42\n", "\(failed)")

        // Several containers: the first one, said aloud; the annotation's, silently.
        let pair = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: pair
            spec:
              terminationGracePeriodSeconds: 1
              initContainers:
              - {name: setup, image: busybox, command: ["true"]}
              containers:
              - {name: first, image: busybox, command: ["sleep", "600"]}
              - {name: second, image: busybox, command: ["sleep", "600"]}
            """
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: pair).status == 0)
        try Self.waitForPhase(onekube, "pair", "Running")
        try Self.compare(onekube, ["exec", "pair", "--", "true"])
        #expect(try Self.ours(onekube, ["exec", "pair", "--", "true"]).stderr == "Defaulted container \"first\" out of: first, second, setup (init)\n")
        try Self.compare(onekube, ["exec", "pair", "-q", "--", "true"])
        #expect(try onekube.kubectl(["annotate", "pod", "pair", "kubectl.kubernetes.io/default-container=second"]).status == 0)
        try Self.compare(onekube, ["exec", "pair", "--", "true"])

        // A Deployment stands for its pod (its selector is a LabelSelector).
        #expect(try onekube.kubectl(["create", "deployment", "sleeper", "--image=busybox", "--", "sleep", "600"]).status == 0)
        try waitUntil(timeout: 60, "the sleeper runs") {
            try onekube.kubectl(["get", "pods", "-l", "app=sleeper", "-o", "jsonpath={.items[*].status.phase}"]).stdout == "Running"
        }
        try Self.compare(onekube, ["exec", "deploy/sleeper", "--", "hostname"])
        #expect(try Self.ours(onekube, ["exec", "deployment.apps/sleeper", "--", "hostname"]).stdout.hasPrefix("sleeper-"))

        // A container between restarts: the kubelet's plain-text refusal.
        #expect(try onekube.kubectl(["run", "crasher", "--image=busybox", "--", "sh", "-c", "exit 1"]).status == 0)
        try waitUntil(timeout: 60, "crasher backs off") {
            try onekube.kubectl(["get", "pod", "crasher", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"]).stdout == "CrashLoopBackOff"
        }
        try Self.compare(onekube, ["exec", "crasher", "--", "true"])
        let between = try Self.ours(onekube, ["exec", "crasher", "--", "true"])
        #expect(between.status == 1 && between.stderr == "error: unable to upgrade connection: container not found (\"crasher\")\n", "\(between)")

        // A finished pod: refused before any upgrade.
        #expect(try onekube.kubectl(["run", "done", "--image=busybox", "--restart=Never", "--", "true"]).status == 0)
        try Self.waitForPhase(onekube, "done", "Succeeded")
        try Self.compare(onekube, ["exec", "done", "--", "true"])

        // A pod no node takes: the API server refuses the upgrade.
        let homeless = """
            apiVersion: v1
            kind: Pod
            metadata:
              name: homeless
            spec:
              nodeSelector: {nowhere: "true"}
              containers:
              - {name: app, image: busybox}
            """
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: homeless).status == 0)
        try Self.compare(onekube, ["exec", "homeless", "--", "true"])
        try Self.compare(onekube, ["port-forward", "homeless", "18888:8080"])
    }

    @Test func execPipesStdinAndEndsIt() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
        let echoed = try Run.program("sh", ["-c", "echo hi | \"$0\" kubectl exec -i kubia -- cat", OnekubeInstance.binary],
                                     environment: ["KUBECONFIG": onekube.kubeconfigPath])
        #expect(echoed.status == 0 && echoed.stdout == "hi\n" && echoed.stderr.isEmpty, "\(echoed)")
        // The command ends before its endless stdin does: the session ends with it.
        let endless = try Run.program("timeout", ["30", "sh", "-c", "yes | \"$0\" kubectl exec -i kubia -- head -2", OnekubeInstance.binary],
                                      environment: ["KUBECONFIG": onekube.kubeconfigPath])
        #expect(endless.status == 0 && endless.stdout == "y\ny\n", "\(endless)")
        try Self.compare(onekube, ["exec", "-i", "kubia", "--", "sh", "-c", "cat; echo done >&2"], stdin: "x\ny\n")
        try Self.compare(onekube, ["exec", "-i", "kubia", "--", "sh", "-c", "read a; exit $a"], stdin: "5\n")
        // A megabyte each way: many frames, and stdin's end only after all of them.
        let upload = String(repeating: "0123456789abcdef", count: 65536)
        let counted = try Self.ours(onekube, ["exec", "-i", "kubia", "--", "wc", "-c"], stdin: upload)
        #expect(counted.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1048576", "\(counted.stderr)")
        let download = try Self.ours(onekube, ["exec", "kubia", "--", "sh", "-c", "yes 0123456789abcdef | head -c 1048576"])
        #expect(download.status == 0 && download.stdout.utf8.count == 1048576, "\(download.stdout.utf8.count) bytes, \(download.stderr)")
    }

    /// `attach` joins a container's own stdio: each form, run by both clients on twin pods (an
    /// attach ends the container it feeds), prints the same; and both refuse the same way.
    @Test func attachPrintsWhatKubectlPrints() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
        func talker(_ name: String) -> String {
            """
            apiVersion: v1
            kind: Pod
            metadata:
              name: \(name)
            spec:
              restartPolicy: Never
              containers:
              - name: talker
                image: busybox
                command: ["sh", "-c", "read line; echo got $line; echo bye >&2"]
                stdin: true
                stdinOnce: true
            """
        }
        let forms: [(String) -> [String]] = [
            { ["attach", "-i", $0] }, { ["attach", "-i", "-q", $0] }, { ["attach", "-it", $0] },
            { ["attach", "-i", "pod/\($0)"] }, { ["attach", "-i", "pods", $0, "-c", "talker"] },
        ]
        for (index, form) in forms.enumerated() {
            let (mine, theirs) = ("ours-\(index)", "theirs-\(index)")
            for name in [mine, theirs] { #expect(try onekube.kubectl(["create", "-f", "-"], stdin: talker(name)).status == 0) }
            for name in [mine, theirs] { try Self.waitForPhase(onekube, name, "Running") }
            let ours = try Self.ours(onekube, form(mine), stdin: "hello\n")
            let real = try onekube.kubectl(form(theirs), stdin: "hello\n")
            #expect(ours.status == real.status && ours.stdout == real.stdout && ours.stderr == real.stderr,
                    "kubectl \(form("POD").joined(separator: " ")):\nonekube kubectl: \(ours)\nkubectl: \(real)")
            #expect(ours.stdout == "got hello\n", "\(ours)")
        }
        try Self.waitForPhase(onekube, "ours-0", "Succeeded")
        for command in [["attach"], ["attach", "a", "b", "c"], ["attach", "nope"], ["attach", "kubia", "-c", "nope"],
                        ["attach", "--pod-running-timeout=0s", "kubia"], ["attach", "ours-0"], ["attach", "deploy/nope"]] {
            try Self.compare(onekube, command)
        }
    }

    /// `logs --since-time`: the API server keeps the lines from that instant on (the real kubectl
    /// and kubectl mode alike), and kubectl mode refuses bad times in kubectl's words.
    @Test func logsSinceATime() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
        #expect(try onekube.kubectl(["run", "ticker", "--image=busybox", "--", "sh", "-c", "echo first; sleep 2; echo second; sleep 3600"]).status == 0)
        var stamped: [Substring] = []
        try waitUntil("both lines logged") {
            stamped = try onekube.kubectl(["logs", "ticker", "--timestamps"]).stdout.split(separator: "\n")
            return stamped.count == 2
        }
        let second = String(stamped[1].prefix { $0 != " " })
        let cases: [([String], String)] = [
            (["logs", "ticker", "--since-time=\(second)"], "second\n"),
            (["logs", "ticker", "--since-time=2000-01-01T00:00:00Z"], "first\nsecond\n"),
            (["logs", "ticker", "--since-time=2999-01-01T00:00:00+02:00"], ""),
        ]
        for (arguments, expected) in cases {
            try Self.compare(onekube, arguments)
            #expect(try Self.ours(onekube, arguments).stdout == expected, "\(arguments)")
        }
        for bad in ["yesterday", "2024-13-01T00:00:00Z", "2024-01-01", "2024-01-01T00:00:00Zjunk", "2024-02-30T00:00:00Z"] {
            try Self.compare(onekube, ["logs", "ticker", "--since-time=\(bad)"])
        }
        try Self.compare(onekube, ["logs", "ticker", "--since-time=\(second)", "--since=1h"])
        try Self.compare(onekube, ["logs", "nosuch", "--since-time=\(second)", "--since=1h"])
    }

    @Test func execOnATerminalIsAShellAndGivesTheTerminalBack() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
        // stty after exec shows whether raw mode was undone.
        let script = "\"$0\" kubectl exec -it kubia -- sh; echo \"status=$?\"; stty -a"
        // `timeout --foreground` keeps the pty's foreground process group, and a hang from failing the run forever.
        let session = try runOnTerminal(["timeout", "--foreground", "60", "sh", "-c", script, OnekubeInstance.binary], environment: ["KUBECONFIG": onekube.kubeconfigPath],
                                        rows: 40, columns: 120, script: [("# ", "hostname; stty size; tty\r"), ("/dev/pts/", "exit 7\r")])
        #expect(session.status == 0, "\(session.output)")
        #expect(session.output.contains("kubia\r\n40 120\r\n/dev/pts/"), "\(session.output)")
        #expect(session.output.contains("status=7"), "\(session.output)")
        #expect(session.output.contains(" icanon") && session.output.contains(" echo ") && !session.output.contains("-icanon"), "\(session.output)")
        // Typed input goes through the remote terminal, which echoes it. (Not Ctrl-D to end: typed
        // before the shell's line editor has the terminal, the pty's canonical mode swallows it.)
        let typed = try runOnTerminal(["timeout", "--foreground", "60", OnekubeInstance.binary, "kubectl", "exec", "-it", "kubia", "--", "sh"],
                                      environment: ["KUBECONFIG": onekube.kubeconfigPath],
                                      script: [("# ", "echo $((6 * 7))\r"), ("42\r\n", "exit\r")])
        #expect(typed.status == 0 && typed.output.contains("echo $((6 * 7))\r\n42\r\n"), "\(typed.output)")

        // The terminal resized under a running shell: SIGWINCH sends the new size along.
        let resizer = """
            import fcntl, os, pty, select, struct, sys, termios, time
            pid, fd = pty.fork()
            if pid == 0:
                fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
                os.execvp(sys.argv[1], sys.argv[1:])
            out = b""
            def until(pattern, seconds=30):
                global out
                end = time.time() + seconds
                while time.time() < end and (pattern is None or pattern not in out):
                    if select.select([fd], [], [], 0.05)[0]:
                        try:
                            data = os.read(fd, 65536)
                        except OSError:
                            return
                        if not data:
                            return
                        out += data
            until(b"# "); os.write(fd, b"stty size\\r"); until(b"30 100\\r\\n")
            fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 132, 0, 0))
            time.sleep(1); os.write(fd, b"stty size; exit 4\\r"); until(None)
            sys.stdout.write(out.decode(errors="replace"))
            sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
            """
        let resized = try Run.program("timeout", ["60", "python3", "-c", resizer, OnekubeInstance.binary, "kubectl", "exec", "-it", "kubia", "--", "sh"],
                                      environment: ["KUBECONFIG": onekube.kubeconfigPath])
        #expect(resized.status == 4 && resized.stdout.contains("30 100\r\n") && resized.stdout.contains("50 132\r\n"), "\(resized)")
    }

    /// `port-forward TARGET PORTS` in the background with either client, a few curls through it,
    /// then Ctrl-C. Prints what the forward printed on stderr, with the port as PORT and klog's
    /// time, pid and source line left out.
    static func portForward(_ onekube: OnekubeInstance, builtIn: Bool, target: String, remote: String, flags: String = "",
                            paths: [String]) throws -> ProcessResult {
        let port = try freePort()
        let client = builtIn ? "\"$0\" kubectl" : "kubectl --cache-dir \"$1/kube-cache\""
        let curls = paths.map { "curl -s --max-time 10 127.0.0.1:\(port)\($0); echo" }.joined(separator: "\n")
        let script = """
            out="$1/pf-\(port)"
            \(client) port-forward \(flags) \(target) \(port):\(remote) >"$out.out" 2>"$out.err" & pid=$!
            for i in $(seq 200); do grep -q Forwarding "$out.out" 2>/dev/null && break; sleep 0.1; done
            \(curls)
            sleep 0.5; kill -INT $pid 2>/dev/null; wait $pid; echo "exit $?" >>"$out.out"
            cat "$out.out" "$out.err" | sed -e "s/\(port)/PORT/g" -e 's/^E[0-9]\\{4\\} [0-9:.]* *[0-9]* [a-z_]*\\.go:[0-9]*\\] /E /' >&2
            """
        return try Run.program("sh", ["-c", script, OnekubeInstance.binary, onekube.scratchDirectory],
                               environment: ["KUBECONFIG": onekube.kubeconfigPath, "HOME": onekube.scratchDirectory])
    }

    @Test func portForwardAnswersOnLoopback() throws {
        let (images, onekube) = try Self.kubia()
        defer { withExtendedLifetime(images) {} }
        // Bigger than any flow-control window.
        #expect(try onekube.kubectl(["exec", "kubia", "--", "sh", "-c", "yes 0123456789abcdef | head -c 3000000 > /www/big"]).status == 0)
        for (target, remote, flags) in [("kubia", "8080", ""), ("pod/kubia", "8080", ""), ("svc/kubia", "80", ""),
                                        ("kubia", "8080", "--address 127.0.0.1")] {
            let mine = try Self.portForward(onekube, builtIn: true, target: target, remote: remote, flags: flags, paths: ["/", "/"])
            #expect(mine.stdout == "You've hit kubia\n\nYou've hit kubia\n\n", "\(target): \(mine)")
            let theirs = try Self.portForward(onekube, builtIn: false, target: target, remote: remote, flags: flags, paths: ["/", "/"])
            #expect(mine.stderr == theirs.stderr, "\(target): \(mine)\nkubectl: \(theirs)")
            let lines = flags.isEmpty ? "Forwarding from 127.0.0.1:PORT -> 8080\nForwarding from [::1]:PORT -> 8080\n" : "Forwarding from 127.0.0.1:PORT -> 8080\n"
            #expect(mine.stderr.hasPrefix(lines + "Handling connection for PORT\n"), "\(mine)")
        }
        let big = try Run.program("sh", ["-c", """
            "$0" kubectl port-forward kubia :8080 >"$1/pf-any.out" & pid=$!
            for i in $(seq 200); do grep -q Forwarding "$1/pf-any.out" 2>/dev/null && break; sleep 0.1; done
            port=$(sed -n '1s/.*127.0.0.1:\\([0-9]*\\) .*/\\1/p' "$1/pf-any.out")
            curl -s --max-time 20 127.0.0.1:$port/big | wc -c
            for i in 1 2 3 4 5 6; do curl -s --max-time 20 127.0.0.1:$port/big | wc -c >"$1/pf-any.$i" & done; wait %2 %3 %4 %5 %6 %7
            cat "$1"/pf-any.[1-6]; kill -INT $pid; wait $pid
            """, OnekubeInstance.binary, onekube.scratchDirectory], environment: ["KUBECONFIG": onekube.kubeconfigPath])
        // One download, then six at once over the one tunnel.
        #expect(big.stdout.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) } == Array(repeating: "3000000", count: 7), "\(big)")
        #expect(big.status == 0, "\(big)")

        // Nothing listens on the pod's port: each client reports the error stream's text.
        let mine = try Self.portForward(onekube, builtIn: true, target: "kubia", remote: "9999", paths: ["/"])
        let theirs = try Self.portForward(onekube, builtIn: false, target: "kubia", remote: "9999", paths: ["/"])
        #expect(mine.stderr == theirs.stderr, "\(mine)\nkubectl: \(theirs)")
        #expect(mine.stderr.contains("an error occurred forwarding PORT -> 9999: error forwarding port 9999 to pod kubia"), "\(mine)")
        for command in [["port-forward", "nope", "8888:8080"], ["port-forward", "kubia"], ["port-forward", "kubia", "x:8080"],
                        ["port-forward", "kubia", "8888:http"], ["port-forward", "svc/kubia", "8888:81"]] {
            try Self.compare(onekube, command)
        }
    }
}
