import Foundation
import Glibc
import TestSupport
import Testing

/// The book's chapters 1–2 end to end (../shared/spec/walkthrough.md), offline: once with
/// onekube alone (`onekube demo`), once with the real docker CLI and the real kubectl, whose
/// output onekube's kubectl mode must then match on the same cluster.
@Suite("The book's walkthrough, end to end")
struct WalkthroughTests {
    /// The offline kubia example's build context, with the host's static busybox in it.
    static func offlineContext(in directory: String) throws -> String {
        let context = directory + "/kubia-offline"
        try FileManager.default.createDirectory(atPath: context, withIntermediateDirectories: true)
        let example = Fixtures.packageRoot + "/Resources/examples/kubia-offline"
        for name in try FileManager.default.contentsOfDirectory(atPath: example) where name != "busybox" {
            try FileManager.default.copyItem(atPath: example + "/" + name, toPath: context + "/" + name)
        }
        try FileManager.default.copyItem(atPath: "/bin/busybox", toPath: context + "/busybox")
        return context
    }

    /// Names of the ready pods with `run=kubia`.
    static func readyKubiaPods(_ onekube: OnekubeInstance) throws -> [String] {
        try PodTests.readyPods(onekube, "run=kubia")
    }

    @Test func theDemoRunsTheBooksFlowWithOnekubeAlone() throws {
        let onekube = try OnekubeInstance()
        let demo = try onekube.onekube(["demo"], environment: ["KUBECONFIG": onekube.kubeconfigPath])
        #expect(demo.status == 0, "\(demo)")
        let output = demo.stdout
        for shown in ["$ onekube docker build -t kubia ", "Successfully tagged kubia:latest", "$ onekube docker run --name kubia-container -p 8080:8080 -d kubia",
                      "$ curl localhost:8080\nYou've hit ", "replicationcontroller/kubia created\n", "service/kubia-http exposed\n",
                      "$ curl \(onekube.loadBalancerIP(1)):8080\nYou've hit kubia-", "replicationcontroller/kubia scaled\n",
                      "$ onekube kubectl delete rc kubia\nreplicationcontroller \"kubia\" deleted\n"] {
            #expect(output.contains(shown), "the demo shows \(shown)\n\(output)")
        }
        let verdict = output.split(separator: "\n").last.map(String.init) ?? ""
        #expect(verdict.hasPrefix("onekube demo: it works") && (verdict.contains("from 3 pods") || verdict.contains("from 2 pods")), "\(verdict)")
        // It cleaned up after itself but for the image.
        #expect(try onekube.kubectl(["get", "rc,svc", "-l", "run=kubia", "-o", "name"]).stdout.isEmpty)
        #expect(try !onekube.docker(["ps", "-a"]).stdout.contains("kubia-container"))
        #expect(try onekube.docker(["images", "-q", "kubia"]).stdout.isEmpty == false)

        // Again: the build comes from the cache and the flow still works.
        let again = try onekube.onekube(["demo"], environment: ["KUBECONFIG": onekube.kubeconfigPath])
        #expect(again.status == 0 && again.stdout.contains("Using cache"), "\(again)")
    }

    @Test func theWalkthroughWithTheRealDockerCLIAndKubectl() throws {
        let onekube = try OnekubeInstance()
        let context = try Self.offlineContext(in: onekube.scratchDirectory)
        // 2.1 with the real docker CLI (the legacy builder: no buildx on these machines).
        let built = try onekube.realDocker(["build", "-t", "kubia", context], environment: ["DOCKER_BUILDKIT": "0"])
        #expect(built.status == 0 && built.stdout.contains("Successfully tagged kubia:latest"), "\(built)")
        let port = try freePort()
        let ran = try onekube.realDocker(["run", "--name", "kubia-container", "-p", "\(port):8080", "-d", "kubia"])
        #expect(ran.status == 0, "\(ran)")
        let id = String(ran.stdout.prefix(12))
        var answer = ""
        try waitUntil("the container answers") {
            answer = (try? Run.program("curl", ["-s", "--max-time", "3", "127.0.0.1:\(port)"]))?.stdout ?? ""
            return !answer.isEmpty
        }
        #expect(answer == "You've hit \(id)\n")
        #expect(try onekube.realDocker(["stop", "kubia-container"]).stdout == "kubia-container\n")
        #expect(try onekube.realDocker(["rm", "kubia-container"]).stdout == "kubia-container\n")

        // 2.3 with the real kubectl: kubectl ≥ 1.18 has no run/v1 generator, so the same RC from a
        // manifest, with the local image.
        let rc = """
            apiVersion: v1
            kind: ReplicationController
            metadata:
              name: kubia
              labels:
                run: kubia
            spec:
              replicas: 1
              selector:
                run: kubia
              template:
                metadata:
                  labels:
                    run: kubia
                spec:
                  containers:
                  - name: kubia
                    image: kubia
                    imagePullPolicy: IfNotPresent
                    ports:
                    - containerPort: 8080
            """
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: rc).stdout == "replicationcontroller/kubia created\n")
        try waitUntil(timeout: 60, "the pod runs") { try Self.readyKubiaPods(onekube).count == 1 }
        #expect(try onekube.kubectl(["expose", "rc", "kubia", "--type=LoadBalancer", "--name", "kubia-http"]).stdout == "service/kubia-http exposed\n")
        var external = ""
        try waitUntil("an EXTERNAL-IP") {
            external = try onekube.kubectl(["get", "svc", "kubia-http", "-o", "jsonpath={.status.loadBalancer.ingress[0].ip}"]).stdout
            return !external.isEmpty
        }
        #expect(external == onekube.loadBalancerIP(1))
        #expect(try onekube.kubectl(["scale", "rc", "kubia", "--replicas=3"]).stdout == "replicationcontroller/kubia scaled\n")
        var pods: [String] = []
        try waitUntil(timeout: 60, "three pods run") {
            pods = try Self.readyKubiaPods(onekube)
            return pods.count == 3
        }
        var answers = Set<String>()
        try waitUntil("answers from every pod") {
            for _ in 0..<6 {
                if let answer = try? Run.program("curl", ["-s", "--max-time", "3", "\(external):8080"]).stdout { answers.insert(answer) }
            }
            return answers == Set(pods.map { "You've hit \($0)\n" })
        }

        // onekube's kubectl mode prints what the real kubectl prints for the walkthrough's commands.
        for command in [["get", "pods"], ["get", "services"], ["get", "replicationcontrollers"], ["get", "pods", "-o", "wide"],
                        ["describe", "rc", "kubia"], ["describe", "svc", "kubia-http"], ["describe", "pod", pods[0]], ["logs", pods[0]],
                        ["exec", pods[0], "--", "hostname"], ["exec", pods[0], "--", "sh", "-c", "ps | grep -c httpd"]] {
            try KubectlModeTests.compare(onekube, command)
        }
    }
}
