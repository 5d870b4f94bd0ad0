import Foundation
import KubeModel
import Platform

/// `kubectl describe pod` laid out as kubectl 1.32's describer writes it (through Go's tabwriter,
/// flushed before the events).
struct KubectlDescribePod {
    let pod: OrderedJSON
    let events: [OrderedJSON]
    var now = Date()

    func render() -> String {
        var w = GoTabWriter()
        let metadata = pod["metadata"] ?? .object([])
        let spec = pod["spec"] ?? .object([])
        let status = pod["status"] ?? .object([])
        w.write("Name:\t\(metadata["name"]?.stringValue ?? "")\n")
        w.write("Namespace:\t\(metadata["namespace"]?.stringValue ?? "")\n")
        if let priority = spec["priority"]?.intValue { w.write("Priority:\t\(priority)\n") }
        if let name = spec["priorityClassName"]?.stringValue, !name.isEmpty { w.write("Priority Class Name:\t\(name)\n") }
        if let name = spec["runtimeClassName"]?.stringValue, !name.isEmpty { w.write("Runtime Class Name:\t\(name)\n") }
        if let account = spec["serviceAccountName"]?.stringValue, !account.isEmpty { w.write("Service Account:\t\(account)\n") }
        let node = spec["nodeName"]?.stringValue ?? ""
        w.write(node.isEmpty ? "Node:\t<none>\n" : "Node:\t\(node)/\(status["hostIP"]?.stringValue ?? "")\n")
        if let start = status["startTime"]?.stringValue { w.write("Start Time:\t\(Self.rfc1123z(start))\n") }
        Self.labels(&w, "Labels", metadata["labels"]?.stringMap ?? [:])
        Self.annotations(&w, metadata["annotations"]?.stringMap ?? [:])
        let phase = status["phase"]?.stringValue ?? ""
        if let deletion = metadata["deletionTimestamp"]?.stringValue, phase != "Failed", phase != "Succeeded" {
            w.write("Status:\tTerminating (lasts \(age(deletion)))\n")
            w.write("Termination Grace Period:\t\(metadata["deletionGracePeriodSeconds"]?.intValue ?? 0)s\n")
        } else {
            w.write("Status:\t\(phase)\n")
        }
        if let reason = status["reason"]?.stringValue, !reason.isEmpty { w.write("Reason:\t\(reason)\n") }
        if let message = status["message"]?.stringValue, !message.isEmpty { w.write("Message:\t\(message)\n") }
        w.write("IP:\t\(status["podIP"]?.stringValue ?? "")\n")
        let ips = status["podIPs"]?.arrayValue ?? []
        if ips.isEmpty {
            w.write("IPs:\t<none>\n")
        } else {
            w.write("IPs:\n")
            for ip in ips { w.write("  IP:\t\(ip["ip"]?.stringValue ?? "")\n") }
        }
        if let owner = (metadata["ownerReferences"]?.arrayValue ?? []).first(where: { $0["controller"]?.boolValue == true }) {
            w.write("Controlled By:\t\(owner["kind"]?.stringValue ?? "")/\(owner["name"]?.stringValue ?? "")\n")
        }
        if let initContainers = spec["initContainers"]?.arrayValue, !initContainers.isEmpty {
            Self.containers(&w, "Init Containers", initContainers, statuses: status["initContainerStatuses"]?.arrayValue ?? [],
                            fieldValue: fieldValue)
        }
        Self.containers(&w, "Containers", spec["containers"]?.arrayValue ?? [], statuses: status["containerStatuses"]?.arrayValue ?? [],
                        fieldValue: fieldValue)
        let conditions = status["conditions"]?.arrayValue ?? []
        if !conditions.isEmpty {
            w.write("Conditions:\n  Type\tStatus\n")
            for condition in conditions {
                w.write("  \(condition["type"]?.stringValue ?? "") \t\(condition["status"]?.stringValue ?? "") \n")
            }
        }
        Self.volumes(&w, spec["volumes"]?.arrayValue ?? [])
        w.write("QoS Class:\t\(status["qosClass"]?.stringValue ?? "BestEffort")\n")
        Self.labels(&w, "Node-Selectors", spec["nodeSelector"]?.stringMap ?? [:])
        Self.tolerations(&w, spec["tolerations"]?.arrayValue ?? [])
        if events.isEmpty {
            w.write("Events:\t<none>\n")
            return w.flush()
        }
        // kubectl flushes before the events: their table aligns on its own.
        return w.flush() + Self.events(events, now: now)
    }

    /// The containers of a pod, or with `space` "  " those of a pod template (no statuses).
    static func containers(_ w: inout GoTabWriter, _ title: String, _ containers: [OrderedJSON], statuses: [OrderedJSON],
                           space: String = "", fieldValue: (String) -> String = { _ in "" }) {
        w.write("\(space)\(title):\(containers.isEmpty ? " <none>" : "")\n")
        for container in containers {
            let name = container["name"]?.stringValue ?? ""
            let status = statuses.first { $0["name"]?.stringValue == name }
            w.write("  \(space.isEmpty ? "" : " ")\(name):\n")
            if let status { w.write("    Container ID:\t\(status["containerID"]?.stringValue ?? "")\n") }
            w.write("    Image:\t\(container["image"]?.stringValue ?? "")\n")
            if let status { w.write("    Image ID:\t\(status["imageID"]?.stringValue ?? "")\n") }
            let ports = container["ports"]?.arrayValue ?? []
            let portList = ports.map { "\($0["containerPort"]?.intValue ?? 0)/\($0["protocol"]?.stringValue ?? "TCP")" }.joined(separator: ", ")
            let hostList = ports.map { "\($0["hostPort"]?.intValue ?? 0)/\($0["protocol"]?.stringValue ?? "TCP")" }.joined(separator: ", ")
            w.write(portList.contains(",") ? "    Ports:\t\(portList)\n" : "    Port:\t\(portList.isEmpty ? "<none>" : portList)\n")
            w.write(hostList.contains(",") ? "    Host Ports:\t\(hostList)\n" : "    Host Port:\t\(hostList.isEmpty ? "<none>" : hostList)\n")
            for (field, label) in [("command", "Command"), ("args", "Args")] {
                let values = container[field]?.arrayValue?.compactMap(\.stringValue) ?? []
                guard !values.isEmpty else { continue }
                w.write("    \(label):\n")
                for value in values {
                    for line in value.split(separator: "\n", omittingEmptySubsequences: false) { w.write("      \(line)\n") }
                }
            }
            if let status {
                Self.state(&w, "State", status["state"])
                if status[path: ["lastState", "terminated"]] != nil { Self.state(&w, "Last State", status["lastState"]) }
                w.write("    Ready:\t\(status["ready"]?.boolValue == true ? "True" : "False")\n")
                w.write("    Restart Count:\t\(status["restartCount"]?.intValue ?? 0)\n")
            }
            for (field, label) in [("limits", "Limits"), ("requests", "Requests")] {
                let values = container[path: ["resources", field]]?.objectValue ?? []
                guard !values.isEmpty else { continue }
                w.write("    \(label):\n")
                for (resource, quantity) in values.sorted(by: { $0.0 < $1.0 }) {
                    w.write("      \(resource):\t\(KubectlTablePrinter.cellText(quantity))\n")
                }
            }
            for (field, label) in [("livenessProbe", "Liveness"), ("readinessProbe", "Readiness"), ("startupProbe", "Startup")] {
                if let probe = container[field] { w.write("    \(label):\t\(Self.probe(probe))\n") }
            }
            let env = container["env"]?.arrayValue ?? []
            w.write(env.isEmpty ? "    Environment:\t<none>\n" : "    Environment:\n")
            for variable in env {
                let variableName = variable["name"]?.stringValue ?? ""
                if let from = variable["valueFrom"] {
                    if let field = from["fieldRef"] {
                        let path = field["fieldPath"]?.stringValue ?? ""
                        w.write("      \(variableName):\t\(fieldValue(path)) (\(field["apiVersion"]?.stringValue ?? ""):\(path))\n")
                    } else if let secret = from["secretKeyRef"] {
                        w.write("      \(variableName):\t<set to the key '\(secret["key"]?.stringValue ?? "")' in secret '\(secret["name"]?.stringValue ?? "")'>\tOptional: \(secret["optional"]?.boolValue ?? false)\n")
                    } else if let map = from["configMapKeyRef"] {
                        w.write("      \(variableName):\t<set to the key '\(map["key"]?.stringValue ?? "")' of config map '\(map["name"]?.stringValue ?? "")'>\tOptional: \(map["optional"]?.boolValue ?? false)\n")
                    }
                    continue
                }
                let lines = (variable["value"]?.stringValue ?? "").split(separator: "\n", omittingEmptySubsequences: false)
                for (index, line) in lines.enumerated() {
                    w.write(index == 0 ? "      \(variableName):\t\(line)\n" : "      \t\(line)\n")
                }
            }
            let mounts = (container["volumeMounts"]?.arrayValue ?? []).sorted {
                ($0["mountPath"]?.stringValue ?? "") < ($1["mountPath"]?.stringValue ?? "")
            }
            w.write(mounts.isEmpty ? "    Mounts:\t<none>\n" : "    Mounts:\n")
            for mount in mounts {
                var flags = [mount["readOnly"]?.boolValue == true ? "ro" : "rw"]
                if let sub = mount["subPath"]?.stringValue, !sub.isEmpty { flags.append("path=\"\(sub)\"") }
                w.write("      \(mount["mountPath"]?.stringValue ?? "") from \(mount["name"]?.stringValue ?? "") (\(flags.joined(separator: ",")))\n")
            }
        }
    }

    /// What a fieldRef resolves to for this pod (kubectl's EnvValueRetriever).
    func fieldValue(_ path: String) -> String {
        switch path {
        case "metadata.name": return pod[path: ["metadata", "name"]]?.stringValue ?? ""
        case "metadata.namespace": return pod[path: ["metadata", "namespace"]]?.stringValue ?? ""
        case "metadata.uid": return pod[path: ["metadata", "uid"]]?.stringValue ?? ""
        case "spec.nodeName": return pod[path: ["spec", "nodeName"]]?.stringValue ?? ""
        case "spec.serviceAccountName": return pod[path: ["spec", "serviceAccountName"]]?.stringValue ?? ""
        case "status.hostIP": return pod[path: ["status", "hostIP"]]?.stringValue ?? ""
        case "status.podIP": return pod[path: ["status", "podIP"]]?.stringValue ?? ""
        default: return ""
        }
    }

    static func state(_ w: inout GoTabWriter, _ title: String, _ value: OrderedJSON?) {
        if let running = value?["running"] {
            w.write("    \(title):\tRunning\n")
            w.write("      Started:\t\(Self.rfc1123z(running["startedAt"]?.stringValue ?? ""))\n")
        } else if let waiting = value?["waiting"] {
            w.write("    \(title):\tWaiting\n")
            if let reason = waiting["reason"]?.stringValue, !reason.isEmpty { w.write("      Reason:\t\(reason)\n") }
        } else if let terminated = value?["terminated"] {
            w.write("    \(title):\tTerminated\n")
            if let reason = terminated["reason"]?.stringValue, !reason.isEmpty { w.write("      Reason:\t\(reason)\n") }
            if let message = terminated["message"]?.stringValue, !message.isEmpty { w.write("      Message:\t\(message)\n") }
            w.write("      Exit Code:\t\(terminated["exitCode"]?.intValue ?? 0)\n")
            if let signal = terminated["signal"]?.intValue, signal > 0 { w.write("      Signal:\t\(signal)\n") }
            w.write("      Started:\t\(Self.rfc1123z(terminated["startedAt"]?.stringValue ?? ""))\n")
            w.write("      Finished:\t\(Self.rfc1123z(terminated["finishedAt"]?.stringValue ?? ""))\n")
        } else {
            w.write("    \(title):\tWaiting\n")
        }
    }

    static func volumes(_ w: inout GoTabWriter, _ volumes: [OrderedJSON], space: String = "") {
        guard !volumes.isEmpty else {
            w.write("\(space)Volumes:\t<none>\n")
            return
        }
        w.write("\(space)Volumes:\n")
        for volume in volumes {
            w.write("  \(space.isEmpty ? "" : " ")\(volume["name"]?.stringValue ?? ""):\n")
            if let host = volume["hostPath"] {
                let type = host["type"]?.stringValue ?? "<none>"
                w.write("    Type:\tHostPath (bare host directory volume)\n    Path:\t\(host["path"]?.stringValue ?? "")\n    HostPathType:\t\(type)\n")
            } else if let empty = volume["emptyDir"] {
                let limit = empty["sizeLimit"].map(KubectlTablePrinter.cellText) ?? "<unset>"
                w.write("    Type:\tEmptyDir (a temporary directory that shares a pod's lifetime)\n    Medium:\t\(empty["medium"]?.stringValue ?? "")\n    SizeLimit:\t\(limit)\n")
            } else if let secret = volume["secret"] {
                w.write("    Type:\tSecret (a volume populated by a Secret)\n    SecretName:\t\(secret["secretName"]?.stringValue ?? "")\n    Optional:\t\(secret["optional"]?.boolValue ?? false)\n")
            } else if let map = volume["configMap"] {
                w.write("    Type:\tConfigMap (a volume populated by a ConfigMap)\n    Name:\t\(map["name"]?.stringValue ?? "")\n    Optional:\t\(map["optional"]?.boolValue ?? false)\n")
            } else {
                w.write("  <unknown>\n")
            }
        }
    }

    static func tolerations(_ w: inout GoTabWriter, _ tolerations: [OrderedJSON], title: String = "Tolerations") {
        w.write("\(title):\t")
        guard !tolerations.isEmpty else {
            w.write("<none>\n")
            return
        }
        let sorted = tolerations.enumerated().sorted {
            let a = $0.element["key"]?.stringValue ?? "", b = $1.element["key"]?.stringValue ?? ""
            return a == b ? $0.offset < $1.offset : a < b
        }.map(\.element)
        for (index, toleration) in sorted.enumerated() {
            if index != 0 { w.write("\t") }
            let key = toleration["key"]?.stringValue ?? ""
            let value = toleration["value"]?.stringValue ?? ""
            let effect = toleration["effect"]?.stringValue ?? ""
            var text = key
            if !value.isEmpty { text += "=\(value)" }
            if !effect.isEmpty { text += ":\(effect)" }
            if toleration["operator"]?.stringValue == "Exists" && value.isEmpty {
                text += key.isEmpty && effect.isEmpty ? "op=Exists" : " op=Exists"
            }
            if let seconds = toleration["tolerationSeconds"]?.intValue { text += " for \(seconds)s" }
            w.write(text + "\n")
        }
    }

    static func labels(_ w: inout GoTabWriter, _ title: String, _ labels: [String: String]) {
        w.write("\(title):\t")
        guard !labels.isEmpty else {
            w.write("<none>\n")
            return
        }
        for (index, key) in labels.keys.sorted().enumerated() {
            if index != 0 { w.write("\t") }
            w.write("\(key)=\(labels[key] ?? "")\n")
        }
    }

    /// Annotations as kubectl shows them: not the last-applied configuration, long ones wrapped.
    static func annotations(_ w: inout GoTabWriter, _ annotations: [String: String]) {
        w.write("Annotations:\t")
        let keys = annotations.keys.filter { $0 != "kubectl.kubernetes.io/last-applied-configuration" }.sorted()
        guard !keys.isEmpty else {
            w.write("<none>\n")
            return
        }
        for (index, key) in keys.enumerated() {
            if index != 0 { w.write("\t") }
            let value = (annotations[key] ?? "").hasSuffix("\n") ? String((annotations[key] ?? "").dropLast()) : annotations[key] ?? ""
            if value.count + key.count + 2 > 140 || value.contains("\n") {
                w.write("\(key):\n")
                for line in value.split(separator: "\n", omittingEmptySubsequences: false) {
                    let shown = line.count > 138 ? String(line.prefix(135)) + "..." : String(line)
                    w.write("\t  \(shown)\n")
                }
            } else {
                w.write("\(key): \(value)\n")
            }
        }
    }

    static func probe(_ probe: OrderedJSON) -> String {
        let attributes = "delay=\(probe["initialDelaySeconds"]?.intValue ?? 0)s timeout=\(probe["timeoutSeconds"]?.intValue ?? 0)s period=\(probe["periodSeconds"]?.intValue ?? 0)s #success=\(probe["successThreshold"]?.intValue ?? 0) #failure=\(probe["failureThreshold"]?.intValue ?? 0)"
        if let command = probe[path: ["exec", "command"]]?.arrayValue {
            return "exec [\(command.compactMap(\.stringValue).joined(separator: " "))] \(attributes)"
        }
        if let http = probe["httpGet"] {
            let port = http["port"].map(KubectlTablePrinter.cellText) ?? ""
            let host = http["host"]?.stringValue ?? ""
            let scheme = (http["scheme"]?.stringValue ?? "").lowercased()
            let authority = port.isEmpty ? host : "\(host.contains(":") ? "[\(host)]" : host):\(port)"
            return "http-get \(scheme.isEmpty ? "" : scheme + ":")//\(authority)\(http["path"]?.stringValue ?? "") \(attributes)"
        }
        if let tcp = probe["tcpSocket"] {
            return "tcp-socket \(tcp["host"]?.stringValue ?? ""):\(tcp["port"].map(KubectlTablePrinter.cellText) ?? "") \(attributes)"
        }
        return "unknown \(attributes)"
    }

    /// RFC 1123 with a numeric zone, as Go formats time.RFC1123Z (in UTC here).
    static func rfc1123z(_ timestamp: String) -> String {
        guard let date = KubeTime.parse(timestamp) else { return timestamp }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }

    func age(_ timestamp: String) -> String {
        KubeTime.age(of: timestamp, now: now)
    }

    /// The Events table, sorted by time, each with its age and count.
    static func events(_ events: [OrderedJSON], now: Date) -> String {
        func time(_ event: OrderedJSON, _ field: String) -> Date? {
            event[field]?.stringValue.flatMap(KubeTime.parse)
        }
        func since(_ date: Date?) -> String {
            guard let date else { return "<unknown>" }
            return KubeModel.HumanDuration.format(now.timeIntervalSince(date))
        }
        let sorted = events.enumerated().sorted {
            let a = time($0.element, "lastTimestamp") ?? time($0.element, "eventTime") ?? .distantPast
            let b = time($1.element, "lastTimestamp") ?? time($1.element, "eventTime") ?? .distantPast
            return a == b ? $0.offset < $1.offset : a < b
        }.map(\.element)
        var w = GoTabWriter()
        w.write("Events:\n  Type\tReason\tAge\tFrom\tMessage\n")
        w.write("  ----\t------\t----\t----\t-------\n")
        for event in sorted {
            let first = since(time(event, "eventTime") ?? time(event, "firstTimestamp"))
            let count = event["count"]?.intValue ?? 1
            let interval = count > 1 ? "\(since(time(event, "lastTimestamp"))) (x\(count) over \(first))" : first
            let source = event[path: ["source", "component"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
                ?? event["reportingComponent"]?.stringValue ?? ""
            let message = (event["message"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
            w.write("  \(event["type"]?.stringValue ?? "")\t\(event["reason"]?.stringValue ?? "")\t\(interval)\t\(source)\t\(message)\n")
        }
        return w.flush()
    }
}
