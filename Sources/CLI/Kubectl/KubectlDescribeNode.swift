import Foundation
import KubeModel
import Platform

/// `kubectl describe node`, laid out as kubectl 1.32's NodeDescriber writes it: conditions,
/// addresses, capacity, system info, the non-terminated pods with their requests and limits as
/// shares of the allocatable, the totals, and events.
enum KubectlDescribeNode {
    typealias Pod = KubectlDescribePod

    static func render(_ node: OrderedJSON, lease: OrderedJSON?, pods: [OrderedJSON], events: [OrderedJSON], now: Date = Date()) -> String {
        var w = GoTabWriter()
        let metadata = node["metadata"] ?? .object([])
        let spec = node["spec"] ?? .object([])
        let status = node["status"] ?? .object([])
        let labels = metadata["labels"]?.stringMap ?? [:]
        w.write("Name:\t\(metadata["name"]?.stringValue ?? "")\n")
        let roles = roleNames(labels)
        w.write("Roles:\t\(roles.isEmpty ? "<none>" : roles.joined(separator: ","))\n")
        Pod.labels(&w, "Labels", labels)
        Pod.annotations(&w, metadata["annotations"]?.stringMap ?? [:])
        w.write("CreationTimestamp:\t\(Pod.rfc1123z(metadata["creationTimestamp"]?.stringValue ?? ""))\n")
        taints(&w, spec["taints"]?.arrayValue ?? [])
        w.write("Unschedulable:\t\(spec["unschedulable"]?.boolValue ?? false)\n")
        if let lease {
            func time(_ key: String) -> String { lease[path: ["spec", key]]?.stringValue.map(Pod.rfc1123z) ?? "<unset>" }
            w.write("Lease:\n")
            w.write("  HolderIdentity:\t\(lease[path: ["spec", "holderIdentity"]]?.stringValue ?? "<unset>")\n")
            w.write("  AcquireTime:\t\(time("acquireTime"))\n")
            w.write("  RenewTime:\t\(time("renewTime"))\n")
        }
        if let conditions = status["conditions"]?.arrayValue, !conditions.isEmpty {
            w.write("Conditions:\n  Type\tStatus\tLastHeartbeatTime\tLastTransitionTime\tReason\tMessage\n")
            w.write("  ----\t------\t-----------------\t------------------\t------\t-------\n")
            for c in conditions {
                func text(_ key: String) -> String { c[key]?.stringValue ?? "" }
                w.write("  \(text("type")) \t\(text("status")) \t\(Pod.rfc1123z(text("lastHeartbeatTime"))) \t\(Pod.rfc1123z(text("lastTransitionTime"))) \t\(text("reason")) \t\(text("message"))\n")
            }
        }
        w.write("Addresses:\n")
        for address in status["addresses"]?.arrayValue ?? [] {
            w.write("  \(address["type"]?.stringValue ?? ""):\t\(address["address"]?.stringValue ?? "")\n")
        }
        for (title, key) in [("Capacity", "capacity"), ("Allocatable", "allocatable")] {
            guard let list = status[key]?.objectValue, !list.isEmpty else { continue }
            w.write("\(title):\n")
            for (name, value) in list.sorted(by: { $0.0 < $1.0 }) {
                w.write("  \(name):\t\(KubectlQuantity.canonical(value))\n")
            }
        }
        let info = status["nodeInfo"] ?? .object([])
        w.write("System Info:\n")
        for (title, key) in [("Machine ID", "machineID"), ("System UUID", "systemUUID"), ("Boot ID", "bootID"), ("Kernel Version", "kernelVersion"),
                             ("OS Image", "osImage"), ("Operating System", "operatingSystem"), ("Architecture", "architecture"),
                             ("Container Runtime Version", "containerRuntimeVersion"), ("Kubelet Version", "kubeletVersion"),
                             ("Kube-Proxy Version", "kubeProxyVersion")] {
            w.write("  \(title):\t\(info[key]?.stringValue ?? "")\n")
        }
        if let cidr = spec["podCIDR"]?.stringValue, !cidr.isEmpty { w.write("PodCIDR:\t\(cidr)\n") }
        if let cidrs = spec["podCIDRs"]?.arrayValue?.compactMap(\.stringValue), !cidrs.isEmpty { w.write("PodCIDRs:\t\(cidrs.joined(separator: ","))\n") }
        if let provider = spec["providerID"]?.stringValue, !provider.isEmpty { w.write("ProviderID:\t\(provider)\n") }
        let allocatable = (status["allocatable"]?.objectValue).flatMap { $0.isEmpty ? nil : status["allocatable"] } ?? status["capacity"] ?? .object([])
        resources(&w, pods: pods, allocatable: allocatable, now: now)
        return KubectlDescribeWorkloads.finish(&w, events: events)
    }

    /// The `node-role.kubernetes.io/<role>` and `kubernetes.io/role` labels, sorted.
    static func roleNames(_ labels: [String: String]) -> [String] {
        var roles = Set<String>()
        for (key, value) in labels {
            if key.hasPrefix("node-role.kubernetes.io/") {
                let role = String(key.dropFirst("node-role.kubernetes.io/".count))
                if !role.isEmpty { roles.insert(role) }
            } else if key == "kubernetes.io/role", !value.isEmpty {
                roles.insert(value)
            }
        }
        return roles.sorted()
    }

    static func taints(_ w: inout GoTabWriter, _ taints: [OrderedJSON]) {
        w.write("Taints:\t")
        guard !taints.isEmpty else {
            w.write("<none>\n")
            return
        }
        for (index, taint) in taints.enumerated() {
            if index != 0 { w.write("\t") }
            let value = taint["value"]?.stringValue ?? ""
            w.write("\(taint["key"]?.stringValue ?? "")\(value.isEmpty ? "" : "=" + value):\(taint["effect"]?.stringValue ?? "")\n")
        }
    }

    /// One pod's CPU and memory requests and limits: containers summed, init containers as a
    /// floor (resourcehelper.PodRequestsAndLimits).
    struct Usage {
        var cpuRequest = KubectlQuantity(), cpuLimit = KubectlQuantity()
        var memoryRequest = KubectlQuantity(), memoryLimit = KubectlQuantity()
        var storageRequest = KubectlQuantity(), storageLimit = KubectlQuantity()

        init() {}

        init(pod: OrderedJSON) {
            for container in pod[path: ["spec", "containers"]]?.arrayValue ?? [] { add(container, max: false) }
            for container in pod[path: ["spec", "initContainers"]]?.arrayValue ?? [] { add(container, max: true) }
        }

        mutating func add(_ container: OrderedJSON, max: Bool) {
            let requests = container[path: ["resources", "requests"]]
            let limits = container[path: ["resources", "limits"]]
            cpuRequest.combine(requests?["cpu"], max: max)
            cpuLimit.combine(limits?["cpu"], max: max)
            memoryRequest.combine(requests?["memory"], max: max)
            memoryLimit.combine(limits?["memory"], max: max)
            storageRequest.combine(requests?["ephemeral-storage"], max: max)
            storageLimit.combine(limits?["ephemeral-storage"], max: max)
        }

        mutating func add(_ other: Usage) {
            cpuRequest.add(other.cpuRequest)
            cpuLimit.add(other.cpuLimit)
            memoryRequest.add(other.memoryRequest)
            memoryLimit.add(other.memoryLimit)
            storageRequest.add(other.storageRequest)
            storageLimit.add(other.storageLimit)
        }
    }

    static func resources(_ w: inout GoTabWriter, pods: [OrderedJSON], allocatable: OrderedJSON, now: Date) {
        let cpu = Quantity.parse(KubectlQuantity.text(allocatable["cpu"])) ?? 0
        let memory = Quantity.parse(KubectlQuantity.text(allocatable["memory"])) ?? 0
        let storage = Quantity.parse(KubectlQuantity.text(allocatable["ephemeral-storage"])) ?? 0
        func share(_ quantity: KubectlQuantity, of total: Double) -> String {
            let percent = total == 0 ? 0 : Int64(quantity.value / total * 100)
            return "\(quantity.description) (\(percent)%)"
        }
        w.write("Non-terminated Pods:\t(\(pods.count) in total)\n")
        w.write("  Namespace\tName\t\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge\n")
        w.write("  ---------\t----\t\t------------\t----------\t---------------\t-------------\t---\n")
        var total = Usage()
        for pod in pods {
            let usage = Usage(pod: pod)
            total.add(usage)
            let metadata = pod["metadata"] ?? .object([])
            let age = metadata["creationTimestamp"]?.stringValue.map { KubeTime.age(of: $0, now: now) } ?? "<unknown>"
            w.write("  \(metadata["namespace"]?.stringValue ?? "")\t\(metadata["name"]?.stringValue ?? "")\t\t"
                    + "\(share(usage.cpuRequest, of: cpu))\t\(share(usage.cpuLimit, of: cpu))\t"
                    + "\(share(usage.memoryRequest, of: memory))\t\(share(usage.memoryLimit, of: memory))\t\(age)\n")
        }
        w.write("Allocated resources:\n  (Total limits may be over 100 percent, i.e., overcommitted.)\n")
        w.write("  Resource\tRequests\tLimits\n")
        w.write("  --------\t--------\t------\n")
        w.write("  cpu\t\(share(total.cpuRequest, of: cpu))\t\(share(total.cpuLimit, of: cpu))\n")
        w.write("  memory\t\(share(total.memoryRequest, of: memory))\t\(share(total.memoryLimit, of: memory))\n")
        w.write("  ephemeral-storage\t\(share(total.storageRequest, of: storage))\t\(share(total.storageLimit, of: storage))\n")
        for (name, _) in (allocatable.objectValue ?? []).sorted(by: { $0.0 < $1.0 }) where name.hasPrefix("hugepages-") {
            // No pod here asks for huge pages.
            w.write("  \(name)\t0 (0%)\t0 (0%)\n")
        }
    }
}

/// A resource quantity kept as Kubernetes keeps one while summing: its value and the format of
/// the first quantity added (binary `Ki`… or decimal), printed in canonical form.
struct KubectlQuantity: CustomStringConvertible {
    var value: Double = 0
    var binary = false
    private var formatKnown = false

    static func text(_ json: OrderedJSON?) -> String {
        json?.stringValue ?? json?.intValue.map(String.init) ?? ""
    }

    mutating func combine(_ json: OrderedJSON?, max: Bool) {
        guard let json, let parsed = Quantity.parse(Self.text(json)) else { return }
        if !formatKnown {
            binary = Self.text(json).hasSuffix("i")
            formatKnown = true
        }
        value = max ? Swift.max(value, parsed) : value + parsed
    }

    mutating func add(_ other: KubectlQuantity) {
        if !formatKnown && other.formatKnown {
            binary = other.binary
            formatKnown = true
        }
        value += other.value
    }

    var description: String { Self.format(value, binary: binary) }

    /// A node's own quantity, canonicalised as Quantity.String() would (unparseable: as given).
    static func canonical(_ json: OrderedJSON) -> String {
        let text = text(json)
        guard let value = Quantity.parse(text) else { return text }
        return format(value, binary: text.hasSuffix("i"))
    }

    static func format(_ value: Double, binary: Bool) -> String {
        if value == 0 { return "0" }
        if binary, value == value.rounded() {
            let units = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
            var n = value
            var unit = 0
            while unit < units.count - 1, n.truncatingRemainder(dividingBy: 1024) == 0 {
                n /= 1024
                unit += 1
            }
            return "\(Int64(n))\(units[unit])"
        }
        // Decimal: the largest power of 1000 (from milli) that leaves a whole number.
        var milli = (value * 1000).rounded()
        let units = ["m", "", "k", "M", "G", "T", "P", "E"]
        var unit = 0
        while unit < units.count - 1, milli.truncatingRemainder(dividingBy: 1000) == 0 {
            milli /= 1000
            unit += 1
        }
        return "\(Int64(milli))\(units[unit])"
    }
}
