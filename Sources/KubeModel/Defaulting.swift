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
            defaultPodSpec(&object, path: ["spec"], tolerationSeconds: tolerationSeconds)
            if object[path: ["status", "phase"]] == nil { object[path: ["status", "phase"]] = .string("Pending") }
            if object[path: ["status", "qosClass"]] == nil {
                object[path: ["status", "qosClass"]] = .string(qosClass(object["spec"]))
            }
        case "ReplicationController":
            let templateLabels = object[path: ["spec", "template", "metadata", "labels"]]
            if object[path: ["spec", "selector"]] == nil, let templateLabels { object[path: ["spec", "selector"]] = templateLabels }
            if object[path: ["metadata", "labels"]] == nil, let templateLabels { object[path: ["metadata", "labels"]] = templateLabels }
            if object[path: ["spec", "replicas"]] == nil { object[path: ["spec", "replicas"]] = .int(1) }
            defaultPodSpec(&object, path: ["spec", "template", "spec"], tolerationSeconds: tolerationSeconds)
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
            defaultPodSpec(&object, path: ["spec", "template", "spec"], tolerationSeconds: tolerationSeconds)
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

    static func defaultPodSpec(_ object: inout OrderedJSON, path: [String], tolerationSeconds: Int64) {
        guard var spec = object[path: path] else { return }
        if let containers = spec["containers"]?.arrayValue { spec["containers"] = .array(containers.map(defaultContainer)) }
        if let containers = spec["initContainers"]?.arrayValue { spec["initContainers"] = .array(containers.map(defaultContainer)) }
        let defaults: [(String, OrderedJSON)] = [
            ("restartPolicy", .string("Always")), ("terminationGracePeriodSeconds", .int(30)),
            ("dnsPolicy", .string("ClusterFirst")), ("securityContext", .object([])),
            ("schedulerName", .string("default-scheduler")), ("enableServiceLinks", .bool(true)),
            ("priority", .int(0)), ("preemptionPolicy", .string("PreemptLowerPriority")),
        ]
        for (key, value) in defaults where spec[key] == nil { spec[key] = value }
        if spec["serviceAccountName"] == nil { spec["serviceAccountName"] = .string("default") }
        if spec["serviceAccount"] == nil { spec["serviceAccount"] = spec["serviceAccountName"] }
        if spec["tolerations"] == nil {
            spec["tolerations"] = .array(["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"].map { key in
                .object([("key", .string(key)), ("operator", .string("Exists")), ("effect", .string("NoExecute")),
                         ("tolerationSeconds", .int(tolerationSeconds))])
            })
        }
        object[path: path] = spec
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
        if let ports = c["ports"]?.arrayValue {
            c["ports"] = .array(ports.map { p in
                var port = p
                if port["protocol"] == nil { port["protocol"] = .string("TCP") }
                return port
            })
        }
        return c
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
