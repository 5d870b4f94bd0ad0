import Foundation
import TestSupport
import Testing

/// The real kubectl — the dispatcher and every build installed beside it — against onekube.
@Suite("The real kubectl drives onekube's API")
struct KubectlTests {
    static let builds = ["kubectl"] + KubectlBuilds.all

    static let examples = Fixtures.packageRoot + "/Resources/examples"

    @Test func theMachineHasTheKubectlBuilds() {
        // CI machines ship 1.27–1.33 beside the dispatcher; a missing build must fail loudly.
        #expect(KubectlBuilds.all.count >= 7, "\(KubectlBuilds.all)")
    }

    @Test("the walkthrough's commands", arguments: builds)
    func walkthrough(kubectl: String) throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        func run(_ args: [String], stdin: String? = nil) throws -> ProcessResult {
            try onekube.kubectl(args, binary: kubectl, stdin: stdin)
        }
        func ok(_ args: [String], stdin: String? = nil) throws -> String {
            let result = try run(args, stdin: stdin)
            #expect(result.status == 0, "kubectl \(args.joined(separator: " ")): \(result)")
            return result.stdout
        }
        let version = try ok(["version"])
        // 1.27 prints the whole version.Info struct; later builds just the gitVersion.
        #expect(version.contains("Server Version: v1.32.0") || version.contains("GitVersion:\"v1.32.0\""), "\(version)")

        let nodes = try ok(["get", "nodes"]).split(separator: "\n").map(String.init)
        #expect(nodes.first == "NAME      STATUS   ROLES           AGE   VERSION")
        #expect(nodes.count == 2 && nodes[1].hasPrefix("onekube   Ready    control-plane   "), "\(nodes)")
        #expect(nodes.last?.hasSuffix("v1.32.0") == true)
        let wide = try ok(["get", "nodes", "-o", "wide"])
        #expect(wide.contains("INTERNAL-IP") && wide.contains("onekube://0.1.0"), "\(wide)")

        let namespaces = try ok(["get", "ns"])
        for ns in ["default", "kube-node-lease", "kube-public", "kube-system"] {
            #expect(namespaces.contains("\(ns) ") && namespaces.contains("Active"), "\(namespaces)")
        }

        #expect(try ok(["create", "-f", Self.examples + "/kubia-rc.yaml"]) == "replicationcontroller/kubia created\n")
        let duplicate = try run(["create", "-f", Self.examples + "/kubia-rc.yaml"])
        #expect(duplicate.status == 1)
        #expect(duplicate.stderr.contains("Error from server (AlreadyExists): error when creating \"\(Self.examples)/kubia-rc.yaml\": replicationcontrollers \"kubia\" already exists"), "\(duplicate)")
        // The replication controller creates the pods and the scheduler binds them.
        try waitUntil("three pods") { try ok(["get", "rc", "kubia", "-o", "jsonpath={.status.replicas}"]) == "3" }
        let rcs = try ok(["get", "rc"]).split(separator: "\n").map(String.init)
        #expect(rcs.first == "NAME    DESIRED   CURRENT   READY   AGE")
        #expect(rcs.last?.hasPrefix("kubia   3         3         ") == true, "\(rcs)")
        try waitUntil(timeout: 60, "three ready pods") {
            try ok(["get", "rc", "kubia"]).contains("kubia   3         3         3       ")
        }
        let placed = try ok(["get", "pods", "-l", "app=kubia", "-o", "jsonpath={.items[*].spec.nodeName}"])
        #expect(placed == "onekube onekube onekube", "\(placed)")

        #expect(try ok(["expose", "rc", "kubia", "--type=LoadBalancer", "--name", "kubia-http"]) == "service/kubia-http exposed\n")
        let services = try ok(["get", "svc"]).split(separator: "\n").map(String.init)
        #expect(services.first?.hasPrefix("NAME         TYPE           CLUSTER-IP") == true, "\(services)")
        #expect(services.contains { $0.hasPrefix("kubernetes   ClusterIP ") && $0.contains(" \(onekube.serviceIP(1)) ") && $0.contains("443/TCP") }, "\(services)")
        #expect(services.contains { $0.hasPrefix("kubia-http   LoadBalancer   10.") && $0.contains("8080:3") }, "\(services)")
        // The external address comes from the loopback pool within a second.
        try waitUntil("an EXTERNAL-IP") { try ok(["get", "svc", "kubia-http", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"]) == onekube.loadBalancerIP(1) }
        #expect(try ok(["get", "svc", "kubia-http"]).contains(onekube.loadBalancerIP(1)))

        #expect(try ok(["scale", "rc", "kubia", "--replicas=5"]) == "replicationcontroller/kubia scaled\n")
        #expect(try ok(["get", "rc", "kubia", "-o", "jsonpath={.spec.replicas}"]) == "5")
        #expect(try ok(["label", "node", "onekube", "ssd=true"]) == "node/onekube labeled\n")
        #expect(try ok(["get", "nodes", "-l", "ssd=true", "-o", "name"]) == "node/onekube\n")
        #expect(try ok(["get", "nodes", "--show-labels"]).contains("ssd=true"))
        // kubectl 1.27 prints "annotate", later builds "annotated".
        #expect(try ok(["annotate", "rc", "kubia", "owner=luksa"]).hasPrefix("replicationcontroller/kubia annotate"))

        #expect(try ok(["apply", "-f", Self.examples + "/kubia-manual.yaml"]) == "pod/kubia-manual created\n")
        #expect(try ok(["apply", "-f", Self.examples + "/kubia-manual.yaml"]) == "pod/kubia-manual unchanged\n")
        let labelled = try String(contentsOfFile: Self.examples + "/kubia-manual.yaml", encoding: .utf8)
            .replacingOccurrences(of: "  name: kubia-manual\n", with: "  name: kubia-manual\n  labels:\n    env: debug\n")
        #expect(try ok(["apply", "-f", "-"], stdin: labelled) == "pod/kubia-manual configured\n")
        #expect(try ok(["get", "pod", "kubia-manual", "-o", "jsonpath={.metadata.labels.env}"]) == "debug")
        let ssa = labelled.replacingOccurrences(of: "kubia-manual", with: "kubia-ssa")
        #expect(try ok(["apply", "--server-side", "-f", "-"], stdin: ssa) == "pod/kubia-ssa serverside-applied\n")

        var pods: [String] = []
        try waitUntil(timeout: 60, "kubia-manual runs") {
            pods = try ok(["get", "pods"]).split(separator: "\n").map(String.init)
            return pods.contains { $0.hasPrefix("kubia-manual   1/1     Running   0          ") }
        }
        #expect(pods.first == "NAME           READY   STATUS    RESTARTS   AGE")
        let json = try ok(["get", "pod", "kubia-manual", "-o", "json"])
        #expect(json.contains("\"imagePullPolicy\": \"Always\"") && json.contains("\"qosClass\": \"BestEffort\""), "\(json)")
        #expect(try ok(["get", "all"]).contains("service/kubia-http"))

        let missing = try run(["get", "pod", "nope"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "Error from server (NotFound): pods \"nope\" not found\n")

        let described = try ok(["describe", "node", "onekube"])
        #expect(described.contains("Name:               onekube") && described.contains("Ready            True"), "\(described)")
        #expect(try ok(["describe", "svc", "kubia-http"]).contains("Type:                     LoadBalancer"))
        try waitUntil("five pods") { try ok(["get", "rc", "kubia", "-o", "jsonpath={.status.replicas}"]) == "5" }
        let describedRC = try ok(["describe", "rc", "kubia"])
        #expect(describedRC.contains("Replicas:     5 current / 5 desired"), "\(describedRC)")
        #expect(describedRC.contains("SuccessfulCreate"), "\(describedRC)")
        #expect(try ok(["describe", "pod", "kubia-manual"]).contains("Status:           Running"))

        // Older builds colour cluster-info even off a terminal.
        let info = try ok(["cluster-info"]).replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        #expect(info.hasPrefix("Kubernetes control plane is running at \(onekube.apiServerURL)"), "\(info)")
        let resources = try ok(["api-resources"]).split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
        #expect(resources.first == ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"])
        #expect(resources.contains(["pods", "po", "v1", "true", "Pod"]))
        #expect(resources.contains(["replicationcontrollers", "rc", "v1", "true", "ReplicationController"]))
        #expect(resources.contains(["deployments", "deploy", "apps/v1", "true", "Deployment"]))

        // The test image's httpd ignores SIGTERM as PID 1 (as the book's node app does): skip the 30 s.
        #expect(try ok(["delete", "pod", "kubia-manual", "--grace-period=1"]) == "pod \"kubia-manual\" deleted\n")
        #expect(try ok(["delete", "svc", "kubia-http"]) == "service \"kubia-http\" deleted\n")
        #expect(try ok(["delete", "rc", "kubia"]) == "replicationcontroller \"kubia\" deleted\n")
        #expect(try run(["get", "rc", "kubia"]).status == 1)
    }

    @Test func watchShowsChangesAsTheyHappen() throws {
        let onekube = try OnekubeInstance()
        let log = onekube.scratchDirectory + "/watch.log"
        let watch = try BackgroundProcess("kubectl", ["--cache-dir", onekube.scratchDirectory + "/kube-cache", "get", "pods", "-w"],
                                          logPath: log, environment: ["KUBECONFIG": onekube.kubeconfigPath, "HOME": onekube.scratchDirectory])
        defer { watch.stop() }
        try waitUntil("the watch to start") { try onekube.kubectl(["get", "pods"]).status == 0 }
        usleep(500_000)
        #expect(try onekube.kubectl(["run", "kubia", "--image=luksa/kubia", "--port=8080"]).stdout == "pod/kubia created\n")
        try waitUntil("the watch to print the pod") { watch.log.contains("kubia   0/1     Pending") }
        #expect(try onekube.kubectl(["label", "pod", "kubia", "tier=web"]).status == 0)
        try waitUntil("the modification") { watch.log.components(separatedBy: "kubia ").count >= 3 }
        #expect(watch.log.hasPrefix("NAME    READY   STATUS    RESTARTS   AGE\n"), "\(watch.log)")
    }

    @Test func ownersTakeTheirDependentsAlong() throws {
        // A ConfigMap as the owner: no controller of its own competes with the collector.
        let onekube = try OnekubeInstance()
        func makeOwner() throws -> String {
            #expect(try onekube.kubectl(["create", "-f", "-"], stdin: #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"owner"}}"#).status == 0)
            return try onekube.kubectl(["get", "configmap", "owner", "-o", "jsonpath={.metadata.uid}"]).stdout
        }
        func dependent(_ name: String, owner uid: String) -> String {
            """
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)",
             "ownerReferences":[{"apiVersion":"v1","kind":"ConfigMap","name":"owner","uid":"\(uid)","controller":true,"blockOwnerDeletion":true}]},
             "spec":{"containers":[{"name":"kubia","image":"luksa/kubia"}]}}
            """
        }
        var uid = try makeOwner()
        for name in ["kubia-a", "kubia-b"] { #expect(try onekube.kubectl(["create", "-f", "-"], stdin: dependent(name, owner: uid)).status == 0) }
        let describedA = try onekube.kubectl(["describe", "pod", "kubia-a"])
        #expect(describedA.stdout.contains("\nControlled By:  ConfigMap/owner\n"), "\(describedA)")
        #expect(try onekube.kubectl(["delete", "configmap", "owner"]).status == 0)
        try waitUntil("the garbage collector") { try onekube.kubectl(["get", "pods", "-o", "name"]).stdout.isEmpty }

        // Foreground: kubectl waits until the dependents went first.
        uid = try makeOwner()
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: dependent("kubia-c", owner: uid)).status == 0)
        let foreground = try onekube.kubectl(["delete", "configmap", "owner", "--cascade=foreground"])
        #expect(foreground.status == 0, "\(foreground)")
        #expect(try onekube.kubectl(["get", "pods", "-o", "name"]).stdout.isEmpty)

        // Orphan: the dependents stay, without the reference.
        uid = try makeOwner()
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: dependent("kubia-d", owner: uid)).status == 0)
        #expect(try onekube.kubectl(["delete", "configmap", "owner", "--cascade=orphan"]).status == 0)
        try waitUntil("the orphaning") {
            try onekube.kubectl(["get", "pod", "kubia-d", "-o", "jsonpath={.metadata.ownerReferences}"]).stdout.isEmpty
        }
    }

    @Test func replicationControllersReplaceDeletedPods() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        // The test image's httpd ignores SIGTERM as PID 1: scaled-down pods go after 1 s, not 30.
        let rc = try String(contentsOfFile: Self.examples + "/kubia-rc.yaml", encoding: .utf8)
            .replacingOccurrences(of: "    spec:\n      containers:", with: "    spec:\n      terminationGracePeriodSeconds: 1\n      containers:")
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: rc).status == 0)
        try waitUntil("three pods") { try onekube.kubectl(["get", "pods", "-o", "name"]).stdout.split(separator: "\n").count == 3 }
        let victim = try onekube.kubectl(["get", "pods", "-o", "name"]).stdout.split(separator: "\n")[0]
        #expect(try onekube.kubectl(["delete", String(victim)]).status == 0)
        try waitUntil("a replacement") {
            let pods = try onekube.kubectl(["get", "pods", "-o", "name"]).stdout.split(separator: "\n")
            return pods.count == 3 && !pods.contains(victim)
        }
        #expect(try onekube.kubectl(["scale", "rc", "kubia", "--replicas=43"]).status == 0)
        try waitUntil(timeout: 60, "43 ready pods") {
            try onekube.kubectl(["get", "rc", "kubia", "-o", "jsonpath={.status.readyReplicas}"]).stdout == "43"
        }
        #expect(try onekube.docker(["ps", "-q", "--filter", "label=io.kubernetes.container.name=kubia"]).stdout.split(separator: "\n").count == 43)
        #expect(try onekube.kubectl(["scale", "rc", "kubia", "--replicas=1"]).status == 0)
        try waitUntil(timeout: 30, "one pod") { try onekube.kubectl(["get", "pods", "-o", "name"]).stdout.split(separator: "\n").count == 1 }
        try waitUntil("one container") {
            try onekube.docker(["ps", "-q", "--filter", "label=io.kubernetes.container.name=kubia"]).stdout.split(separator: "\n").count == 1
        }
        let events = try onekube.kubectl(["get", "events"]).stdout
        #expect(events.contains("SuccessfulCreate") && events.contains("SuccessfulDelete") && events.contains("Scheduled"), "\(events)")
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"huge"},"spec":{"containers":[{"name":"c","image":"busybox","resources":{"requests":{"memory":"100Ti"}}}]}}"#).status == 0)
        try waitUntil("FailedScheduling") {
            try onekube.kubectl(["describe", "pod", "huge"]).stdout.contains("0/1 nodes are available: 1 Insufficient memory.")
        }
    }

    @Test func deploymentsRollOutAndBack() throws {
        let registry = try ContainerRegistry()
        let onekube = try registry.instance()
        func pods() throws -> [String] {
            try onekube.kubectl(["get", "pods", "-o", "name"]).stdout.split(separator: "\n").map { String($0.dropFirst(4)) }
        }
        func rolledOut() throws -> Bool {
            try onekube.kubectl(["rollout", "status", "deployment/kubia", "--timeout=1s"]).stdout.contains("successfully rolled out")
        }
        // The test image's httpd ignores SIGTERM as PID 1: replaced pods go after 1 s, not 30.
        let deployment = try String(contentsOfFile: Self.examples + "/kubia-deployment.yaml", encoding: .utf8)
            .replacingOccurrences(of: "    spec:\n      containers:", with: "    spec:\n      terminationGracePeriodSeconds: 1\n      containers:")
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: deployment).status == 0)
        try waitUntil(timeout: 60, "the first rollout") { try rolledOut() }
        let first = try onekube.kubectl(["get", "rs", "-o", "name"]).stdout
        #expect(first.split(separator: "\n").count == 1 && first.hasPrefix("replicaset.apps/kubia-"), "\(first)")

        #expect(try onekube.kubectl(["set", "image", "deployment/kubia", "nodejs=luksa/kubia:v2"]).status == 0)
        // The default strategy (25% of 3: no pod unavailable, one surge) keeps three ready pods
        // that are not terminating throughout the rollout.
        var fewest = 3
        try waitUntil(timeout: 60, "the second rollout") {
            fewest = min(fewest, try PodTests.readyPods(onekube, "app=kubia").count)
            return try rolledOut() && pods().count == 3
        }
        #expect(fewest == 3, "ready pods fell to \(fewest) during the rollout")
        let images = try onekube.kubectl(["get", "pods", "-o", "jsonpath={.items[*].spec.containers[0].image}"]).stdout
        #expect(images == "luksa/kubia:v2 luksa/kubia:v2 luksa/kubia:v2", "\(images)")
        let sets = try onekube.kubectl(["get", "rs"]).stdout
        #expect(sets.split(separator: "\n").count == 3, "\(sets)")
        let history = try onekube.kubectl(["rollout", "history", "deployment/kubia"]).stdout
        #expect(history.contains("1 ") && history.contains("2 "), "\(history)")
        let events = try onekube.kubectl(["describe", "deployment", "kubia"]).stdout
        #expect(events.contains("ScalingReplicaSet") && events.contains("NewReplicaSetAvailable"), "\(events)")

        #expect(try onekube.kubectl(["rollout", "undo", "deployment/kubia"]).status == 0)
        try waitUntil(timeout: 60, "the rollback") {
            try rolledOut() && onekube.kubectl(["get", "pods", "-o", "jsonpath={.items[*].spec.containers[0].image}"]).stdout
                == "luksa/kubia:v1 luksa/kubia:v1 luksa/kubia:v1"
        }
        #expect(try onekube.kubectl(["get", "deployment", "kubia", "-o", "jsonpath={.metadata.annotations.deployment\\.kubernetes\\.io/revision}"]).stdout == "3")
        let table = try onekube.kubectl(["get", "deployment", "kubia"]).stdout
        #expect(table.contains("3/3     3            3"), "\(table)")
    }

    @Test func unknownFieldsAreRefusedWarnedOrDroppedAsAsked() throws {
        let onekube = try OnekubeInstance()
        let typo = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: typo\nspec:\n  containers:\n  - name: c\n    image: busybox\n    imagePolicy: Always\n"
        let strict = try onekube.kubectl(["create", "-f", "-"], stdin: typo)
        #expect(strict.status == 1)
        #expect(strict.stderr == #"Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].imagePolicy""# + "\n", "\(strict)")
        let warned = try onekube.kubectl(["create", "--validate=warn", "-f", "-"], stdin: typo)
        #expect(warned.status == 0 && warned.stderr == #"Warning: unknown field "spec.containers[0].imagePolicy""# + "\n", "\(warned)")
        #expect(try onekube.kubectl(["get", "pod", "typo", "-o", "jsonpath={.spec.containers[0]}"]).stdout.contains("imagePolicy") == false)
        let patched = try onekube.kubectl(["patch", "pod", "typo", "--type=merge", "-p", #"{"metadata":{"lables":{"a":"b"}}}"#])
        // patch sends no fieldValidation: the server's default warns and drops the field.
        #expect(patched.status == 0 && patched.stderr == #"Warning: unknown field "metadata.lables""# + "\n", "\(patched)")
        #expect(patched.stdout == "pod/typo patched (no change)\n")
        let ignored = try onekube.kubectl(["apply", "--validate=false", "-f", "-"], stdin: typo.replacingOccurrences(of: "typo", with: "quiet"))
        #expect(ignored.status == 0 && ignored.stderr.isEmpty, "\(ignored)")
    }

    @Test func endpointsFollowReadyPods() throws {
        let onekube = try OnekubeInstance()
        // The pods go to a node no agent runs: the test plays its kubelet and reports their status.
        let rc = try String(contentsOfFile: Self.examples + "/kubia-rc.yaml", encoding: .utf8)
            .replacingOccurrences(of: "    spec:\n      containers:", with: "    spec:\n      nodeName: test-kubelet\n      containers:")
            .replacingOccurrences(of: "        - containerPort: 8080", with: "        - containerPort: 8080\n          name: http")
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: rc).status == 0)
        #expect(try onekube.kubectl(["expose", "rc", "kubia", "--name", "kubia-http"]).status == 0)
        try waitUntil("three pods") { try onekube.kubectl(["get", "pods", "-o", "name"]).stdout.split(separator: "\n").count == 3 }
        let pods = try onekube.kubectl(["get", "pods", "-o", "name"]).stdout.split(separator: "\n").map { String($0.dropFirst(4)) }
        for (i, pod) in pods.enumerated() {
            let ready = i < 2 ? "True" : "False"
            let patch = #"{"status":{"phase":"Running","podIP":"10.244.0.\#(i + 10)","podIPs":[{"ip":"10.244.0.\#(i + 10)"}],"conditions":[{"type":"Ready","status":"\#(ready)"}]}}"#
            #expect(try onekube.kubectl(["patch", "pod", pod, "--subresource=status", "--type=merge", "-p", patch]).status == 0)
        }
        try waitUntil("the endpoints") { try onekube.kubectl(["get", "ep", "kubia-http"]).stdout.contains("10.244.0.10:8080,10.244.0.11:8080") }
        let described = try onekube.kubectl(["describe", "svc", "kubia-http"]).stdout
        #expect(described.contains("Endpoints:         10.244.0.10:8080,10.244.0.11:8080") || described.contains("10.244.0.10:8080,10.244.0.11:8080"), "\(described)")
        let notReady = try onekube.kubectl(["get", "ep", "kubia-http", "-o", "jsonpath={.subsets[0].notReadyAddresses[0].ip}"]).stdout
        #expect(notReady == "10.244.0.12")
        // A targetPort by the container port's name resolves in each pod (80 → http → 8080).
        let named = "apiVersion: v1\nkind: Service\nmetadata: {name: by-name}\nspec:\n  selector: {app: kubia}\n  ports: [{name: web, port: 80, targetPort: http}]\n"
        #expect(try onekube.kubectl(["apply", "-f", "-"], stdin: named).status == 0)
        try waitUntil("the named port's endpoints") {
            try onekube.kubectl(["get", "ep", "by-name", "-o", "jsonpath={.subsets[0].addresses[*].ip} {.subsets[0].ports[0].port} {.subsets[0].ports[0].name}"]).stdout
                == "10.244.0.10 10.244.0.11 8080 web"
        }
        // publishNotReadyAddresses: the not-ready pod is published with the others (StatefulSet peers, DNS-based discovery).
        #expect(try onekube.kubectl(["patch", "svc", "kubia-http", "--type=merge", "-p", #"{"spec":{"publishNotReadyAddresses":true}}"#]).status == 0)
        try waitUntil("the not-ready pod published") {
            try onekube.kubectl(["get", "ep", "kubia-http", "-o", "jsonpath={.subsets[0].addresses[*].ip}"]).stdout == "10.244.0.10 10.244.0.11 10.244.0.12"
        }
    }

    @Test func loadBalancersGetTheirOwnLoopbackAddresses() throws {
        let onekube = try OnekubeInstance()
        func service(_ name: String, _ type: String) -> String {
            #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"\#(name)"},"spec":{"type":"\#(type)","selector":{"app":"\#(name)"},"ports":[{"port":8080}]}}"#
        }
        func ip(_ name: String) throws -> String {
            try onekube.kubectl(["get", "svc", name, "-o", "jsonpath={.status.loadBalancer.ingress[*].ip}"]).stdout
        }
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: service("one", "LoadBalancer")).status == 0)
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: service("two", "LoadBalancer")).status == 0)
        try waitUntil("two addresses") { try ip("one") == onekube.loadBalancerIP(1) && ip("two") == onekube.loadBalancerIP(2) }
        #expect(try onekube.kubectl(["patch", "svc", "one", "--type=merge", "-p", #"{"spec":{"type":"ClusterIP"}}"#]).status == 0)
        try waitUntil("the address given back") { try ip("one").isEmpty }
        #expect(try onekube.kubectl(["get", "svc", "one", "-o", "jsonpath={.spec.ports[0].nodePort}"]).stdout.isEmpty)
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: service("three", "LoadBalancer")).status == 0)
        try waitUntil("the freed address reused") { try ip("three") == onekube.loadBalancerIP(1) }
        let clash = #"{"apiVersion":"v1","kind":"Service","metadata":{"name":"clash"},"spec":{"type":"NodePort","ports":[{"port":80,"nodePort":"# + (try onekube.kubectl(["get", "svc", "two", "-o", "jsonpath={.spec.ports[0].nodePort}"]).stdout) + #"}]}}"#
        let refused = try onekube.kubectl(["create", "-f", "-"], stdin: clash)
        #expect(refused.stderr.contains("provided port is already allocated"), "\(refused)")
    }

    @Test func deletingANamespaceDeletesWhatItHolds() throws {
        let onekube = try OnekubeInstance()
        #expect(try onekube.kubectl(["create", "namespace", "scratch"]).stdout == "namespace/scratch created\n")
        #expect(try onekube.kubectl(["-n", "scratch", "run", "p", "--image=busybox"]).status == 0)
        #expect(try onekube.kubectl(["-n", "scratch", "create", "configmap", "c", "--from-literal=a=b"]).status == 0)
        let deleted = try onekube.kubectl(["delete", "namespace", "scratch"])
        #expect(deleted.stdout == "namespace \"scratch\" deleted\n", "\(deleted)")
        #expect(try onekube.kubectl(["get", "ns", "scratch"]).status == 1)
        let refused = try onekube.kubectl(["-n", "gone", "run", "p", "--image=busybox"])
        #expect(refused.stderr == "Error from server (NotFound): namespaces \"gone\" not found\n", "\(refused)")
    }

    @Test func requestsWithoutTheTokenAreRefused() throws {
        let onekube = try OnekubeInstance()
        let anonymous = try Run.program("curl", ["-s", "--cacert", onekube.caCertificatePath, onekube.apiServerURL + "/api/v1/pods"])
        #expect(anonymous.stdout.contains(#""reason":"Unauthorized""#) && anonymous.stdout.contains(#""code":401"#), "\(anonymous)")
        let authorized = try Run.program("curl", ["-s", "--cacert", onekube.caCertificatePath, "-H", "Authorization: Bearer \(onekube.apiToken)",
                                                  onekube.apiServerURL + "/api/v1/namespaces"])
        #expect(authorized.stdout.contains(#""kind":"NamespaceList""#), "\(authorized)")
        let health = try Run.program("curl", ["-s", "--cacert", onekube.caCertificatePath, onekube.apiServerURL + "/healthz"])
        #expect(health.stdout == "ok")
    }

    @Test func deleteRemovesTheContextAgain() throws {
        let onekube = try OnekubeInstance()
        let config = try String(contentsOfFile: onekube.kubeconfigPath, encoding: .utf8)
        #expect(config.contains("current-context: onekube") && config.contains("certificate-authority-data"))
        #expect(try onekube.onekube(["delete"]).status == 0)
        let after = try String(contentsOfFile: onekube.kubeconfigPath, encoding: .utf8)
        #expect(!after.contains("onekube"), "\(after)")
    }
}

@Suite("Other clients of the API")
struct APIClientTests {
    @Test func thePythonKubernetesClientListsCreatesPatchesAndWatches() throws {
        let onekube = try OnekubeInstance()
        // Debian's python3-kubernetes lives in the system interpreter's path.
        let result = try Run.program("/usr/bin/python3", [Fixtures.path("k8s_client_check.py"), onekube.kubeconfigPath])
        #expect(result.status == 0, "\(result)")
        #expect(result.stdout.hasSuffix("watched MODIFIED,DELETED\nOK\n"), "\(result)")
    }
}
