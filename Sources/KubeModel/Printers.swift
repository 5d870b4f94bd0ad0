import Foundation
import Platform

/// printPod: READY, STATUS (the reason walk), RESTARTS with "(5m ago)", IP, node, gates.
enum PodPrinter {
    static func cells(_ pod: OrderedJSON, now: Date) -> [String] {
        let spec = pod["spec"]
        let status = pod["status"]
        let initContainers = spec?["initContainers"]?.arrayValue ?? []
        var totalContainers = spec?["containers"]?.arrayValue?.count ?? 0
        let restartableInit = Set(initContainers.filter { $0["restartPolicy"]?.stringValue == "Always" }.compactMap { $0["name"]?.stringValue })
        totalContainers += restartableInit.count
        var readyContainers = 0
        var restarts: Int64 = 0
        var restartableInitRestarts: Int64 = 0
        var lastRestart: Date?
        var lastRestartableInitRestart: Date?
        let phase = status?["phase"]?.stringValue ?? ""
        var reason = status?["reason"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? phase
        let conditions = status?["conditions"]?.arrayValue ?? []
        if conditions.contains(where: { $0["type"]?.stringValue == "PodScheduled" && $0["reason"]?.stringValue == "SchedulingGated" }) {
            reason = "SchedulingGated"
        }
        func finishedAt(_ c: OrderedJSON) -> Date? {
            c[path: ["lastState", "terminated", "finishedAt"]]?.stringValue.flatMap(KubeTime.parse)
        }

        var initializing = false
        let initStatuses = status?["initContainerStatuses"]?.arrayValue ?? []
        for (i, container) in initStatuses.enumerated() {
            restarts += container["restartCount"]?.intValue ?? 0
            if let date = finishedAt(container), date > (lastRestart ?? .distantPast) { lastRestart = date }
            let name = container["name"]?.stringValue ?? ""
            let isRestartable = restartableInit.contains(name)
            if isRestartable {
                restartableInitRestarts += container["restartCount"]?.intValue ?? 0
                if let date = finishedAt(container), date > (lastRestartableInitRestart ?? .distantPast) { lastRestartableInitRestart = date }
            }
            let terminated = container[path: ["state", "terminated"]]
            let waitingReason = container[path: ["state", "waiting", "reason"]]?.stringValue ?? ""
            if let terminated, terminated["exitCode"]?.intValue == 0 { continue }
            if isRestartable, container["started"]?.boolValue == true {
                if container["ready"]?.boolValue == true { readyContainers += 1 }
                continue
            }
            if let terminated {
                let terminatedReason = terminated["reason"]?.stringValue ?? ""
                if terminatedReason.isEmpty {
                    let signal = terminated["signal"]?.intValue ?? 0
                    reason = signal != 0 ? "Init:Signal:\(signal)" : "Init:ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                } else {
                    reason = "Init:" + terminatedReason
                }
            } else if !waitingReason.isEmpty && waitingReason != "PodInitializing" {
                reason = "Init:" + waitingReason
            } else {
                reason = "Init:\(i)/\(initContainers.count)"
            }
            initializing = true
            break
        }

        let initialized = conditions.contains { $0["type"]?.stringValue == "Initialized" && $0["status"]?.stringValue == "True" }
        if !initializing || initialized {
            restarts = restartableInitRestarts
            lastRestart = lastRestartableInitRestart
            var hasRunning = false
            for container in (status?["containerStatuses"]?.arrayValue ?? []).reversed() {
                restarts += container["restartCount"]?.intValue ?? 0
                if let date = finishedAt(container), date > (lastRestart ?? .distantPast) { lastRestart = date }
                let waitingReason = container[path: ["state", "waiting", "reason"]]?.stringValue ?? ""
                let terminated = container[path: ["state", "terminated"]]
                let terminatedReason = terminated?["reason"]?.stringValue ?? ""
                if !waitingReason.isEmpty {
                    reason = waitingReason
                } else if terminated != nil && !terminatedReason.isEmpty {
                    reason = terminatedReason
                } else if let terminated {
                    let signal = terminated["signal"]?.intValue ?? 0
                    reason = signal != 0 ? "Signal:\(signal)" : "ExitCode:\(terminated["exitCode"]?.intValue ?? 0)"
                } else if container["ready"]?.boolValue == true, container[path: ["state", "running"]] != nil {
                    hasRunning = true
                    readyContainers += 1
                }
            }
            if reason == "Completed" && hasRunning {
                let ready = conditions.contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" }
                reason = ready ? "Running" : "NotReady"
            }
        }
        if pod.deletionTimestamp != nil {
            if status?["reason"]?.stringValue == "NodeLost" {
                reason = "Unknown"
            } else if phase != "Succeeded" && phase != "Failed" {
                reason = "Terminating"
            }
        }
        var restartsText = String(restarts)
        if restarts != 0, let lastRestart {
            restartsText = "\(restarts) (\(HumanDuration.format(now.timeIntervalSince(lastRestart))) ago)"
        }
        let podIP = status?["podIPs"]?.arrayValue?.first?["ip"]?.stringValue ?? ""
        let node = spec?["nodeName"]?.stringValue ?? ""
        let nominated = status?["nominatedNodeName"]?.stringValue ?? ""
        var gates = "<none>"
        let readinessGates = spec?["readinessGates"]?.arrayValue ?? []
        if !readinessGates.isEmpty {
            let satisfied = readinessGates.filter { gate in
                conditions.first { $0["type"] == gate["conditionType"] }?["status"]?.stringValue == "True"
            }.count
            gates = "\(satisfied)/\(readinessGates.count)"
        }
        return [pod.name, "\(readyContainers)/\(totalContainers)", reason, restartsText,
                KubeTime.age(of: pod.creationTimestamp, now: now),
                podIP.isEmpty ? "<none>" : podIP, node.isEmpty ? "<none>" : node,
                nominated.isEmpty ? "<none>" : nominated, gates]
    }

    /// Row conditions of finished pods (cosmetic; kubectl reads them for `--show-all` history).
    static func rowConditions(_ pod: OrderedJSON) -> OrderedJSON? {
        switch pod[path: ["status", "phase"]]?.stringValue {
        case "Succeeded":
            return .array([.object([("type", .string("Completed")), ("status", .string("True")), ("reason", .string("Succeeded")),
                                    ("message", .string("The pod has completed successfully."))])])
        case "Failed":
            return .array([.object([("type", .string("Completed")), ("status", .string("True")), ("reason", .string("Failed")),
                                    ("message", .string("The pod failed."))])])
        default: return nil
        }
    }
}

enum NodePrinter {
    static func cells(_ node: OrderedJSON, now: Date) -> [String] {
        var status: [String] = []
        if let ready = (node[path: ["status", "conditions"]]?.arrayValue ?? []).last(where: { $0["type"]?.stringValue == "Ready" }) {
            status.append(ready["status"]?.stringValue == "True" ? "Ready" : "NotReady")
        }
        if status.isEmpty { status.append("Unknown") }
        if node[path: ["spec", "unschedulable"]]?.boolValue == true { status.append("SchedulingDisabled") }
        var roles = Set<String>()
        for (key, value) in node.labels {
            if key.hasPrefix("node-role.kubernetes.io/") {
                let role = String(key.dropFirst("node-role.kubernetes.io/".count))
                if !role.isEmpty { roles.insert(role) }
            } else if key == "kubernetes.io/role", !value.isEmpty {
                roles.insert(value)
            }
        }
        let info = node[path: ["status", "nodeInfo"]]
        func address(_ type: String) -> String {
            (node[path: ["status", "addresses"]]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }?["address"]?.stringValue ?? "<none>"
        }
        func known(_ key: String) -> String {
            let value = info?[key]?.stringValue ?? ""
            return value.isEmpty ? "<unknown>" : value
        }
        return [node.name, status.joined(separator: ","), roles.isEmpty ? "<none>" : roles.sorted().joined(separator: ","),
                KubeTime.age(of: node.creationTimestamp, now: now), info?["kubeletVersion"]?.stringValue ?? "",
                address("InternalIP"), address("ExternalIP"), known("osImage"), known("kernelVersion"), known("containerRuntimeVersion")]
    }
}

enum ServicePrinter {
    static func cells(_ service: OrderedJSON, now: Date) -> [String] {
        let spec = service["spec"]
        let type = spec?["type"]?.stringValue ?? ""
        let clusterIP = spec?["clusterIPs"]?.arrayValue?.first?.stringValue ?? "<none>"
        let externalIPs = (spec?["externalIPs"]?.arrayValue ?? []).compactMap(\.stringValue)
        let external: String
        switch type {
        case "ClusterIP", "NodePort":
            external = externalIPs.isEmpty ? "<none>" : externalIPs.joined(separator: ",")
        case "LoadBalancer":
            var ingress = Set<String>()
            for entry in service[path: ["status", "loadBalancer", "ingress"]]?.arrayValue ?? [] {
                if let ip = entry["ip"]?.stringValue, !ip.isEmpty { ingress.insert(ip) }
                else if let host = entry["hostname"]?.stringValue, !host.isEmpty { ingress.insert(host) }
            }
            let all = ingress.sorted() + externalIPs
            external = all.isEmpty ? "<pending>" : all.joined(separator: ",")
        case "ExternalName":
            external = spec?["externalName"]?.stringValue ?? ""
        default:
            external = "<unknown>"
        }
        let ports = (spec?["ports"]?.arrayValue ?? []).map { port -> String in
            let number = port["port"]?.intValue ?? 0
            let proto = port["protocol"]?.stringValue ?? "TCP"
            if let nodePort = port["nodePort"]?.intValue, nodePort > 0 { return "\(number):\(nodePort)/\(proto)" }
            return "\(number)/\(proto)"
        }.joined(separator: ",")
        return [service.name, type, clusterIP, external, ports.isEmpty ? "<none>" : ports,
                KubeTime.age(of: service.creationTimestamp, now: now), TablePrinter.formatSelectorMap(spec?["selector"]?.stringMap)]
    }
}

enum EventPrinter {
    static func cells(_ event: OrderedJSON, now: Date) -> [OrderedJSON] {
        func age(_ key: String) -> String? {
            guard let text = event[key]?.stringValue, !text.isEmpty else { return nil }
            return KubeTime.age(of: text, now: now)
        }
        let first = age("firstTimestamp") ?? age("eventTime") ?? "<unknown>"
        var last = age("lastTimestamp") ?? first
        var count = event["count"]?.intValue ?? 0
        if let series = event["series"], !series.isNull {
            last = series["lastObservedTime"]?.stringValue.map { KubeTime.age(of: $0, now: now) } ?? last
            count = series["count"]?.intValue ?? count
        } else if count == 0 {
            count = 1
        }
        let involved = event["involvedObject"]
        let kind = (involved?["kind"]?.stringValue ?? "").lowercased()
        let name = involved?["name"]?.stringValue ?? ""
        let component = event[path: ["source", "component"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            ?? event["reportingComponent"]?.stringValue ?? ""
        let host = event[path: ["source", "host"]]?.stringValue.flatMap { $0.isEmpty ? nil : $0 }
            ?? event["reportingInstance"]?.stringValue ?? ""
        return [.string(last), .string(event["type"]?.stringValue ?? ""), .string(event["reason"]?.stringValue ?? ""),
                .string(name.isEmpty ? kind : "\(kind)/\(name)"), .string(involved?["fieldPath"]?.stringValue ?? ""),
                .string(host.isEmpty ? component : "\(component), \(host)"),
                .string((event["message"]?.stringValue ?? "").trimmingCharacters(in: .whitespacesAndNewlines)),
                .string(first), .int(count), .string(event.name)]
    }
}

/// printJob: Status from the conditions, `succeeded/completions`, and the run's duration.
enum JobPrinter {
    static func cells(_ job: OrderedJSON, now: Date) -> [String] {
        let succeeded = job[path: ["status", "succeeded"]]?.intValue ?? 0
        let completions: String
        if let wanted = job[path: ["spec", "completions"]]?.intValue {
            completions = "\(succeeded)/\(wanted)"
        } else {
            let parallelism = job[path: ["spec", "parallelism"]]?.intValue ?? 0
            completions = parallelism > 1 ? "\(succeeded)/1 of \(parallelism)" : "\(succeeded)/1"
        }
        let started = job[path: ["status", "startTime"]]?.stringValue.flatMap(KubeTime.parse)
        let finished = job[path: ["status", "completionTime"]]?.stringValue.flatMap(KubeTime.parse)
        var duration = ""
        if let started { duration = HumanDuration.format((finished ?? now).timeIntervalSince(started)) }
        func has(_ type: String) -> Bool {
            (job[path: ["status", "conditions"]]?.arrayValue ?? []).contains { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
        }
        let status: String
        if has("Complete") { status = "Complete" }
        else if has("Failed") { status = "Failed" }
        else if job.deletionTimestamp != nil { status = "Terminating" }
        else if has("Suspended") { status = "Suspended" }
        else if has("FailureTarget") { status = "FailureTarget" }
        else { status = "Running" }
        let (containers, images) = TablePrinter.templateContainers(job)
        let selector = job[path: ["spec", "selector"]].map { LabelSelector(labelSelectorJSON: $0).description } ?? "<none>"
        return [job.name, status, completions, duration, KubeTime.age(of: job.creationTimestamp, now: now), containers, images,
                selector.isEmpty ? "<none>" : selector]
    }
}
