import Foundation
import KubeModel
import Platform

/// What the node agent knows of one container, in the terms of `containerStatuses`.
public struct ContainerView: Sendable, Equatable {
    public enum State: Sendable, Equatable {
        case waiting(reason: String, message: String?)
        case running(startedAt: Date)
        case terminated(exitCode: Int32, reason: String, message: String?, startedAt: Date?, finishedAt: Date?, containerID: String?)
    }

    public var name: String
    public var state: State
    public var lastState: State?
    public var ready: Bool
    public var started: Bool
    public var restartCount: Int
    public var image: String
    public var imageID: String
    public var containerID: String?

    public init(name: String, state: State, lastState: State? = nil, ready: Bool = false, started: Bool = false,
                restartCount: Int = 0, image: String, imageID: String = "", containerID: String? = nil) {
        self.name = name
        self.state = state
        self.lastState = lastState
        self.ready = ready
        self.started = started
        self.restartCount = restartCount
        self.image = image
        self.imageID = imageID
        self.containerID = containerID
    }

    /// The terminated reason the kubelet gives: OOMKilled, Completed for 0, Error otherwise.
    public static func terminatedReason(exitCode: Int32, oomKilled: Bool) -> String {
        oomKilled ? "OOMKilled" : (exitCode == 0 ? "Completed" : "Error")
    }

    var json: OrderedJSON {
        var fields: [(String, OrderedJSON)] = [("name", .string(name)), ("state", Self.json(state)),
                                               ("lastState", lastState.map(Self.json) ?? .object([])),
                                               ("ready", .bool(ready)), ("restartCount", .int(Int64(restartCount))),
                                               ("image", .string(image)), ("imageID", .string(imageID))]
        if let containerID { fields.append(("containerID", .string(containerID))) }
        fields.append(("started", .bool(started)))
        return .object(fields)
    }

    static func json(_ state: State) -> OrderedJSON {
        switch state {
        case .waiting(let reason, let message):
            var fields: [(String, OrderedJSON)] = [("reason", .string(reason))]
            if let message { fields.append(("message", .string(message))) }
            return .object([("waiting", .object(fields))])
        case .running(let startedAt):
            return .object([("running", .object([("startedAt", .string(KubeTime.format(startedAt)))]))])
        case .terminated(let exitCode, let reason, let message, let startedAt, let finishedAt, let containerID):
            var fields: [(String, OrderedJSON)] = [("exitCode", .int(Int64(exitCode))), ("reason", .string(reason))]
            if let message { fields.append(("message", .string(message))) }
            fields.append(("startedAt", startedAt.map { .string(KubeTime.format($0)) } ?? .null))
            fields.append(("finishedAt", finishedAt.map { .string(KubeTime.format($0)) } ?? .null))
            if let containerID { fields.append(("containerID", .string(containerID))) }
            return .object([("terminated", .object(fields))])
        }
    }
}

/// The pod status a kubelet writes: phase (getPhase's rules), the five conditions with
/// transition times kept while unchanged, container statuses, IPs and start time.
public enum PodStatusBuilder {
    public struct Input: Sendable {
        public var sandboxReady: Bool
        public var podIP: String?
        public var hostIP: String
        public var initContainers: [ContainerView]
        public var containers: [ContainerView]
        public var startTime: Date

        public init(sandboxReady: Bool, podIP: String?, hostIP: String, initContainers: [ContainerView], containers: [ContainerView], startTime: Date) {
            self.sandboxReady = sandboxReady
            self.podIP = podIP
            self.hostIP = hostIP
            self.initContainers = initContainers
            self.containers = containers
            self.startTime = startTime
        }
    }

    /// All init containers ran to completion.
    static func initialized(_ views: [ContainerView]) -> Bool {
        views.allSatisfy { view in
            if case .terminated(let code, _, _, _, _, _) = view.state { return code == 0 }
            return false
        }
    }

    public static func phase(restartPolicy: String, input: Input) -> String {
        if !initialized(input.initContainers) {
            // A failed init container with restartPolicy Never fails the pod.
            if restartPolicy == "Never", input.initContainers.contains(where: {
                if case .terminated(let code, _, _, _, _, _) = $0.state { return code != 0 }
                return false
            }) { return "Failed" }
            return "Pending"
        }
        var waiting = 0, running = 0, stopped = 0, succeeded = 0
        for view in input.containers {
            switch view.state {
            case .running: running += 1
            case .terminated(let code, _, _, _, _, _):
                stopped += 1
                if code == 0 { succeeded += 1 }
            case .waiting:
                // Waiting to restart counts as stopped; never started counts as waiting.
                if case .terminated(let code, _, _, _, _, _)? = view.lastState {
                    stopped += 1
                    if code == 0 { succeeded += 1 }
                } else {
                    waiting += 1
                }
            }
        }
        if waiting > 0 { return "Pending" }
        if running > 0 { return "Running" }
        guard stopped > 0 else { return "Pending" }
        switch restartPolicy {
        case "Always": return "Running"
        case "OnFailure": return stopped == succeeded ? "Succeeded" : "Running"
        default: return stopped == succeeded ? "Succeeded" : "Failed"
        }
    }

    public static func status(pod: OrderedJSON, input: Input, now: Date = Date()) -> OrderedJSON {
        let previous = pod["status"] ?? .object([])
        let restartPolicy = pod[path: ["spec", "restartPolicy"]]?.stringValue ?? "Always"
        let phase = phase(restartPolicy: restartPolicy, input: input)
        let initDone = initialized(input.initContainers)
        let containersReady = !input.containers.isEmpty && input.containers.allSatisfy { view in
            if case .running = view.state { return view.ready }
            return false
        }
        let terminal = phase == "Succeeded" || phase == "Failed"
        func condition(_ type: String, _ status: Bool, reason: String? = nil) -> OrderedJSON {
            let value = status ? "True" : "False"
            let old = (previous["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == type }
            let since = old?["status"]?.stringValue == value ? (old?["lastTransitionTime"] ?? .string(KubeTime.format(now))) : .string(KubeTime.format(now))
            var fields: [(String, OrderedJSON)] = [("type", .string(type)), ("status", .string(value)),
                                                   ("lastProbeTime", .null), ("lastTransitionTime", since)]
            if let reason, !status { fields.append(("reason", .string(reason))) }
            return .object(fields)
        }
        let notReadyReason = terminal ? "PodCompleted" : "ContainersNotReady"
        var conditions: [OrderedJSON] = [
            condition("PodReadyToStartContainers", input.sandboxReady && !terminal),
            condition("Initialized", initDone, reason: "ContainersNotInitialized"),
            condition("Ready", containersReady && !terminal, reason: notReadyReason),
            condition("ContainersReady", containersReady && !terminal, reason: notReadyReason),
        ]
        if let scheduled = (previous["conditions"]?.arrayValue ?? []).first(where: { $0["type"]?.stringValue == "PodScheduled" }) {
            conditions.append(scheduled)
        }
        var status: [(String, OrderedJSON)] = [("phase", .string(phase)), ("conditions", .array(conditions)),
                                               ("hostIP", .string(input.hostIP)),
                                               ("hostIPs", .array([.object([("ip", .string(input.hostIP))])]))]
        if let ip = input.podIP {
            status.append(("podIP", .string(ip)))
            status.append(("podIPs", .array([.object([("ip", .string(ip))])])))
        }
        status.append(("startTime", previous["startTime"] ?? .string(KubeTime.format(input.startTime))))
        if !input.initContainers.isEmpty { status.append(("initContainerStatuses", .array(input.initContainers.map(\.json)))) }
        status.append(("containerStatuses", .array(input.containers.map(\.json))))
        status.append(("qosClass", previous["qosClass"] ?? .string("BestEffort")))
        return .object(status)
    }
}
