import Foundation
import Platform
import Testing
@testable import KubeModel

func json(_ text: String) throws -> OrderedJSON { try OrderedJSON(parsing: Array(text.utf8)) }

@Suite struct HumanDurationTests {
    static let cases: [(Double, String)] = [
        (-5, "<invalid>"), (-0.5, "0s"), (0, "0s"), (119, "119s"), (120, "2m"), (303, "5m3s"), (599, "9m59s"),
        (600, "10m"), (179 * 60, "179m"), (3 * 3600, "3h"), (3 * 3600 + 5 * 60, "3h5m"), (8 * 3600, "8h"),
        (47 * 3600, "47h"), (48 * 3600, "2d"), (74 * 3600, "3d2h"), (8 * 86400, "8d"), (729 * 86400, "729d"),
        (730 * 86400, "2y"), (731 * 86400, "2y1d"), (8 * 365 * 86400, "8y"),
    ]

    @Test("apimachinery's HumanDuration", arguments: cases)
    func format(seconds: Double, text: String) {
        #expect(HumanDuration.format(seconds) == text)
    }

    @Test func missingTimestampIsUnknown() {
        #expect(KubeTime.age(of: nil) == "<unknown>")
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(KubeTime.age(of: KubeTime.format(now.addingTimeInterval(-65)), now: now) == "65s")
        #expect(KubeTime.formatMicro(Date(timeIntervalSince1970: 1.25)) == "1970-01-01T00:00:01.250000Z")
    }
}

@Suite struct SelectorTests {
    static let labels = ["app": "kubia", "tier": "web", "rel": "3"]
    static let cases: [(String, Bool)] = [
        ("", true), ("app=kubia", true), ("app==kubia", true), ("app!=kubia", false), ("app!=other", true),
        ("missing!=x", true), ("app in (kubia,foo)", true), ("app notin (kubia)", false), ("missing notin (x)", true),
        ("app", true), ("!app", false), ("!missing", true), ("app=kubia,tier=web", true), ("app=kubia,tier=db", false),
        ("rel>2", true), ("rel<2", false), ("tier in (db, web),app", true),
    ]

    @Test("label selectors", arguments: cases)
    func labelSelector(text: String, matches: Bool) throws {
        #expect(try LabelSelector(parsing: text).matches(Self.labels) == matches)
    }

    @Test func badLabelSelectorsAreBadRequests() {
        #expect(throws: APIError.self) { try LabelSelector(parsing: "app in kubia") }
        #expect(throws: APIError.self) { try LabelSelector(parsing: "a b c") }
        #expect(throws: APIError.self) { try LabelSelector(parsing: "bad key!=x") }
    }

    @Test func fieldSelectorsUseTheResourcesFields() throws {
        let pod = try json(#"{"metadata":{"name":"kubia","namespace":"default"},"spec":{"nodeName":"n1"},"status":{"phase":"Running"}}"#)
        let pods = try #require(ResourceCatalog.find(kind: "Pod"))
        #expect(try FieldSelector(parsing: "spec.nodeName=n1,status.phase!=Succeeded,status.phase!=Failed").matches(pod, type: pods))
        #expect(try !FieldSelector(parsing: "metadata.name=other").matches(pod, type: pods))
        #expect(throws: APIError.self) { try FieldSelector(parsing: "spec.bogus=x").validate(for: pods) }
        let events = try #require(ResourceCatalog.find(kind: "Event"))
        let event = try json(#"{"metadata":{"name":"e"},"involvedObject":{"kind":"Node","name":"n1","namespace":""},"source":{"component":"kubelet"}}"#)
        #expect(try FieldSelector(parsing: "involvedObject.name=n1,involvedObject.namespace=,involvedObject.kind=Node,source=kubelet").matches(event, type: events))
    }

    @Test func selectorFromMatchExpressions() throws {
        let selector = LabelSelector(labelSelectorJSON: try json(#"{"matchLabels":{"app":"kubia"},"matchExpressions":[{"key":"tier","operator":"In","values":["web"]}]}"#))
        #expect(selector.matches(Self.labels))
        #expect(selector.description == "app=kubia,tier in (web)")
    }
}

@Suite struct PatchTests {
    @Test func mergePatchFollowsRFC7386() throws {
        let target = try json(#"{"a":"b","c":{"d":"e","f":"g"},"l":[1,2]}"#)
        let patch = try json(#"{"a":"z","c":{"f":null},"l":[3],"n":{"x":1}}"#)
        #expect(Patch.merge(target, patch).serialized() == #"{"a":"z","c":{"d":"e"},"l":[3],"n":{"x":1}}"#)
    }

    @Test func jsonPatchOperations() throws {
        let target = try json(#"{"metadata":{"labels":{"a":"1"}},"list":[1,2,3]}"#)
        let ops = try json(#"[{"op":"add","path":"/metadata/labels/b","value":"2"},{"op":"remove","path":"/list/0"},{"op":"replace","path":"/metadata/labels/a","value":"x"},{"op":"add","path":"/list/-","value":9},{"op":"test","path":"/list/0","value":2}]"#)
        #expect(try Patch.jsonPatch(target, ops).serialized() == #"{"metadata":{"labels":{"a":"x","b":"2"}},"list":[2,3,9]}"#)
        #expect(throws: APIError.self) { try Patch.jsonPatch(target, try json(#"[{"op":"remove","path":"/nope"}]"#)) }
    }

    @Test func strategicMergeAsKubectlApplySendsIt() throws {
        let target = try json(#"{"spec":{"containers":[{"name":"kubia","image":"luksa/kubia","ports":[{"containerPort":8080,"protocol":"TCP"}]},{"name":"side","image":"b"}]}}"#)
        let patch = try json(#"{"spec":{"$setElementOrder/containers":[{"name":"kubia"},{"name":"side"}],"containers":[{"$setElementOrder/ports":[{"containerPort":9090}],"image":"luksa/kubia:v2","name":"kubia","ports":[{"containerPort":9090,"protocol":"TCP"},{"$patch":"delete","containerPort":8080}]}]}}"#)
        let result = Patch.strategicMerge(target, patch)
        #expect(result.serialized() == #"{"spec":{"containers":[{"name":"kubia","image":"luksa/kubia:v2","ports":[{"containerPort":9090,"protocol":"TCP"}]},{"name":"side","image":"b"}]}}"#)
    }

    @Test func strategicMergeDirectives() throws {
        let target = try json(#"{"m":{"a":1,"b":2},"r":{"x":1,"y":2},"f":["a","b","c"],"env":[{"name":"A","value":"1"}]}"#)
        let patch = try json(#"{"m":{"$patch":"replace","c":3},"r":{"$retainKeys":["x"],"x":5},"$deleteFromPrimitiveList/f":["b"],"env":[{"name":"B","value":"2"}]}"#)
        #expect(Patch.strategicMerge(target, patch).serialized() == #"{"m":{"c":3},"r":{"x":5},"f":["a","c"],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}"#)
    }
}

@Suite struct ValidationTests {
    @Test func badNamesReadLikeTheAPIServer() throws {
        let pods = try #require(ResourceCatalog.find(kind: "Pod"))
        let pod = try json(#"{"metadata":{"name":"Bad_Name"},"spec":{}}"#)
        let error = APIError.invalid(kind: "Pod", name: "Bad_Name", Validation.validate(pod, type: pods))
        #expect(error.code == 422)
        #expect(error.message == #"Pod "Bad_Name" is invalid: [metadata.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*'), spec.containers: Required value]"#)
        let causes = error.details?["causes"]?.arrayValue ?? []
        #expect(causes.map { $0["field"]?.stringValue } == ["metadata.name", "spec.containers"])
        #expect(causes.map { $0["reason"]?.stringValue } == ["FieldValueInvalid", "FieldValueRequired"])
    }

    @Test func serviceNamesAreDNS1035() throws {
        let services = try #require(ResourceCatalog.find(kind: "Service"))
        let service = try json(#"{"metadata":{"name":"1abc"},"spec":{"ports":[{"port":80}]}}"#)
        #expect(Validation.validate(service, type: services).map(\.field) == ["metadata.name"])
    }
}

@Suite struct DefaultingTests {
    @Test("a deployment's strategy is defaulted field by field", arguments: [
        (#"{}"#, #"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}}"#),
        (#"{"strategy":{}}"#, #"{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":"25%","maxSurge":"25%"}}"#),
        (#"{"strategy":{"rollingUpdate":{"maxSurge":1}}}"#, #"{"rollingUpdate":{"maxSurge":1,"maxUnavailable":"25%"},"type":"RollingUpdate"}"#),
        (#"{"strategy":{"type":"Recreate"}}"#, #"{"type":"Recreate"}"#),
    ])
    func deploymentStrategyDefaults(spec: String, strategy: String) throws {
        let deployments = try #require(ResourceCatalog.find(kind: "Deployment"))
        var deployment = try json(#"{"metadata":{"name":"d"},"spec":"# + spec + "}")
        Defaulting.apply(&deployment, type: deployments)
        #expect(deployment[path: ["spec", "strategy"]]?.serialized() == strategy)
    }

    @Test func podDefaultsAsTheAPIServerAddsThem() throws {
        let pods = try #require(ResourceCatalog.find(kind: "Pod"))
        var pod = try json(#"{"metadata":{"name":"kubia"},"spec":{"containers":[{"name":"kubia","image":"luksa/kubia","ports":[{"containerPort":8080}]}]}}"#)
        Defaulting.apply(&pod, type: pods)
        #expect(pod[path: ["spec", "restartPolicy"]]?.stringValue == "Always")
        #expect(pod[path: ["spec", "containers"]]?.arrayValue?.first?["imagePullPolicy"]?.stringValue == "Always")
        #expect(pod[path: ["spec", "containers"]]?.arrayValue?.first?["ports"]?.arrayValue?.first?["protocol"]?.stringValue == "TCP")
        #expect(pod[path: ["status", "phase"]]?.stringValue == "Pending")
        #expect(pod[path: ["status", "qosClass"]]?.stringValue == "BestEffort")
        #expect(pod[path: ["spec", "tolerations"]]?.arrayValue?.count == 2)
    }

    @Test("image pull policy by tag", arguments: [("busybox", true), ("busybox:latest", true), ("busybox:1.36", false),
                                                    ("localhost:5000/busybox", true), ("localhost:5000/busybox:v1", false),
                                                    ("busybox@sha256:abc", false)])
    func latest(image: String, latest: Bool) {
        #expect(Defaulting.imageHasLatestTag(image) == latest)
    }
}

@Suite("Tables as kubectl 1.32 prints them")
struct TableTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    func ago(_ seconds: Double) -> String { KubeTime.format(now.addingTimeInterval(-seconds)) }

    @Test func podStatusWalk() throws {
        let pods = try #require(ResourceCatalog.find(kind: "Pod"))
        let running = try json(#"{"metadata":{"name":"kubia","creationTimestamp":"\#(ago(5))"},"spec":{"containers":[{"name":"kubia"}],"nodeName":"onekube"},"status":{"phase":"Running","podIPs":[{"ip":"10.244.0.5"}],"containerStatuses":[{"name":"kubia","ready":true,"restartCount":2,"state":{"running":{}},"lastState":{"terminated":{"finishedAt":"\#(ago(300))"}}}]}}"#)
        #expect(TablePrinter.cells(for: running, type: pods, now: now) == ["kubia", "1/1", "Running", "2 (5m ago)", "5s", "10.244.0.5", "onekube", "<none>", "<none>"].map(OrderedJSON.string))
        let creating = try json(#"{"metadata":{"name":"k"},"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Pending","containerStatuses":[{"name":"a","ready":false,"restartCount":0,"state":{"waiting":{"reason":"ContainerCreating"}}}]}}"#)
        #expect(TablePrinter.cells(for: creating, type: pods, now: now)[1...2] == [.string("0/1"), .string("ContainerCreating")])
        let terminating = try json(#"{"metadata":{"name":"k","deletionTimestamp":"\#(ago(1))"},"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running"}}"#)
        #expect(TablePrinter.cells(for: terminating, type: pods, now: now)[2] == .string("Terminating"))
        let crashed = try json(#"{"metadata":{"name":"k"},"spec":{"containers":[{"name":"a"}]},"status":{"phase":"Running","containerStatuses":[{"name":"a","restartCount":0,"state":{"terminated":{"exitCode":3}}}]}}"#)
        #expect(TablePrinter.cells(for: crashed, type: pods, now: now)[2] == .string("ExitCode:3"))
        let initPod = try json(#"{"metadata":{"name":"k"},"spec":{"initContainers":[{"name":"i"}],"containers":[{"name":"a"}]},"status":{"phase":"Pending","initContainerStatuses":[{"name":"i","restartCount":0,"state":{"running":{}}}]}}"#)
        #expect(TablePrinter.cells(for: initPod, type: pods, now: now)[2] == .string("Init:0/1"))
    }

    @Test func serviceColumns() throws {
        let services = try #require(ResourceCatalog.find(kind: "Service"))
        let lb = try json(#"{"metadata":{"name":"kubia-http"},"spec":{"type":"LoadBalancer","clusterIPs":["10.96.75.137"],"ports":[{"port":8080,"nodePort":31830,"protocol":"TCP"}],"selector":{"app":"kubia"}},"status":{"loadBalancer":{}}}"#)
        #expect(TablePrinter.cells(for: lb, type: services, now: now)[1...4] == ["LoadBalancer", "10.96.75.137", "<pending>", "8080:31830/TCP"].map(OrderedJSON.string)[...])
        var assigned = lb
        assigned[path: ["status", "loadBalancer", "ingress"]] = .array([.object([("ip", .string("127.0.1.1"))])])
        #expect(TablePrinter.cells(for: assigned, type: services, now: now)[3] == .string("127.0.1.1"))
        #expect(TablePrinter.cells(for: lb, type: services, now: now)[6] == .string("app=kubia"))
    }

    @Test func nodeColumnsFromTheSample() throws {
        let nodes = try #require(ResourceCatalog.find(kind: "Node"))
        let node = try json(#"{"metadata":{"name":"onekube","labels":{"node-role.kubernetes.io/control-plane":""},"creationTimestamp":"\#(ago(74 * 3600))"},"status":{"conditions":[{"type":"Ready","status":"True"}],"addresses":[{"type":"InternalIP","address":"192.168.49.2"}],"nodeInfo":{"kubeletVersion":"v1.32.0","osImage":"Debian GNU/Linux 12 (bookworm)","kernelVersion":"6.1.0-18-amd64","containerRuntimeVersion":"containerd://1.7.24"}}}"#)
        #expect(TablePrinter.cells(for: node, type: nodes, now: now) == ["onekube", "Ready", "control-plane", "3d2h", "v1.32.0", "192.168.49.2", "<none>", "Debian GNU/Linux 12 (bookworm)", "6.1.0-18-amd64", "containerd://1.7.24"].map(OrderedJSON.string))
    }

    @Test func eventsAndEndpoints() throws {
        let events = try #require(ResourceCatalog.find(kind: "Event"))
        let event = try json(#"{"metadata":{"name":"kubia.1"},"involvedObject":{"kind":"Pod","name":"kubia"},"reason":"Scheduled","message":"Successfully assigned default/kubia to onekube ","source":{"component":"default-scheduler"},"firstTimestamp":"\#(ago(4))","lastTimestamp":"\#(ago(4))","type":"Normal"}"#)
        #expect(TablePrinter.cells(for: event, type: events, now: now) == [.string("4s"), .string("Normal"), .string("Scheduled"), .string("pod/kubia"), .string(""), .string("default-scheduler"), .string("Successfully assigned default/kubia to onekube"), .string("4s"), .int(1), .string("kubia.1")])
        let endpoints = try #require(ResourceCatalog.find(kind: "Endpoints"))
        let ep = try json(#"{"metadata":{"name":"e"},"subsets":[{"addresses":[{"ip":"10.0.0.1"},{"ip":"10.0.0.2"},{"ip":"10.0.0.3"},{"ip":"10.0.0.4"}],"ports":[{"port":8080}]}]}"#)
        #expect(TablePrinter.cells(for: ep, type: endpoints, now: now)[1] == .string("10.0.0.1:8080,10.0.0.2:8080,10.0.0.3:8080 + 1 more..."))
    }
}

@Suite struct KubeTimeTests {
    @Test("RFC 3339 round trips", arguments: [0.0, 1_800_000_000, 951_782_400, 4_102_444_800, 1_709_208_000])
    func roundTrip(seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        let text = KubeTime.format(date)
        #expect(KubeTime.parse(text) == date)
        let reference = ISO8601DateFormatter()
        #expect(text == reference.string(from: date))
    }

    @Test func parsesFractionsAndOffsets() throws {
        #expect(KubeTime.parse("2026-11-27T07:34:29.250000Z")?.timeIntervalSince1970 == 1_795_764_869.25)
        #expect(KubeTime.parse("2026-11-27T09:34:29+02:00")?.timeIntervalSince1970 == 1_795_764_869)
        #expect(KubeTime.parse("2026-13-27T07:34:29Z") == nil)
        #expect(KubeTime.parse("yesterday") == nil)
    }
}
