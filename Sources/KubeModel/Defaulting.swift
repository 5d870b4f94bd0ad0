import Foundation
import Platform

/// The defaults a real apiserver fills in, so that `-o yaml` looks as on a real cluster and the
/// controllers can rely on them.
public enum Defaulting {
    /// `tolerationSeconds` of the default not-ready/unreachable tolerations (the apiserver's
    /// DefaultTolerationSeconds plugin: how long a pod stays on a node that stopped answering).
    public static func apply(_ object: inout OrderedJSON, type: ResourceType, tolerationSeconds: Int64 = 300) {
        switch type.kind {
        case "Pod":
            defaultPodSpec(&object, path: ["spec"])
            admitPod(&object, tolerationSeconds: tolerationSeconds)
            if object[path: ["status", "phase"]] == nil { object[path: ["status", "phase"]] = .string("Pending") }
            if object[path: ["status", "qosClass"]] == nil {
                object[path: ["status", "qosClass"]] = .string(qosClass(object["spec"]))
            }
        case "ReplicationController":
            let templateLabels = object[path: ["spec", "template", "metadata", "labels"]]
            if object[path: ["spec", "selector"]] == nil, let templateLabels { object[path: ["spec", "selector"]] = templateLabels }
            if object[path: ["metadata", "labels"]] == nil, let templateLabels { object[path: ["metadata", "labels"]] = templateLabels }
            if object[path: ["spec", "replicas"]] == nil { object[path: ["spec", "replicas"]] = .int(1) }
            defaultPodSpec(&object, path: ["spec", "template", "spec"])
        case "ReplicaSet", "Deployment", "DaemonSet":
            if type.kind != "DaemonSet", object[path: ["spec", "replicas"]] == nil { object[path: ["spec", "replicas"]] = .int(1) }
            if type.kind == "Deployment" {
                // Field by field, as SetDefaults_Deployment: typed clients send `strategy: {}`.
                var strategy = object[path: ["spec", "strategy"]] ?? .object([])
                if (strategy["type"]?.stringValue ?? "").isEmpty { strategy["type"] = .string("RollingUpdate") }
                if strategy["type"]?.stringValue == "RollingUpdate" {
                    var rollingUpdate = strategy["rollingUpdate"] ?? .object([])
                    if rollingUpdate["maxUnavailable"] == nil { rollingUpdate["maxUnavailable"] = .string("25%") }
                    if rollingUpdate["maxSurge"] == nil { rollingUpdate["maxSurge"] = .string("25%") }
                    strategy["rollingUpdate"] = rollingUpdate
                }
                object[path: ["spec", "strategy"]] = strategy
                if object[path: ["spec", "revisionHistoryLimit"]] == nil { object[path: ["spec", "revisionHistoryLimit"]] = .int(10) }
                if object[path: ["spec", "progressDeadlineSeconds"]] == nil { object[path: ["spec", "progressDeadlineSeconds"]] = .int(600) }
            }
            if type.kind == "DaemonSet" {
                if object[path: ["spec", "updateStrategy"]] == nil {
                    object[path: ["spec", "updateStrategy"]] = .object([
                        ("type", .string("RollingUpdate")),
                        ("rollingUpdate", .object([("maxUnavailable", .int(1)), ("maxSurge", .int(0))])),
                    ])
                }
                if object[path: ["spec", "revisionHistoryLimit"]] == nil { object[path: ["spec", "revisionHistoryLimit"]] = .int(10) }
            }
            defaultPodSpec(&object, path: ["spec", "template", "spec"])
        case "Job":
            defaultJob(&object)
        case "Namespace":
            var labels = object.labels
            labels["kubernetes.io/metadata.name"] = object.name
            object.labels = labels
            // A terminating namespace loses the finalizer; only a live one gets it.
            if object[path: ["spec", "finalizers"]] == nil && object.deletionTimestamp == nil {
                object[path: ["spec", "finalizers"]] = .array([.string("kubernetes")])
            }
            if object[path: ["status", "phase"]] == nil { object[path: ["status", "phase"]] = .string("Active") }
        case "Service":
            var spec = object["spec"] ?? .object([])
            if spec["type"] == nil { spec["type"] = .string("ClusterIP") }
            if spec["sessionAffinity"] == nil { spec["sessionAffinity"] = .string("None") }
            if let ports = spec["ports"]?.arrayValue {
                spec["ports"] = .array(ports.map { port in
                    var p = port
                    if p["protocol"] == nil { p["protocol"] = .string("TCP") }
                    if p["targetPort"] == nil, let number = p["port"] { p["targetPort"] = number }
                    return p
                })
            }
            if spec["type"]?.stringValue != "ExternalName" {
                if spec["ipFamilies"] == nil { spec["ipFamilies"] = .array([.string("IPv4")]) }
                if spec["ipFamilyPolicy"] == nil { spec["ipFamilyPolicy"] = .string("SingleStack") }
                if spec["internalTrafficPolicy"] == nil { spec["internalTrafficPolicy"] = .string("Cluster") }
            }
            if ["NodePort", "LoadBalancer"].contains(spec["type"]?.stringValue ?? ""), spec["externalTrafficPolicy"] == nil {
                spec["externalTrafficPolicy"] = .string("Cluster")
            }
            if spec["type"]?.stringValue == "LoadBalancer", spec["allocateLoadBalancerNodePorts"] == nil {
                spec["allocateLoadBalancerNodePorts"] = .bool(true)
            }
            object["spec"] = spec
            if object[path: ["status", "loadBalancer"]] == nil { object[path: ["status", "loadBalancer"]] = .object([]) }
        case "Secret":
            if object["type"] == nil { object["type"] = .string("Opaque") }
        default:
            break
        }
    }

    /// SetDefaults_PodSpec: what pods and pod templates alike get.
    static func defaultPodSpec(_ object: inout OrderedJSON, path: [String]) {
        guard var spec = object[path: path] else { return }
        if let containers = spec["containers"]?.arrayValue { spec["containers"] = .array(containers.map(defaultContainer)) }
        if let containers = spec["initContainers"]?.arrayValue { spec["initContainers"] = .array(containers.map(defaultContainer)) }
        let defaults: [(String, OrderedJSON)] = [
            ("restartPolicy", .string("Always")), ("terminationGracePeriodSeconds", .int(30)),
            ("dnsPolicy", .string("ClusterFirst")), ("securityContext", .object([])),
            ("schedulerName", .string("default-scheduler")),
        ]
        for (key, value) in defaults where spec[key] == nil { spec[key] = value }
        object[path: path] = spec
    }

    /// What the apiserver's admission adds to a pod (never to a template): the service account,
    /// priority, service links, and the DefaultTolerationSeconds plugin's not-ready/unreachable
    /// tolerations unless the pod already tolerates those taints.
    static func admitPod(_ object: inout OrderedJSON, tolerationSeconds: Int64) {
        guard var spec = object["spec"] else { return }
        if spec["enableServiceLinks"] == nil { spec["enableServiceLinks"] = .bool(true) }
        if spec["priority"] == nil { spec["priority"] = .int(0) }
        if spec["preemptionPolicy"] == nil { spec["preemptionPolicy"] = .string("PreemptLowerPriority") }
        if spec["serviceAccountName"] == nil { spec["serviceAccountName"] = .string("default") }
        if spec["serviceAccount"] == nil { spec["serviceAccount"] = spec["serviceAccountName"] }
        var tolerations = spec["tolerations"]?.arrayValue ?? []
        for key in ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"] {
            let covered = tolerations.contains { t in
                let effect = t["effect"]?.stringValue ?? ""
                let matchesKey = t["key"]?.stringValue == key || (t["key"] == nil && t["operator"]?.stringValue == "Exists")
                return matchesKey && (effect.isEmpty || effect == "NoExecute")
            }
            if !covered {
                tolerations.append(.object([("key", .string(key)), ("operator", .string("Exists")), ("effect", .string("NoExecute")),
                                            ("tolerationSeconds", .int(tolerationSeconds))]))
            }
        }
        spec["tolerations"] = .array(tolerations)
        object["spec"] = spec
    }

    /// batch/v1 Job: the counts, and the selector and template labels the apiserver generates
    /// from the Job's uid (unless `manualSelector`).
    static func defaultJob(_ object: inout OrderedJSON) {
        var spec = object["spec"] ?? .object([])
        // SetDefaults_Job: neither count given means one pod to one completion.
        if spec["completions"] == nil && spec["parallelism"] == nil { spec["completions"] = .int(1) }
        if spec["parallelism"] == nil { spec["parallelism"] = .int(1) }
        if spec["backoffLimit"] == nil { spec["backoffLimit"] = .int(6) }
        if spec["completionMode"] == nil { spec["completionMode"] = .string("NonIndexed") }
        if spec["suspend"] == nil { spec["suspend"] = .bool(false) }
        if spec["podReplacementPolicy"] == nil { spec["podReplacementPolicy"] = .string("TerminatingOrFailed") }
        if spec["manualSelector"]?.boolValue != true {
            let uid = object.uid
            let generated: [String: String] = ["batch.kubernetes.io/controller-uid": uid]
            if spec["selector"] == nil { spec["selector"] = .object([("matchLabels", .stringMap(generated))]) }
            var labels = spec[path: ["template", "metadata", "labels"]]?.stringMap ?? [:]
            labels["batch.kubernetes.io/controller-uid"] = uid
            labels["batch.kubernetes.io/job-name"] = object.name
            labels["controller-uid"] = uid
            labels["job-name"] = object.name
            spec[path: ["template", "metadata", "labels"]] = .stringMap(labels)
        }
        object["spec"] = spec
        defaultPodSpec(&object, path: ["spec", "template", "spec"])
    }

    static func defaultContainer(_ container: OrderedJSON) -> OrderedJSON {
        var c = container
        if c["imagePullPolicy"] == nil {
            let image = c["image"]?.stringValue ?? ""
            c["imagePullPolicy"] = .string(imageHasLatestTag(image) ? "Always" : "IfNotPresent")
        }
        if c["terminationMessagePath"] == nil { c["terminationMessagePath"] = .string("/dev/termination-log") }
        if c["terminationMessagePolicy"] == nil { c["terminationMessagePolicy"] = .string("File") }
        if c["resources"] == nil { c["resources"] = .object([]) }
        for kind in ["livenessProbe", "readinessProbe", "startupProbe"] {
            if let probe = c[kind] { c[kind] = defaultProbe(probe) }
        }
        if let ports = c["ports"]?.arrayValue {
            c["ports"] = .array(ports.map { p in
                var port = p
                if port["protocol"] == nil { port["protocol"] = .string("TCP") }
                return port
            })
        }
        return c
    }

    /// The apiserver's probe defaults (SetDefaults_Probe, SetDefaults_HTTPGetAction).
    static func defaultProbe(_ probe: OrderedJSON) -> OrderedJSON {
        var p = probe
        if var http = p["httpGet"] {
            if http["path"] == nil { http["path"] = .string("/") }
            if http["scheme"] == nil { http["scheme"] = .string("HTTP") }
            p["httpGet"] = http
        }
        for (field, value) in [("timeoutSeconds", 1), ("periodSeconds", 10), ("successThreshold", 1), ("failureThreshold", 3)]
        where p[field] == nil || p[field]?.intValue == 0 {
            p[field] = .int(Int64(value))
        }
        return p
    }

    /// No tag, or `:latest`, means pull Always (a digest means IfNotPresent).
    public static func imageHasLatestTag(_ image: String) -> Bool {
        if image.contains("@") { return false }
        let lastSlash = image.lastIndex(of: "/").map { image.index(after: $0) } ?? image.startIndex
        guard let colon = image[lastSlash...].lastIndex(of: ":") else { return true }
        return image[image.index(after: colon)...] == "latest"
    }

    /// Guaranteed when every container sets equal cpu and memory requests and limits,
    /// BestEffort when none sets any, Burstable otherwise.
    static func qosClass(_ spec: OrderedJSON?) -> String {
        let containers = spec?["containers"]?.arrayValue ?? []
        var any = false
        var guaranteed = !containers.isEmpty
        for c in containers {
            let requests = c[path: ["resources", "requests"]]?.objectValue ?? []
            let limits = c[path: ["resources", "limits"]]?.objectValue ?? []
            if !requests.isEmpty || !limits.isEmpty { any = true }
            for resource in ["cpu", "memory"] {
                let limit = limits.first { $0.0 == resource }?.1
                let request = requests.first { $0.0 == resource }?.1 ?? limit
                if limit == nil || request != limit { guaranteed = false }
            }
        }
        if !any { return "BestEffort" }
        return guaranteed ? "Guaranteed" : "Burstable"
    }
}
