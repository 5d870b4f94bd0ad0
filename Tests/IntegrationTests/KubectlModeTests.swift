import Foundation
import TestSupport
import Testing

/// `onekube kubectl` against the real kubectl 1.32 on the same cluster: the book's commands print
/// byte for byte what kubectl prints.
@Suite("onekube's kubectl mode prints what kubectl prints")
struct KubectlModeTests {
    /// Runs `arguments` with both clients until their outputs agree (ages tick between the two
    /// runs) or three tries show a real difference.
    static func compare(_ onekube: OnekubeInstance, _ arguments: [String], sourceLocation: SourceLocation = #_sourceLocation) throws {
        var ours: ProcessResult?
        var theirs: ProcessResult?
        func same() -> Bool {
            guard let ours, let theirs else { return false }
            return ours.status == theirs.status && ours.stdout == theirs.stdout && ours.stderr == theirs.stderr
        }
        for _ in 0..<5 {
            ours = try onekube.onekube(["kubectl"] + arguments, environment: ["KUBECONFIG": onekube.kubeconfigPath])
            theirs = try onekube.kubectl(arguments)
            if same() { return }
            usleep(200_000)
        }
        // Still apart: ages may have ticked between the two runs every time; nothing else may differ.
        func withoutAges(_ text: String) -> String {
            text.replacingOccurrences(of: #"(?<![\w.:/-])\d+(s|m(\d+s)?|h(\d+m)?|d(\d+h)?|y(\d+d)?)(?![\w.:/-])"#, with: "<age>",
                                      options: .regularExpression)
        }
        if let ours, let theirs, ours.status == theirs.status, withoutAges(ours.stdout) == withoutAges(theirs.stdout),
           withoutAges(ours.stderr) == withoutAges(theirs.stderr) {
            return
        }
        let oursLines = (ours?.stdout ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        let theirLines = (theirs?.stdout ?? "").split(separator: "\n", omittingEmptySubsequences: false)
        let differing = zip(oursLines, theirLines).enumerated().filter { $0.element.0 != $0.element.1 }
            .map { "line \($0.offset + 1):\n  ours:   \($0.element.0)\n  theirs: \($0.element.1)" }.prefix(5).joined(separator: "\n")
        #expect(same(), "\(differing)\nkubectl \(arguments.joined(separator: " ")):\nonekube kubectl: \(ours.map { "\($0)" } ?? "")\nkubectl: \(theirs.map { "\($0)" } ?? "")",
                sourceLocation: sourceLocation)
    }

    /// `edit` with an editor that changes, keeps or breaks the object, through both clients.
    @Test func editThroughTheEditor() throws {
        let onekube = try OnekubeInstance()
        let rc = KubectlModeTests.rc
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: rc).status == 0)
        func edit(_ editor: String, ours: Bool) throws -> ProcessResult {
            ours ? try onekube.onekube(["kubectl", "edit", "rc", "kubia"], environment: ["KUBECONFIG": onekube.kubeconfigPath, "EDITOR": editor])
                : try onekube.kubectl(["edit", "rc", "kubia"], environment: ["EDITOR": editor])
        }
        func replicas() throws -> String { try onekube.kubectl(["get", "rc", "kubia", "-o", "jsonpath={.spec.replicas}"]).stdout }
        for (ours, from, to) in [(true, 0, 2), (false, 2, 1), (true, 1, 0)] {
            let result = try edit("sed -i s/replicas:\\ \(from)$/replicas:\\ \(to)/", ours: ours)
            #expect(result.status == 0 && result.stdout == "replicationcontroller/kubia edited\n", "\(result)")
            #expect(try replicas() == "\(to)")
        }
        for ours in [true, false] {
            let unchanged = try edit("true", ours: ours)
            #expect(unchanged.status == 0 && unchanged.stdout.isEmpty && unchanged.stderr == "Edit cancelled, no changes made.\n", "\(unchanged)")
        }
        let renamed = try edit("sed -i s/name:\\ kubia$/name:\\ other/", ours: true)
        #expect(renamed.status == 1 && renamed.stderr.contains("error: At least one of apiVersion, kind and name was changed"), "\(renamed)")
        let completion = try onekube.onekube(["kubectl", "completion", "bash"])
        #expect(completion.status == 0 && completion.stdout.hasPrefix("#!/bin/bash"))
    }

    /// `create -f URL`: a manifest served on 127.0.0.1, and kubectl's words when the server says no.
    @Test func manifestsFromURLs() throws {
        let onekube = try OnekubeInstance()
        let site = try TemporaryDirectory("onekube-manifests")
        try FileManager.default.copyItem(atPath: Fixtures.packageRoot + "/Resources/examples/kubia-manual.yaml", toPath: site.path + "/kubia-manual.yaml")
        let port = try freePort()
        let server = try BackgroundProcess("python3", ["-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", site.path],
                                           logPath: site.path + "/server.log")
        defer { server.stop() }
        let url = "http://127.0.0.1:\(port)/kubia-manual.yaml"
        try waitUntil("the web server") { (try? Run.program("curl", ["-sf", url]))?.status == 0 }
        let created = try onekube.onekube(["kubectl", "create", "-f", url], environment: ["KUBECONFIG": onekube.kubeconfigPath])
        #expect(created.status == 0 && created.stdout == "pod/kubia-manual created\n", "\(created)")
        try Self.compare(onekube, ["create", "-f", url])
        try Self.compare(onekube, ["create", "-f", "http://127.0.0.1:\(port)/nosuch.yaml"])
        try Self.compare(onekube, ["delete", "-f", "http://127.0.0.1:\(try freePort())/refused.yaml"])
    }

    /// A kubeconfig with a wrong token: each client says the same thing and exits 1 (kubectl with a
    /// cold discovery cache, as onekube kubectl always is). Global flags go before the command too.
    @Test func aWrongTokenIsRefusedInKubectlsWords() throws {
        let onekube = try OnekubeInstance()
        let config = try String(contentsOfFile: onekube.kubeconfigPath, encoding: .utf8)
            .replacingOccurrences(of: #"token: \S+"#, with: "token: wrong", options: .regularExpression)
        let bad = onekube.scratchDirectory + "/bad-kubeconfig"
        try config.write(toFile: bad, atomically: true, encoding: .utf8)
        for command in [["get", "pods"], ["describe", "pod", "x"], ["delete", "pod", "x"], ["logs", "x"], ["run", "x", "--image=busybox"],
                        ["exec", "x", "--", "ls"]] {
            let ours = try onekube.onekube(["kubectl", "--kubeconfig", bad] + command)
            let theirs = try onekube.kubectl(["--kubeconfig", bad] + command)
            // (kubectl's discovery logs timestamped klog lines first when its cache is cold.)
            let theirLast = theirs.stderr.split(separator: "\n").last.map { String($0) + "\n" } ?? ""
            #expect(ours.status == 1 && ours.status == theirs.status && ours.stdout == theirs.stdout && ours.stderr == theirLast,
                    "\(command): \(ours) vs \(theirs)")
            #expect(ours.stderr == "error: You must be logged in to the server (the server has asked for the client to provide credentials)\n", "\(ours)")
        }
    }

    static let rc = """
        apiVersion: v1
        kind: ReplicationController
        metadata:
          name: kubia
        spec:
          replicas: 0
          selector:
            app: kubia
          template:
            metadata:
              labels:
                app: kubia
            spec:
              containers:
              - name: kubia
                image: luksa/kubia
        """

    @Test func theBooksCommands() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        func ours(_ arguments: [String]) throws -> ProcessResult {
            try onekube.onekube(["kubectl"] + arguments, environment: ["KUBECONFIG": onekube.kubeconfigPath])
        }
        #expect(try ours(["run", "kubia", "--image=luksa/kubia", "--port=8080", "--generator=run/v1"]).stdout == "replicationcontroller/kubia created\n")
        #expect(try ours(["expose", "rc", "kubia", "--type=LoadBalancer", "--name", "kubia-http"]).stdout == "service/kubia-http exposed\n")
        try waitUntil(timeout: 60, "the pod runs") { try ours(["get", "pods"]).stdout.contains("1/1     Running") }
        #expect(try ours(["scale", "rc", "kubia", "--replicas=3"]).stdout == "replicationcontroller/kubia scaled\n")
        try waitUntil(timeout: 60, "three pods run") { try ours(["get", "rc", "kubia"]).stdout.contains("3         3         3") }
        try waitUntil("an EXTERNAL-IP") { try !ours(["get", "svc", "kubia-http", "-o", "name"]).stdout.isEmpty }

        for command in [["get", "pods"], ["get", "pods", "-o", "wide"], ["get", "rc"], ["get", "svc"], ["get", "svc", "kubia-http"],
                        ["get", "all"], ["get", "nodes"], ["get", "nodes", "-o", "wide"], ["get", "ns"], ["get", "pods", "--show-labels"],
                        ["get", "pods", "-A"], ["get", "pods", "-o", "name"], ["get", "pods", "-L", "run,app.kubernetes.io/name"], ["get", "rc,svc"], ["get", "pods", "-l", "run=kubia"],
                        ["get", "pod", "nope"], ["get", "nosuchtype"], ["get", "deploy"], ["get", "svc", "kubia-http", "-o", "json"],
                        ["get", "svc", "kubia-http", "-o", "yaml"], ["get", "pods", "-o", "yaml"], ["get", "nodes", "-o", "yaml"],
                        ["get", "rc", "kubia", "-o", "json"], ["cluster-info"], ["api-resources"], ["api-resources", "-o", "wide"],
                        ["config", "view"], ["config", "get-contexts"], ["config", "current-context"],
                        ["get", "pods", "-o", "jsonpath={.items[*].metadata.name}"],
                        ["get", "pods", "-o", #"jsonpath={range .items[*]}{.metadata.name}{"\t"}{.status.phase}{"\n"}{end}"#],
                        ["get", "svc", "kubia-http", "-o", "jsonpath=port {.spec.ports[0].nodePort} of {.metadata.name}"],
                        ["get", "pods", "-o", #"jsonpath={.items[?(@.status.phase=="Running")].status.podIP}"#],
                        ["get", "nodes", "-o", "jsonpath={.items[0].status.addresses}"],
                        ["get", "pods", "-o", "jsonpath={..image}"], ["get", "pods", "-o", "jsonpath={.items[-1:].metadata.labels}"],
                        ["get", "rc", "kubia", "-o", "jsonpath={.spec.replicas} {.status.readyReplicas} {.spec.template.spec.containers[0]['name','image']}"],
                        ["get", "nodes", "-o", "jsonpath={.items[*].status.capacity}"], ["get", "pods", "-o", "jsonpath={.items[0].metadata.nosuch}"],
                        ["get", "pods", "-o", "jsonpath={.items[0].metadata.name"],
                        ["get", "pods", "-o", "custom-columns=NAME:.metadata.name,IP:.status.podIP,PORTS:.spec.containers[*].ports[*].containerPort"],
                        ["get", "svc", "-o", "custom-columns=NAME:metadata.name,SELECTOR:.spec.selector,NOTHING:{.spec.nosuch}"],
                        ["get", "deploy", "-o", "custom-columns=NAME:.metadata.name"], ["get", "pods", "-o", "custom-columns=BAD"],
                        ["get", "pods", "-o", "yamlish"],
                        ["get", "pods", "--sort-by=.status.podIP"], ["get", "pods", "--sort-by", "{.metadata.creationTimestamp}", "-o", "wide"],
                        ["get", "pods", "--sort-by=.metadata.name", "-o", "name"], ["get", "svc", "--sort-by=.spec.ports[0].port"],
                        ["get", "pods", "--sort-by=.metadata.nosuch"], ["get", "nodes,svc", "--sort-by=metadata.name"],
                        ["describe", "ep", "kubia-http"], ["describe", "endpoints"], ["describe", "node", "onekube"], ["describe", "nodes"],
                        // Errors, worded as kubectl words them.
                        ["get"], ["describe"], ["logs"], ["logs", "nosuchpod"], ["describe", "nosuchtype"], ["describe", "pod", "nosuchpod"],
                        ["scale", "rc", "nosuch", "--replicas=2"], ["scale", "deploy", "nosuch", "--replicas=2"], ["get", "pods", "-l", "a in (b"],
                        ["get", "pods", "-l", "!!"], ["get", "pods", "--field-selector", "foo=bar"], ["get", "pod/a", "svc"],
                        ["describe", "pods", "-l", "a in (b"], ["expose", "rc", "nosuch", "--port=80"], ["label", "pod"],
                        // Dry runs print the object kubectl would send.
                        ["run", "x", "--image=busybox", "--dry-run=client", "-o", "yaml"],
                        ["run", "x", "--image=busybox", "--env=A=b", "--labels=a=b,c=d", "--restart=Never", "--port=80", "--dry-run=client", "-o", "json"],
                        ["run", "x", "--image=busybox", "--command", "--dry-run=client", "-o", "yaml", "--", "sleep", "10"],
                        ["run", "x", "--image=busybox", "--dry-run=server"], ["run", "x", "--image=busybox", "--dry-run=client", "-o", "name"],
                        ["expose", "rc", "kubia", "--port=80", "--target-port=8080", "--dry-run=client", "-o", "yaml"],
                        ["expose", "rc", "kubia", "--name=w2", "--type=NodePort", "--dry-run=client", "-o", "json"],
                        ["create", "deployment", "d", "--image=nginx", "--replicas=2", "--port=80", "--dry-run=client", "-o", "json"],
                        ["create", "ns", "foo", "--dry-run=client", "-o", "yaml"], ["create", "service", "nodeport", "s", "--tcp=80:8080", "--dry-run=client", "-o", "yaml"],
                        ["get", "pod", "x"], ["logs", "deploy/nosuch"], ["logs", "pod/nosuch"], ["logs", "x", "--since=bogus"]] {
            try Self.compare(onekube, command)
        }
        let pod = try onekube.kubectl(["get", "pods", "-o", "jsonpath={.items[0].metadata.name}"]).stdout
        try Self.compare(onekube, ["logs", pod])
        try Self.compare(onekube, ["describe", "pod", pod])
        for command in [["describe", "rc", "kubia"], ["describe", "svc", "kubia-http"], ["describe", "svc", "-n", "kube-system"],
                        ["describe", "ns", "default"], ["describe", "pods", "-l", "run=kubia"]] {
            try Self.compare(onekube, command)
        }

        // A pod with most of what describe shows: env from a config map and the downward API,
        // volumes, probes, resources, a node selector, a restart.
        let rich = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
            data:
              greeting: hello
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: rich
              labels: {app: rich, tier: web}
              annotations: {note: described}
            spec:
              terminationGracePeriodSeconds: 1
              nodeSelector: {kubernetes.io/hostname: onekube}
              volumes:
              - name: config
                configMap: {name: settings}
              - name: scratch
                emptyDir: {}
              - name: host
                hostPath: {path: /tmp, type: Directory}
              initContainers:
              - name: setup
                image: busybox
                command: ["sh", "-c", "echo ready"]
              containers:
              - name: web
                image: luksa/kubia
                ports: [{containerPort: 8080, name: http}]
                env:
                - {name: GREETING, valueFrom: {configMapKeyRef: {name: settings, key: greeting}}}
                - {name: POD, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
                - {name: PLAIN, value: "two\nlines"}
                resources: {limits: {memory: 64Mi, cpu: 500m}, requests: {memory: 32Mi, cpu: 100m}}
                volumeMounts:
                - {name: config, mountPath: /etc/settings, readOnly: true}
                - {name: scratch, mountPath: /scratch, subPath: data}
                livenessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 5}
                readinessProbe: {tcpSocket: {port: http}}
              - name: crasher
                image: busybox
                command: ["sh", "-c", "exit 2"]
            """
        #expect(try onekube.kubectl(["apply", "-f", "-"], stdin: rich).status == 0)
        try waitUntil(timeout: 60, "the crasher restarts") {
            // Compared while the crasher waits out its back-off, so that both clients see one state.
            let state = try onekube.kubectl(["get", "pod", "rich", "-o", #"jsonpath={.status.containerStatuses[?(@.name=="crasher")].state.waiting.reason}"#]).stdout
            let ready = try onekube.kubectl(["get", "pod", "rich", "-o", #"jsonpath={.status.containerStatuses[?(@.name=="web")].ready}"#]).stdout
            return state == "CrashLoopBackOff" && ready == "true"
        }
        try Self.compare(onekube, ["describe", "pod", "rich"])
        try Self.compare(onekube, ["describe", "pods", "-l", "app=rich"])

        // The same change through each client prints the same line.
        #expect(try ours(["run", "one", "--image=busybox", "--restart=Never", "--", "sleep", "600"]).stdout == "pod/one created\n")
        #expect(try onekube.kubectl(["run", "two", "--image=busybox", "--restart=Never", "--", "sleep", "600"]).stdout == "pod/two created\n")
        for (first, second) in [(["label", "pod", "one", "env=debug"], ["label", "pod", "two", "env=debug"]),
                                (["label", "pod", "one", "env=prod"], ["label", "pod", "two", "env=prod"]),
                                (["label", "pod", "one", "env=prod", "--overwrite"], ["label", "pod", "two", "env=prod", "--overwrite"]),
                                (["label", "pod", "one", "env-"], ["label", "pod", "two", "env-"]),
                                (["annotate", "pod", "one", "owner=luksa"], ["annotate", "pod", "two", "owner=luksa"]),
                                (["annotate", "pod", "one", "owner=me"], ["annotate", "pod", "two", "owner=me"]),
                                (["annotate", "pod", "one", "owner-"], ["annotate", "pod", "two", "owner-"]),
                                (["patch", "pod", "one", "-p", #"{"metadata":{"labels":{"a":"b"}}}"#], ["patch", "pod", "two", "-p", #"{"metadata":{"labels":{"a":"b"}}}"#]),
                                (["patch", "pod", "one", "-p", #"{"metadata":{"labels":{"a":"b"}}}"#], ["patch", "pod", "two", "-p", #"{"metadata":{"labels":{"a":"b"}}}"#]),
                                (["patch", "pod", "one", "--type=json", "-p", #"[{"op":"remove","path":"/metadata/labels/a"}]"#],
                                 ["patch", "pod", "two", "--type=json", "-p", #"[{"op":"remove","path":"/metadata/labels/a"}]"#]),
                                (["delete", "pod", "one", "--grace-period=1"], ["delete", "pod", "two", "--grace-period=1"]),
                                (["delete", "pod", "nope"], ["delete", "pod", "nope"])] {
            let a = try ours(first)
            let b = try onekube.kubectl(second)
            #expect(a.status == b.status && a.stdout.replacingOccurrences(of: "one", with: "two") == b.stdout && a.stderr == b.stderr,
                    "\(first): \(a) vs \(b)")
        }
        // Manifests: create, then apply (created, unchanged, configured), as kubectl words each.
        let examples = Fixtures.packageRoot + "/Resources/examples"
        let manual = try String(contentsOfFile: examples + "/kubia-manual.yaml", encoding: .utf8)
        let labelled = manual.replacingOccurrences(of: "  name: kubia-manual\n", with: "  name: kubia-manual\n  labels:\n    env: debug\n")
        for (name, client) in [("kubia-ours", true), ("kubia-theirs", false)] {
            func run(_ arguments: [String], stdin: String) throws -> ProcessResult {
                client ? try onekube.onekube(["kubectl"] + arguments, environment: ["KUBECONFIG": onekube.kubeconfigPath], stdin: stdin)
                    : try onekube.kubectl(arguments, stdin: stdin)
            }
            let plain = manual.replacingOccurrences(of: "kubia-manual", with: name)
            #expect(try run(["apply", "-f", "-"], stdin: plain).stdout == "pod/\(name) created\n")
            #expect(try run(["apply", "-f", "-"], stdin: plain).stdout == "pod/\(name) unchanged\n")
            #expect(try run(["apply", "-f", "-"], stdin: labelled.replacingOccurrences(of: "kubia-manual", with: name)).stdout == "pod/\(name) configured\n")
            let again = try run(["create", "-f", "-"], stdin: plain)
            #expect(again.status == 1 && again.stderr == "Error from server (AlreadyExists): error when creating \"STDIN\": pods \"\(name)\" already exists\n", "\(again)")
        }
        let annotation = { (pod: String) in
            try onekube.kubectl(["get", "pod", pod, "-o", "jsonpath={.metadata.annotations}"]).stdout.replacingOccurrences(of: pod, with: "NAME")
        }
        #expect(try annotation("kubia-ours") == annotation("kubia-theirs"))
        #expect(try onekube.kubectl(["get", "pod", "kubia-ours", "-o", "jsonpath={.metadata.labels.env}"]).stdout == "debug")
        // delete -f, as each client words it.
        for (name, client) in [("kubia-ours", true), ("kubia-theirs", false)] {
            func run(_ arguments: [String], stdin: String) throws -> ProcessResult {
                client ? try onekube.onekube(["kubectl"] + arguments, environment: ["KUBECONFIG": onekube.kubeconfigPath], stdin: stdin)
                    : try onekube.kubectl(arguments, stdin: stdin)
            }
            let plain = manual.replacingOccurrences(of: "kubia-manual", with: name)
            #expect(try run(["delete", "-f", "-", "--grace-period=1"], stdin: plain).stdout == "pod \"\(name)\" deleted\n")
            let again = try run(["delete", "-f", "-"], stdin: plain)
            #expect(again.status == 1 && again.stderr == "Error from server (NotFound): error when deleting \"STDIN\": pods \"\(name)\" not found\n", "\(again)")
            let ignored = try run(["delete", "-f", "-", "--ignore-not-found"], stdin: plain)
            #expect(ignored.status == 0 && ignored.stdout.isEmpty && ignored.stderr.isEmpty, "\(ignored)")
        }
        // Malformed manifests: the YAML parser's complaint with go-yaml's line numbers.
        for (index, text) in ["apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n  labels: a: b\n",
                              "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\n spec: 1\n", "a: [1, 2\n",
                              "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"x\n"].enumerated() {
            let file = onekube.scratchDirectory + "/bad\(index).yaml"
            try text.write(toFile: file, atomically: true, encoding: .utf8)
            try Self.compare(onekube, ["create", "-f", file])
            try Self.compare(onekube, ["apply", "-f", file])
        }
        try Self.compare(onekube, ["delete"])
        try Self.compare(onekube, ["delete", "-f", examples + "/nosuch.yaml"])

        // A Deployment rolled forward and back.
        let deployment = try String(contentsOfFile: examples + "/kubia-deployment.yaml", encoding: .utf8)
            .replacingOccurrences(of: "    spec:\n      containers:", with: "    spec:\n      terminationGracePeriodSeconds: 1\n      containers:")
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: deployment).status == 0)
        let firstRollout = try ours(["rollout", "status", "deployment/kubia", "--timeout=60s"])
        #expect(firstRollout.status == 0 && firstRollout.stdout.hasSuffix("deployment \"kubia\" successfully rolled out\n"), "\(firstRollout)")
        #expect(try onekube.kubectl(["set", "image", "deployment/kubia", "nodejs=luksa/kubia:v2"]).status == 0)
        #expect(try ours(["rollout", "status", "deploy", "kubia", "--timeout=60s"]).status == 0)
        try Self.compare(onekube, ["rollout", "history", "deployment/kubia"])
        #expect(try ours(["rollout", "undo", "deployment/kubia"]).stdout == "deployment.apps/kubia rolled back\n")
        #expect(try ours(["rollout", "status", "deployment/kubia", "--timeout=60s"]).status == 0)
        #expect(try onekube.kubectl(["get", "deployment", "kubia", "-o", "jsonpath={.spec.template.spec.containers[0].image}"]).stdout == "luksa/kubia:v1")
        try waitUntil(timeout: 60, "the old pods gone") {
            try onekube.kubectl(["get", "deployment", "kubia", "-o", "jsonpath={.status.replicas}"]).stdout
                == onekube.kubectl(["get", "deployment", "kubia", "-o", "jsonpath={.status.updatedReplicas}"]).stdout
        }
        try Self.compare(onekube, ["describe", "deployment", "kubia"])
        #expect(try ours(["rollout", "restart", "deployment/kubia"]).stdout == "deployment.apps/kubia restarted\n")

        // Objects made by the create subcommands are the ones kubectl makes.
        for (kind, first, second) in [("deployment", ["create", "deployment", "one", "--image=luksa/kubia:v1", "--replicas=2", "--port=8080"],
                                       ["create", "deployment", "two", "--image=luksa/kubia:v1", "--replicas=2", "--port=8080"]),
                                      ("service", ["create", "service", "nodeport", "one", "--tcp=80:8080"],
                                       ["create", "service", "nodeport", "two", "--tcp=80:8080"]),
                                      ("namespace", ["create", "namespace", "one"], ["create", "namespace", "two"])] {
            let a = try ours(first)
            let b = try onekube.kubectl(second)
            #expect(a.stdout.replacingOccurrences(of: "one", with: "two") == b.stdout, "\(a) vs \(b)")
            let fields = kind == "service" ? "{.spec.ports[0].name} {.spec.ports[0].port} {.spec.ports[0].targetPort} {.spec.selector} {.spec.type}"
                : "{.metadata.labels} {.spec}"
            let specA = try onekube.kubectl(["get", kind, "one", "-o", "jsonpath=\(fields)"]).stdout
            let specB = try onekube.kubectl(["get", kind, "two", "-o", "jsonpath=\(fields)"]).stdout
            #expect(specA.replacingOccurrences(of: "one", with: "two") == specB, "\(kind): \(specA) vs \(specB)")
        }

        // get -w: the list, then each change, the columns widening as kubectl's do.
        let watchers = try [true, false].map { builtIn -> BackgroundProcess in
            let log = onekube.scratchDirectory + "/watch-\(builtIn).log"
            let environment = ["KUBECONFIG": onekube.kubeconfigPath, "HOME": onekube.scratchDirectory]
            return builtIn
                ? try BackgroundProcess(OnekubeInstance.binary, ["kubectl", "get", "pods", "-l", "watched=yes", "-w"], logPath: log, environment: environment)
                : try BackgroundProcess("kubectl", ["--cache-dir", onekube.scratchDirectory + "/kube-cache", "get", "pods", "-l", "watched=yes", "-w"],
                                        logPath: log, environment: environment)
        }
        defer { for watcher in watchers { watcher.stop() } }
        usleep(1_500_000)
        #expect(try onekube.kubectl(["run", "watched", "--image=luksa/kubia", "--labels=watched=yes"]).status == 0)
        try waitUntil(timeout: 30, "both watches see it run") { watchers.allSatisfy { $0.log.contains("Running") } }
        #expect(try onekube.kubectl(["label", "pod", "watched", "extra=1"]).status == 0)
        try waitUntil("both watches see the label") { watchers.allSatisfy { $0.log.split(separator: "\n").count >= 5 } }
        usleep(500_000)
        // Ages tick between the two clients: compare everything before the last column.
        let withoutAges = watchers.map { watcher in
            watcher.log.split(separator: "\n").map { line in line.split(separator: " ").dropLast().joined(separator: " ") }
        }
        #expect(withoutAges[0] == withoutAges[1], "\(watchers[0].log)\nvs\n\(watchers[1].log)")
        #expect(watchers[0].log.hasPrefix("NAME      READY   STATUS    RESTARTS   AGE\nwatched   0/1     Pending   0          "), "\(watchers[0].log)")

        // logs of a workload: one of its pods, named on stderr when there are several.
        let fromRC = try ours(["logs", "rc/kubia", "--since=1h"])
        #expect(fromRC.status == 0 && fromRC.stderr.hasPrefix("Found 3 pods, using pod/kubia-"), "\(fromRC)")

        // The binary invoked as kubectl (install.sh links it so where no kubectl exists) is kubectl mode.
        let links = try TemporaryDirectory("onekube-kubectl-link")
        try FileManager.default.createSymbolicLink(atPath: links.path + "/kubectl", withDestinationPath: OnekubeInstance.binary)
        let linked = try Run.program(links.path + "/kubectl", ["get", "nodes"], environment: ["KUBECONFIG": onekube.kubeconfigPath])
        // (The AGE column widens once the node is older than 99 s.)
        #expect(linked.status == 0 && linked.stdout.hasPrefix("NAME      STATUS   ROLES           AGE") && linked.stdout.contains("\nonekube   Ready    control-plane"),
                "\(linked)")

        let version = try ours(["version"]).stdout
        #expect(version.contains("Server Version: v1.32.0"), "\(version)")
        let retired = try ours(["run", "x", "--image=busybox", "--generator=deployment/apps.v1"])
        #expect(retired.status == 1 && retired.stderr.contains("was removed in kubectl 1.18"), "\(retired)")
    }
}
