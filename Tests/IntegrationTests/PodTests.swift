import Foundation
import Glibc
import Platform
import TestSupport
import Testing

/// Pods really run: the node agents start sandboxes and containers on onekube's runtime, with
/// images from a local registry standing in for Docker Hub (the book's section 2.3).
@Suite("Pods run on the runtime")
struct PodTests {
    static let kubiaRC = """
        apiVersion: v1
        kind: ReplicationController
        metadata:
          name: kubia
        spec:
          replicas: 1
          selector:
            app: kubia
          template:
            metadata:
              labels:
                app: kubia
            spec:
              # The test's httpd, as PID 1, ignores SIGTERM like the book's node app: 1 s, not 30.
              terminationGracePeriodSeconds: 1
              containers:
              - name: kubia
                image: luksa/kubia
                ports:
                - containerPort: 8080
        """

    static func jsonpath(_ onekube: OnekubeInstance, _ arguments: [String]) throws -> String {
        try onekube.kubectl(arguments).stdout
    }

    /// Names of the pods matching `selector` that run and are ready.
    static func readyPods(_ onekube: OnekubeInstance, _ selector: String) throws -> [String] {
        let lines = try jsonpath(onekube, ["get", "pods", "-l", selector, "-o",
            #"jsonpath={range .items[*]}{.metadata.name} {.status.phase} {.status.containerStatuses[0].ready} {.metadata.deletionTimestamp}{"\n"}{end}"#])
        return lines.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            return fields.count == 3 && fields[1] == "Running" && fields[2] == "true" ? fields[0] : nil
        }
    }

    static func curl(_ address: String) -> String {
        (try? Run.program("curl", ["-s", "--max-time", "3", address]))?.stdout ?? ""
    }

    @Test func theBooksReplicationControllerServesFromEveryPod() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: Self.kubiaRC).stdout == "replicationcontroller/kubia created\n")
        var first = ""
        try waitUntil(timeout: 60, "the kubia pod runs") {
            first = try Self.readyPods(onekube, "app=kubia").first ?? ""
            return !first.isEmpty
        }
        let ip = try Self.jsonpath(onekube, ["get", "pod", first, "-o", "jsonpath={.status.podIP}"])
        #expect(!ip.isEmpty && !ip.hasPrefix("127."))
        #expect(Self.curl("\(ip):8080") == "You've hit \(first)\n", "hostname = pod name")
        let table = try onekube.kubectl(["get", "pods", "-o", "wide"]).stdout
        #expect(table.contains("\(first)   1/1     Running   0 ") && table.contains(ip) && table.contains("onekube"), "\(table)")
        let described = try onekube.kubectl(["describe", "pod", first]).stdout
        for reason in ["Scheduled", "Pulling", "Pulled", "Created", "Started"] {
            #expect(described.contains("  \(reason) "), "\(reason) in\n\(described)")
        }
        #expect(described.contains("Successfully pulled image \"luksa/kubia\""), "\(described)")

        // Scale to three: three pods, each with its own address, each answering with its name.
        #expect(try onekube.kubectl(["scale", "rc", "kubia", "--replicas=3"]).status == 0)
        var pods: [String] = []
        try waitUntil(timeout: 60, "three kubia pods run") {
            pods = try Self.readyPods(onekube, "app=kubia")
            return pods.count == 3
        }
        var addresses = Set<String>()
        for pod in pods {
            let address = try Self.jsonpath(onekube, ["get", "pod", pod, "-o", "jsonpath={.status.podIP}"])
            addresses.insert(address)
            #expect(Self.curl("\(address):8080") == "You've hit \(pod)\n")
        }
        #expect(addresses.count == 3)
        // A second pod of the same image finds it present.
        let second = try onekube.kubectl(["describe", "pod", pods.first { $0 != first } ?? ""]).stdout
        #expect(second.contains("Container image \"luksa/kubia\" already present on machine") || second.contains("Successfully pulled"), "\(second)")

        // A deleted pod is replaced; the old one's containers are gone from the runtime.
        #expect(try onekube.kubectl(["delete", "pod", first]).status == 0)
        try waitUntil(timeout: 60, "the replacement runs") {
            let now = try Self.readyPods(onekube, "app=kubia")
            return now.count == 3 && !now.contains(first)
        }
        let containers = try onekube.docker(["ps", "-a", "--format", "{{.Names}}"]).stdout
        #expect(!containers.contains("_\(first)_"), "\(containers)")

        // Deleting the RC removes its pods and their containers.
        #expect(try onekube.kubectl(["delete", "rc", "kubia"]).status == 0)
        try waitUntil(timeout: 60, "the pods go") { try onekube.kubectl(["get", "pods", "-o", "name"]).stdout.isEmpty }
        try waitUntil("the containers go") { try onekube.docker(["ps", "-aq"]).stdout.isEmpty }
    }

    @Test func logsRestartsAndBackOff() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"crasher"},"spec":{"containers":[{"name":"main","image":"busybox","command":["sh","-c","echo run $(cat /proc/sys/kernel/random/uuid); sleep 0.2; echo to stderr >&2; exit 3"]}]}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: pod).status == 0)
        try waitUntil(timeout: 60, "the first restart") {
            Int(try Self.jsonpath(onekube, ["get", "pod", "crasher", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"])) ?? 0 >= 1
        }
        try waitUntil(timeout: 60, "CrashLoopBackOff") {
            try Self.jsonpath(onekube, ["get", "pod", "crasher", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"]) == "CrashLoopBackOff"
        }
        let status = try Self.jsonpath(onekube, ["get", "pod", "crasher", "-o", "jsonpath={.status.containerStatuses[0].lastState.terminated.exitCode} {.status.containerStatuses[0].lastState.terminated.reason}"])
        #expect(status == "3 Error")
        let table = try onekube.kubectl(["get", "pod", "crasher"]).stdout
        #expect(table.contains("CrashLoopBackOff"), "\(table)")
        let logs = try onekube.kubectl(["logs", "crasher"])
        #expect(logs.status == 0 && logs.stdout.hasPrefix("run ") && logs.stdout.contains("to stderr\n"), "\(logs)")
        let previous = try onekube.kubectl(["logs", "crasher", "--previous"])
        #expect(previous.status == 0 && previous.stdout.hasPrefix("run ") && previous.stdout != logs.stdout, "\(previous) vs \(logs)")
        let tail = try onekube.kubectl(["logs", "crasher", "--tail=1"])
        #expect(tail.stdout == "to stderr\n", "\(tail)")
        let described = try onekube.kubectl(["describe", "pod", "crasher"]).stdout
        #expect(described.contains("Back-off restarting failed container main in pod crasher_default("), "\(described)")

        // A pod that runs to completion with restartPolicy Never succeeds, and its log stays.
        let once = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"once"},"spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"busybox","command":["echo","Hello world"]}]}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: once).status == 0)
        try waitUntil(timeout: 60, "the pod succeeds") {
            try Self.jsonpath(onekube, ["get", "pod", "once", "-o", "jsonpath={.status.phase}"]) == "Succeeded"
        }
        #expect(try onekube.kubectl(["logs", "once"]).stdout == "Hello world\n")
        #expect(try onekube.kubectl(["logs", "-f", "--timestamps", "once"]).stdout.hasSuffix("Z Hello world\n"))
        #expect(try onekube.kubectl(["get", "pod", "once"]).stdout.contains("Completed"))

        // Never pulling a missing image is the kubelet's ErrImageNeverPull.
        let never = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"never"},"spec":{"containers":[{"name":"main","image":"nosuch/image:1","imagePullPolicy":"Never"}]}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: never).status == 0)
        try waitUntil(timeout: 30, "ErrImageNeverPull") {
            try Self.jsonpath(onekube, ["get", "pod", "never", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"]) == "ErrImageNeverPull"
        }
        // A missing image on the registry is ErrImagePull, then ImagePullBackOff.
        let missing = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"missing"},"spec":{"containers":[{"name":"main","image":"nosuch/image:1"}]}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: missing).status == 0)
        try waitUntil(timeout: 60, "ImagePullBackOff") {
            try Self.jsonpath(onekube, ["get", "pod", "missing", "-o", "jsonpath={.status.containerStatuses[0].state.waiting.reason}"]) == "ImagePullBackOff"
        }
        let waitingLogs = try onekube.kubectl(["logs", "missing"])
        #expect(waitingLogs.stderr.contains("is waiting to start: ImagePullBackOff"), "\(waitingLogs)")
    }

    @Test func probesVolumesAndEnvironment() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let setup = """
            apiVersion: v1
            kind: ConfigMap
            metadata:
              name: settings
            data:
              greeting: hello from a configmap
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: probed
            spec:
              volumes:
              - name: config
                configMap:
                  name: settings
              - name: scratch
                emptyDir: {}
              containers:
              - name: web
                image: luksa/kubia
                env:
                - name: MY_POD_NAME
                  valueFrom:
                    fieldRef:
                      fieldPath: metadata.name
                volumeMounts:
                - name: config
                  mountPath: /etc/settings
                - name: scratch
                  mountPath: /scratch
                readinessProbe:
                  exec:
                    command: ["test", "-e", "/scratch/ready"]
                  periodSeconds: 1
                livenessProbe:
                  httpGet:
                    path: /
                    port: 8080
                  periodSeconds: 1
            """
        #expect(try onekube.kubectl(["apply", "-f", "-"], stdin: setup).status == 0)
        try waitUntil(timeout: 60, "the container runs") {
            try Self.jsonpath(onekube, ["get", "pod", "probed", "-o", "jsonpath={.status.phase}"]) == "Running"
        }
        // Not ready until the exec probe's file exists.
        #expect(try Self.jsonpath(onekube, ["get", "pod", "probed", "-o", "jsonpath={.status.containerStatuses[0].ready}"]) == "false")
        let podUID = try Self.jsonpath(onekube, ["get", "pod", "probed", "-o", "jsonpath={.metadata.uid}"])
        let scratch = onekube.dataDirectory + "/pods/\(podUID)/volumes/kubernetes.io~empty-dir/scratch"
        #expect(FileManager.default.createFile(atPath: scratch + "/ready", contents: Data()))
        do {
            try waitUntil(timeout: 30, "the readiness probe passes") {
                try Self.jsonpath(onekube, ["get", "pod", "probed", "-o", "jsonpath={.status.containerStatuses[0].ready}"]) == "true"
            }
        } catch {
            Issue.record("\(error)\n\(try onekube.kubectl(["describe", "pod", "probed"]).stdout)\n\(onekube.daemonLog.suffix(3000))")
        }
        // What the container sees, through its own output (a second container runs the checks).
        let checker = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"checker"},"spec":{"restartPolicy":"Never","volumes":[{"name":"config","configMap":{"name":"settings"}}],"containers":[{"name":"main","image":"busybox","env":[{"name":"MY_POD_NAME","valueFrom":{"fieldRef":{"fieldPath":"metadata.name"}}}],"volumeMounts":[{"name":"config","mountPath":"/etc/settings","readOnly":true}],"command":["sh","-c","cat /etc/settings/greeting; echo; echo $MY_POD_NAME; hostname; grep nameserver /etc/resolv.conf; grep search /etc/resolv.conf"]}]}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: checker).status == 0)
        try waitUntil(timeout: 60, "the checker finishes") {
            try Self.jsonpath(onekube, ["get", "pod", "checker", "-o", "jsonpath={.status.phase}"]) == "Succeeded"
        }
        let seen = try onekube.kubectl(["logs", "checker"]).stdout
        #expect(seen.hasPrefix("hello from a configmap\nchecker\nchecker\nnameserver \(onekube.serviceIP(10))\nsearch default.svc.cluster.local svc.cluster.local cluster.local\n"), "\(seen)")
        // Still alive: the liveness probe answers.
        #expect(try Self.jsonpath(onekube, ["get", "pod", "probed", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"]) == "0")
        // The volumes' directory is onekube's own: `delete` takes the data directory with it.
        let deleted = try onekube.onekube(["delete"])
        #expect(deleted.status == 0 && !FileManager.default.fileExists(atPath: onekube.dataDirectory), "\(deleted)")
    }

    @Test func aFailingLivenessProbeRestartsTheContainer() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let pod = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"unhealthy"},"spec":{"terminationGracePeriodSeconds":1,"containers":[{"name":"web","image":"luksa/kubia","livenessProbe":{"httpGet":{"path":"/","port":8081},"periodSeconds":1,"failureThreshold":2}}]}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: pod).status == 0)
        try waitUntil(timeout: 60, "a restart") {
            Int(try Self.jsonpath(onekube, ["get", "pod", "unhealthy", "-o", "jsonpath={.status.containerStatuses[0].restartCount}"])) ?? 0 >= 1
        }
        let described = try onekube.kubectl(["describe", "pod", "unhealthy"]).stdout
        #expect(described.contains("Liveness probe failed: Get \"http://"), "\(described)")
        #expect(described.contains("Container web failed liveness probe, will be restarted"), "\(described)")
    }

    @Test func nodeSelectorsAndStoppedNodes() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance(arguments: ["--nodes", "3", "--node-monitor-grace-period", "2", "--pod-eviction-timeout", "1"])
        #expect(try onekube.kubectl(["label", "node", "onekube-m02", "ssd=true"]).status == 0)
        let pinned = #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"on-ssd"},"spec":{"terminationGracePeriodSeconds":1,"nodeSelector":{"ssd":"true"},"containers":[{"name":"web","image":"luksa/kubia"}]}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: pinned).status == 0)
        try waitUntil(timeout: 60, "on-ssd runs") { try Self.readyPods(onekube, "").contains("on-ssd") }
        #expect(try Self.jsonpath(onekube, ["get", "pod", "on-ssd", "-o", "jsonpath={.spec.nodeName}"]) == "onekube-m02")

        let rc = Self.kubiaRC.replacingOccurrences(of: "replicas: 1", with: "replicas: 3")
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: rc).status == 0)
        try waitUntil(timeout: 60, "three kubia pods") { try Self.readyPods(onekube, "app=kubia").count == 3 }
        let onM03 = try Self.jsonpath(onekube, ["get", "pods", "-l", "app=kubia", "--field-selector", "spec.nodeName=onekube-m03", "-o", "name"])
        #expect(!onM03.isEmpty, "the replicas spread over the nodes")
        let containersBefore = try onekube.docker(["ps", "-q"]).stdout.split(separator: "\n").count

        // A stopped node's pods stop with it, and the RC's come back on the other nodes.
        #expect(try onekube.onekube(["node", "stop", "onekube-m03"]).status == 0)
        // The evicted pods stay Terminating, as on a real cluster whose node died: nobody is left
        // to confirm their end.
        try waitUntil(timeout: 60, "the replicas replaced elsewhere") {
            let ready = try Self.readyPods(onekube, "app=kubia")
            let nodes = try ready.map { try Self.jsonpath(onekube, ["get", "pod", $0, "-o", "jsonpath={.spec.nodeName}"]) }
            return ready.count == 3 && !nodes.contains("onekube-m03")
        }
        #expect(try onekube.docker(["ps", "-q"]).stdout.split(separator: "\n").count <= containersBefore)
    }

    @Test func podsComeBackAfterTheDaemonRestartsAndNothingLeaks() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let rc = Self.kubiaRC.replacingOccurrences(of: "replicas: 1", with: "replicas: 2")
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: rc).status == 0)
        var pods: [String] = []
        try waitUntil(timeout: 60, "two kubia pods") {
            pods = try Self.readyPods(onekube, "app=kubia")
            return pods.count == 2
        }
        #expect(try onekube.stop().status == 0)
        let stopped = try HostFootprint.of(onekube)
        #expect(HostFootprint.cgroupParents(onekube).isEmpty && stopped.mounts == 0 && stopped.veths.isEmpty,
                "onekube stop leaves no container, cgroup, veth or mount: \(stopped)")

        try onekube.start(["--registry-mirror", "http://\(images.registry.host)"])
        try waitUntil(timeout: 60, "the same pods running again") { try Self.readyPods(onekube, "app=kubia").sorted() == pods.sorted() }
        // The status read Ready before the stop too: what counts is each pod answering again.
        for pod in pods {
            try waitUntil(timeout: 30, "\(pod) answering") {
                let ip = try Self.jsonpath(onekube, ["get", "pod", pod, "-o", "jsonpath={.status.podIP}"])
                return Self.curl("\(ip):8080") == "You've hit \(pod)\n"
            }
        }

        // After kill -9, the next start removes what the pods left and runs them again.
        let daemon = try #require(onekube.pid)
        kill(daemon, SIGKILL)
        try waitUntil("the daemon to die") { !ProcessSpawner.isAlive(daemon) }
        try onekube.start(["--registry-mirror", "http://\(images.registry.host)"])
        try waitUntil(timeout: 60, "the pods running after the crash") {
            let running = try Self.readyPods(onekube, "app=kubia")
            let containers = try onekube.docker(["ps", "-a", "-q"]).stdout.split(separator: "\n").count
            return running.sorted() == pods.sorted() && containers == 2
        }
    }
}
