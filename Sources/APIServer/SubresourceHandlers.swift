import Foundation
import HTTPServer
import KubeModel
import NIOHTTP1
import ObjectStore
import Platform
import Registry

extension KubernetesAPI {
    func handleSubresource(_ request: HTTPServerRequest, _ path: ResourcePath, name: String, subresource: String) throws -> HTTPServerResponse {
        switch (subresource, request.method) {
        case ("status", .GET): return Self.json(try existing(path.type, namespace: path.namespace, name: name).value)
        case ("status", .PUT): return try update(request, path, name: name, statusOnly: true)
        case ("status", .PATCH): return try patch(request, path, name: name, statusOnly: true)
        case ("scale", .GET): return Self.json(try scale(of: existing(path.type, namespace: path.namespace, name: name).value, type: path.type))
        case ("scale", .PUT), ("scale", .PATCH): return try updateScale(request, path, name: name)
        case ("binding", .POST): return try bind(request, path, name: name)
        case ("log", .GET): return try log(request, path, name: name)
        case ("finalize", .PUT): return try update(request, path, name: name, statusOnly: false)
        case ("exec", .GET), ("exec", .POST), ("attach", .GET), ("attach", .POST), ("portforward", .GET), ("portforward", .POST):
            return try streamSubresource(request, path, name: name, subresource: subresource)
        default: throw APIError.methodNotAllowed()
        }
    }

    // MARK: scale

    /// `autoscaling/v1` Scale of an RC, RS or Deployment.
    func scale(of object: OrderedJSON, type: ResourceType) -> OrderedJSON {
        let selector: String
        if type.kind == "ReplicationController" {
            selector = LabelSelector(matching: object[path: ["spec", "selector"]]?.stringMap ?? [:]).description
        } else {
            selector = LabelSelector(labelSelectorJSON: object[path: ["spec", "selector"]] ?? .object([])).description
        }
        var metadata: [(String, OrderedJSON)] = [("name", .string(object.name))]
        if !object.namespace.isEmpty { metadata.append(("namespace", .string(object.namespace))) }
        for key in ["uid", "resourceVersion", "creationTimestamp"] {
            if let value = object[path: ["metadata", key]] { metadata.append((key, value)) }
        }
        return .object([
            ("kind", .string("Scale")), ("apiVersion", .string("autoscaling/v1")), ("metadata", .object(metadata)),
            ("spec", .object([("replicas", .int(object[path: ["spec", "replicas"]]?.intValue ?? 0))])),
            ("status", .object([("replicas", .int(object[path: ["status", "replicas"]]?.intValue ?? 0)), ("selector", .string(selector))])),
        ])
    }

    func updateScale(_ request: HTTPServerRequest, _ path: ResourcePath, name: String) throws -> HTTPServerResponse {
        let current = try existing(path.type, namespace: path.namespace, name: name)
        let scaleNow = scale(of: current.value, type: path.type)
        let desired: OrderedJSON
        if request.method == .PATCH {
            let body = try request.jsonBody()
            switch request.contentType {
            case "application/json-patch+json": desired = try Patch.jsonPatch(scaleNow, body)
            default: desired = Patch.merge(scaleNow, body)
            }
        } else {
            desired = try request.objectBody(apiVersion: "autoscaling/v1", kind: "Scale")
        }
        // ScaleSpec.replicas is a plain omitempty int32: Go clients leave out 0, and Go reads absent as 0.
        let replicas = desired[path: ["spec", "replicas"]]?.intValue ?? 0
        if replicas < 0 { throw APIError.invalid(kind: "Scale", name: name, [.invalid("spec.replicas", String(replicas), "must be greater than or equal to 0")]) }
        let expected = desired.resourceVersion.flatMap { $0.isEmpty ? nil : Int64($0) }
        let updated = try registry.replace(path.type, namespace: path.namespace, name: name, expectedRevision: expected, statusOnly: false) { object in
            var next = object
            next[path: ["spec", "replicas"]] = .int(replicas)
            return next
        }
        return Self.json(scale(of: updated.value, type: path.type))
    }

    // MARK: pods

    /// `pods/binding`: the scheduler's write of spec.nodeName.
    func bind(_ request: HTTPServerRequest, _ path: ResourcePath, name: String) throws -> HTTPServerResponse {
        let body = try request.objectBody(apiVersion: "v1", kind: "Binding")
        guard let node = body[path: ["target", "name"]]?.stringValue, !node.isEmpty else {
            throw APIError.invalid(kind: "Binding", name: name, [.required("target.name")])
        }
        try registry.bindPod(namespace: path.namespace ?? "", name: name, node: node)
        return Self.json(.object([("kind", .string("Status")), ("apiVersion", .string("v1")), ("metadata", .object([])),
                                  ("status", .string("Success")), ("code", .int(201))]), status: .created)
    }

    func requireHost(_ pod: OrderedJSON) throws {
        if (pod[path: ["spec", "nodeName"]]?.stringValue ?? "").isEmpty {
            throw APIError.badRequest("pod \(pod.name) does not have a host assigned")
        }
    }

    /// `pods/log`: plain text, chunked and flushed line by line with follow=true.
    func log(_ request: HTTPServerRequest, _ path: ResourcePath, name: String) throws -> HTTPServerResponse {
        let pod = try existing(path.type, namespace: path.namespace, name: name).value
        let containers = (pod[path: ["spec", "containers"]]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
        let container: String
        if let asked = request.query["container"], !asked.isEmpty {
            guard containers.contains(asked) else {
                throw APIError.badRequest("container \(asked) is not valid for pod \(name)")
            }
            container = asked
        } else if containers.count == 1 {
            container = containers[0]
        } else {
            throw APIError.badRequest("a container name must be specified for pod \(name), choose one of: [\(containers.joined(separator: " "))]")
        }
        try requireHost(pod)
        let status = (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []).first { $0["name"]?.stringValue == container }
        // A container waiting to restart (CrashLoopBackOff) still has the last run's log.
        if let waiting = status?[path: ["state", "waiting", "reason"]]?.stringValue, status?[path: ["lastState", "terminated"]] == nil {
            throw APIError.badRequest("container \"\(container)\" in pod \"\(name)\" is waiting to start: \(waiting)")
        }
        guard let podLogs else {
            throw APIError.badRequest("container \"\(container)\" in pod \"\(name)\" is waiting to start: ContainerCreating")
        }
        // metav1.Time's query form: the parameter codec's parse error is the answer to a bad one.
        let sinceTime: Double?
        do {
            sinceTime = try request.query["sinceTime"].map { try GoTime.parseRFC3339($0).timeIntervalSince1970 }
        } catch {
            throw APIError.badRequest("\(error)")
        }
        let sinceSeconds = request.query["sinceSeconds"].flatMap(Int.init)
        if sinceSeconds != nil && sinceTime != nil {
            throw APIError.invalid(kind: "PodLogOptions", name: name, [.forbidden("", "at most one of `sinceTime` or `sinceSeconds` may be specified")])
        }
        let options = PodLogOptions(
            follow: request.query.bool("follow"), tailLines: request.query["tailLines"].flatMap(Int.init),
            sinceSeconds: sinceSeconds, sinceTime: sinceTime, timestamps: request.query.bool("timestamps"),
            previous: request.query.bool("previous"), limitBytes: request.query["limitBytes"].flatMap(Int.init))
        let namespace = path.namespace ?? ""
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "text/plain")
        let stream: AsyncStream<[UInt8]>
        do {
            stream = try podLogs.logs(namespace: namespace, pod: name, container: container, options: options)
        } catch PodLogError.badRequest(let message) {
            throw APIError.badRequest(message)
        }
        return HTTPServerResponse(status: .ok, headers: headers, body: .stream { writer in
            for await chunk in stream { try await writer.write(chunk) }
        })
    }
}
