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
        for _ in 0..<3 {
            ours = try onekube.onekube(["kubectl"] + arguments, environment: ["KUBECONFIG": onekube.kubeconfigPath])
            theirs = try onekube.kubectl(arguments)
            if same() { return }
            usleep(300_000)
        }
        #expect(same(), "kubectl \(arguments.joined(separator: " ")):\nonekube kubectl: \(ours.map { "\($0)" } ?? "")\nkubectl: \(theirs.map { "\($0)" } ?? "")",
                sourceLocation: sourceLocation)
    }

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
                        ["get", "pods", "-A"], ["get", "pods", "-o", "name"], ["get", "rc,svc"], ["get", "pods", "-l", "run=kubia"],
                        ["get", "pod", "nope"], ["get", "nosuchtype"], ["get", "deploy"], ["get", "svc", "kubia-http", "-o", "json"],
                        ["get", "svc", "kubia-http", "-o", "yaml"], ["get", "pods", "-o", "yaml"], ["get", "nodes", "-o", "yaml"],
                        ["get", "rc", "kubia", "-o", "json"], ["cluster-info"], ["api-resources"], ["api-resources", "-o", "wide"],
                        ["config", "view"], ["config", "get-contexts"], ["config", "current-context"]] {
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
            let count = try onekube.kubectl(["get", "pod", "rich", "-o", #"jsonpath={.status.containerStatuses[?(@.name=="crasher")].restartCount}"#]).stdout
            return (Int(count) ?? 0) >= 1
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
        #expect(try ours(["rollout", "restart", "deployment/kubia"]).stdout == "deployment.apps/kubia restarted\n")

        let version = try ours(["version"]).stdout
        #expect(version.contains("Server Version: v1.32.0"), "\(version)")
        let retired = try ours(["run", "x", "--image=busybox", "--generator=deployment/apps.v1"])
        #expect(retired.status == 1 && retired.stderr.contains("was removed in kubectl 1.18"), "\(retired)")
    }
}
