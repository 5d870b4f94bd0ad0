import Foundation
import Platform
import TestSupport
import Testing

/// kubectl's generator commands (`create namespace|configmap|deployment|…`) go through client-go's
/// typed clients, which send protobuf bodies and never retry with JSON.
@Suite("kubectl's protobuf bodies create the objects they describe")
struct ProtobufBodyTests {
    static let builds = ["kubectl"] + KubectlBuilds.all

    @Test("the create generators", arguments: builds)
    func createGenerators(kubectl: String) throws {
        let onekube = try OnekubeInstance()
        func ok(_ args: [String]) throws -> String {
            let result = try onekube.kubectl(args, binary: kubectl)
            #expect(result.status == 0, "kubectl \(args.joined(separator: " ")): \(result)")
            return result.stdout
        }
        #expect(try ok(["create", "namespace", "proto"]) == "namespace/proto created\n")
        let created = [
            (["create", "configmap", "c", "--from-literal=a=b"], "configmap/c created\n"),
            (["create", "secret", "generic", "s", "--from-literal=a=b"], "secret/s created\n"),
            (["create", "deployment", "d", "--image=busybox", "--replicas=2"], "deployment.apps/d created\n"),
            (["create", "deployment", "idle", "--image=busybox", "--replicas=0"], "deployment.apps/idle created\n"),
            (["create", "serviceaccount", "x"], "serviceaccount/x created\n"),
            (["create", "service", "clusterip", "sv", "--tcp=80:8080"], "service/sv created\n"),
            (["create", "service", "nodeport", "np", "--tcp=81:8081"], "service/np created\n"),
            (["create", "service", "loadbalancer", "lb", "--tcp=82:8082"], "service/lb created\n"),
            (["create", "job", "j", "--image=busybox"], "job.batch/j created\n"),
        ]
        for (args, output) in created { #expect(try ok(["-n", "proto"] + args) == output) }

        let list = try OrderedJSON(parsing: Array(try ok(["-n", "proto", "get", "cm,secret,deploy,sa,svc,job", "-o", "json"]).utf8))
        let items = list["items"]?.arrayValue ?? []
        func item(_ kind: String, _ name: String) -> OrderedJSON {
            items.first { $0["kind"]?.stringValue == kind && $0[path: ["metadata", "name"]]?.stringValue == name } ?? .null
        }
        #expect(try ok(["get", "namespace", "proto", "-o", "jsonpath={.status.phase}"]) == "Active")
        #expect(item("ConfigMap", "c")[path: ["data", "a"]] == .string("b"))
        let secret = item("Secret", "s")
        #expect(secret["type"] == .string("Opaque"))
        #expect(secret[path: ["data", "a"]]?.stringValue.flatMap { Data(base64Encoded: $0) } == Data("b".utf8), "\(secret)")

        let deployment = item("Deployment", "d")
        #expect(deployment[path: ["spec", "replicas"]] == .int(2))
        #expect(deployment[path: ["spec", "selector", "matchLabels", "app"]] == .string("d"))
        #expect(deployment[path: ["spec", "strategy", "type"]] == .string("RollingUpdate"), "\(deployment)")
        let container = deployment[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first
        #expect(container?["name"] == .string("busybox") && container?["image"] == .string("busybox"), "\(deployment)")
        // A pointer field set to zero is sent, and stays zero instead of being defaulted to 1.
        #expect(item("Deployment", "idle")[path: ["spec", "replicas"]] == .int(0))
        #expect(item("ServiceAccount", "x")[path: ["metadata", "name"]] == .string("x"))

        let port = item("Service", "sv")[path: ["spec", "ports"]]?.arrayValue?.first
        #expect(port?["port"] == .int(80) && port?["targetPort"] == .int(8080) && port?["protocol"] == .string("TCP"), "\(String(describing: port))")
        #expect(item("Service", "sv")[path: ["spec", "type"]] == .string("ClusterIP"))
        #expect(item("Service", "sv")[path: ["spec", "clusterIP"]]?.stringValue?.hasPrefix("10.") == true)
        let nodePort = item("Service", "np")[path: ["spec", "ports"]]?.arrayValue?.first?["nodePort"]?.intValue ?? 0
        #expect((30000...32767).contains(nodePort), "\(item("Service", "np"))")
        #expect(item("Service", "lb")[path: ["spec", "type"]] == .string("LoadBalancer"))
        let job = item("Job", "j")[path: ["spec", "template", "spec"]]
        #expect(job?["restartPolicy"] == .string("Never") && job?["containers"]?.arrayValue?.first?["image"] == .string("busybox"), "\(String(describing: job))")
        // The deployment's pods are made from the template kubectl sent.
        try waitUntil("two pods") { try ok(["-n", "proto", "get", "deploy", "d", "-o", "jsonpath={.status.replicas}"]) == "2" }
        // With a precondition kubectl scale PUTs a Scale, whose replicas 0 Go leaves out of the JSON.
        #expect(try ok(["-n", "proto", "scale", "deploy", "d", "--current-replicas=2", "--replicas=0"]) == "deployment.apps/d scaled\n")
        #expect(try ok(["-n", "proto", "get", "deploy", "d", "-o", "jsonpath={.spec.replicas}"]) == "0")
    }

    @Test func undecodableBodiesGetTheApiserversAnswers() throws {
        let onekube = try OnekubeInstance()
        func post(_ body: [UInt8], to path: String = "/api/v1/namespaces") throws -> String {
            let file = onekube.scratchDirectory + "/body"
            try Data(body).write(to: URL(fileURLWithPath: file))
            return try Run.program("curl", ["-s", "--cacert", onekube.caCertificatePath, "-H", "Authorization: Bearer \(onekube.apiToken)",
                                            "-H", "Content-Type: application/vnd.kubernetes.protobuf", "--data-binary", "@" + file,
                                            onekube.apiServerURL + path]).stdout
        }
        let magic: [UInt8] = [0x6B, 0x38, 0x73, 0x00]
        // An envelope whose raw bytes claim more than the body holds.
        let cut = try post(magic + [0x12, 0x09, 0x0A, 0x03, 0x0A, 0x01])
        #expect(cut.contains(#""message":"the object provided is unrecognized (must be of type Namespace): unexpected EOF (6b38730012090a030a01)""#), "\(cut)")
        #expect(cut.contains(#""reason":"BadRequest""#) && cut.contains(#""code":400"#), "\(cut)")
        // A whole envelope around an object that is cut short.
        let object: [UInt8] = [0x0A, 0x05, 0x0A, 0x03, 0x66]
        let short = try post(magic + [0x0A, 0x0F, 0x0A, 0x02] + Array("v1".utf8) + [0x12, 0x09] + Array("Namespace".utf8) + [0x12, UInt8(object.count)] + object)
        #expect(short.contains(#""message":"Namespace in version \"v1\" cannot be handled as a Namespace: unexpected EOF""#), "\(short)")
        let widget = try post(magic + [0x0A, 0x0C, 0x0A, 0x02] + Array("v1".utf8) + [0x12, 0x06] + Array("Widget".utf8) + [0x12, 0x00])
        #expect(widget.contains(#"Widget in version \"v1\" cannot be handled as a Namespace: no kind \"Widget\" is registered for version \"v1\""#), "\(widget)")
        // Protobuf is no patch format, here or in the apiserver.
        let patch = try Run.program("curl", ["-s", "-X", "PATCH", "--cacert", onekube.caCertificatePath, "-H", "Authorization: Bearer \(onekube.apiToken)",
                                             "-H", "Content-Type: application/vnd.kubernetes.protobuf", "--data-binary", "x",
                                             onekube.apiServerURL + "/api/v1/namespaces/default"]).stdout
        #expect(patch.contains(#""message":"the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json""#), "\(patch)")
        #expect(patch.contains(#""code":415"#), "\(patch)")
    }
}
