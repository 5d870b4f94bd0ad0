import ArgumentParser
import Foundation
import Glibc
import Platform

/// `kubectl scale TYPE NAME --replicas=N` through the scale subresource.
struct KubectlScaleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "scale", abstract: "Set a new size for a deployment, replica set or replication controller.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "TYPE NAME or TYPE/NAME") var target: [String]
    @Option(help: "The new desired number of replicas.") var replicas: Int

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session()
            for request in try KubectlTargets.parse(target, discovery: session.discovery) {
                for name in request.names {
                    let path = request.type.objectPath(namespace: session.context.namespace, name: name) + "/scale"
                    let response = try session.client.request("PATCH", path, body: .object([("spec", .object([("replicas", .int(replicas))]))]),
                                                              contentType: "application/merge-patch+json")
                    if response.status == 404 {
                        // kubectl looks the object up first, and words a miss so.
                        throw KubectlError.message("error: no objects passed to scale \(request.type.qualifiedName) \"\(name)\" not found")
                    }
                    guard (200..<300).contains(response.status) else { throw KubeAPIClient.failure(response) }
                    Console.out("\(request.type.nameKind)/\(name) scaled\n")
                }
            }
        }
    }
}

/// `kubectl delete TYPE NAME… | TYPE -l SELECTOR | TYPE --all | -f FILE…`, waiting for the
/// objects to go.
struct KubectlDeleteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete resources by file names, stdin, names, or label selector.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "TYPE NAME... or TYPE/NAME...") var target: [String] = []
    @Option(name: [.short, .customLong("filename")], help: "Files, directories or - (stdin) with the objects to delete.") var filename: [String] = []
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Label selector.") var selector: String?
    @Flag(help: "Delete all resources of the type in the namespace.") var all = false
    @Option(name: .customLong("grace-period"), help: "Seconds given to the resource to terminate gracefully.") var gracePeriod: Int = -1
    @Option(help: "background, foreground or orphan.") var cascade: String = "background"
    @Option(help: "Wait for the resources to be gone.") var wait: Bool = true
    @Flag(help: "Delete immediately (with --grace-period=0).") var force = false
    @Flag(name: .customLong("ignore-not-found"), help: "Treat \"resource not found\" as a successful delete.") var ignoreNotFound = false

    /// One object to delete; `source` is the manifest it came from (kubectl names it in errors).
    struct Target {
        var type: ResourceDiscovery.ResourceType
        var namespace: String?
        var name: String
        var source: String?
    }

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session()
            let namespace = session.context.namespace
            var targets: [Target] = []
            if !filename.isEmpty {
                guard target.isEmpty else {
                    throw KubectlError.message("error: there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get resource resource/<resource_name>'")
                }
                for document in try KubectlManifests.load(filename) {
                    let (type, objectNamespace, name) = try KubectlApplyCommand.target(document.object, session: session)
                    targets.append(Target(type: type, namespace: objectNamespace, name: name, source: document.source))
                }
            } else if target.isEmpty {
                throw KubectlError.message("error: You must provide one or more resources by argument or filename.\nExample resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> <name>'\n   '<resource>'")
            }
            for request in target.isEmpty ? [] : try KubectlTargets.parse(target, discovery: session.discovery) {
                let scope = request.type.namespaced ? namespace : nil
                if request.names.isEmpty {
                    guard selector != nil || all else {
                        throw KubectlError.message("error: resource(s) were provided, but no name was specified")
                    }
                    let list = try session.client.list(request.type, namespace: scope, labelSelector: selector)
                    targets += (list["items"]?.arrayValue ?? []).compactMap { item in
                        item[path: ["metadata", "name"]]?.stringValue.map { Target(type: request.type, namespace: scope, name: $0) }
                    }
                } else {
                    targets += request.names.map { Target(type: request.type, namespace: scope, name: $0) }
                }
            }
            if targets.isEmpty && !ignoreNotFound { Console.err("No resources found\n") }
            var options: [(String, OrderedJSON)] = [("kind", .string("DeleteOptions")), ("apiVersion", .string("v1"))]
            if gracePeriod >= 0 { options.append(("gracePeriodSeconds", .int(gracePeriod))) }
            let policy = ["background": "Background", "foreground": "Foreground", "orphan": "Orphan"][cascade] ?? "Background"
            options.append(("propagationPolicy", .string(policy)))
            var failed = false
            var deleted: [Target] = []
            for target in targets {
                let path = target.type.objectPath(namespace: target.namespace, name: target.name)
                let response = try session.client.request("DELETE", path, body: .object(options))
                guard (200..<300).contains(response.status) else {
                    if response.status == 404 && ignoreNotFound { continue }
                    failed = true
                    if let source = target.source {
                        Console.err(KubectlApplyCommand.failure(response, verb: "deleting", source: source) + "\n")
                    } else if case .message(let text) = KubeAPIClient.failure(response) {
                        Console.err(text + "\n")
                    }
                    continue
                }
                Console.out("\(target.type.nameKind) \"\(target.name)\" deleted\n")
                deleted.append(target)
            }
            // As kubectl does: return once the objects are gone (finalizers, graceful pod deletion).
            if wait {
                for target in deleted {
                    let path = target.type.objectPath(namespace: target.namespace, name: target.name)
                    while try session.client.request("GET", path).status != 404 {
                        try await Task.sleep(for: .milliseconds(100))
                    }
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}

/// `kubectl label TYPE NAME key=value… [key-] [--overwrite]`.
struct KubectlLabelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "label", abstract: "Update the labels on a resource.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "TYPE NAME KEY_1=VAL_1 ... KEY_N=VAL_N, or KEY- to remove") var arguments: [String]
    @Flag(help: "Replace labels that already have a value.") var overwrite = false

    func run() async throws {
        try await KubectlCommand.report {
            try KubectlMetadataUpdate.apply(global: global, arguments: arguments, field: "labels", overwrite: overwrite) { key, existing in
                "error: '\(key)' already has a value (\(existing)), and --overwrite is false"
            } outcome: { before, after in
                // kubectl's wording: added or changed → labeled, only removed → unlabeled.
                after.contains { before[$0.key] != $0.value } ? "labeled" : before.keys.contains { after[$0] == nil } ? "unlabeled" : "not labeled"
            }
        }
    }
}

/// `kubectl annotate TYPE NAME key=value… [key-] [--overwrite]`.
struct KubectlAnnotateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "annotate", abstract: "Update the annotations on a resource.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "TYPE NAME KEY_1=VAL_1 ... KEY_N=VAL_N, or KEY- to remove") var arguments: [String]
    @Flag(help: "Replace annotations that already have a value.") var overwrite = false

    func run() async throws {
        try await KubectlCommand.report {
            try KubectlMetadataUpdate.apply(global: global, arguments: arguments, field: "annotations", overwrite: overwrite) { key, existing in
                "error: --overwrite is false but found the following declared annotation(s): '\(key)' already has a value (\(existing))"
            } outcome: { _, _ in "annotated" }
        }
    }
}

/// What label and annotate share: `key=value` and `key-` arguments merged into one map.
enum KubectlMetadataUpdate {
    static func apply(global: KubectlGlobalOptions, arguments: [String], field: String, overwrite: Bool,
                      conflict: (String, String) -> String, outcome: ([String: String], [String: String]) -> String) throws {
        let session = try global.session()
        let changes = arguments.filter { $0.contains("=") || $0.hasSuffix("-") }
        let targets = arguments.filter { !changes.contains($0) }
        guard !changes.isEmpty else {
            throw KubectlError.message("error: at least one \(field == "labels" ? "label" : "annotation") update is required")
        }
        for request in try KubectlTargets.parse(targets, discovery: session.discovery) {
            for name in request.names {
                let path = request.type.objectPath(namespace: session.context.namespace, name: name)
                let before = try session.client.expect("GET", path)[path: ["metadata", field]]?.stringMap ?? [:]
                var patch: [(String, OrderedJSON)] = []
                for change in changes {
                    if change.hasSuffix("-") && !change.contains("=") {
                        patch.append((String(change.dropLast()), .null))
                        continue
                    }
                    let parts = change.split(separator: "=", maxSplits: 1).map(String.init)
                    let key = parts[0], value = parts.count > 1 ? parts[1] : ""
                    if let existing = before[key], existing != value, !overwrite { throw KubectlError.message(conflict(key, existing)) }
                    patch.append((key, .string(value)))
                }
                let updated = try session.client.expect("PATCH", path, body: .object([("metadata", .object([(field, .object(patch))]))]),
                                                        contentType: "application/merge-patch+json")
                let after = updated[path: ["metadata", field]]?.stringMap ?? [:]
                Console.out("\(request.type.nameKind)/\(name) \(outcome(before, after))\n")
            }
        }
    }
}

/// `kubectl patch TYPE NAME -p PATCH [--type strategic|merge|json] [--subresource status|scale]`.
struct KubectlPatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "patch", abstract: "Update fields of a resource.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "TYPE NAME or TYPE/NAME") var target: [String]
    @Option(name: [.short, .customLong("patch")], help: "The patch, JSON or YAML.") var patch: String
    @Option(help: "strategic, merge or json.") var type: String = "strategic"
    @Option(help: "status or scale.") var subresource: String?

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session()
            let contentTypes = ["strategic": "application/strategic-merge-patch+json", "merge": "application/merge-patch+json",
                                "json": "application/json-patch+json"]
            guard let contentType = contentTypes[type] else {
                throw KubectlError.message("error: --type must be one of [json merge strategic], not \"\(type)\"")
            }
            guard let document = try KubectlManifests.parse(patch, source: "patch").first?.object ?? (try? OrderedJSON(parsing: Array(patch.utf8))) else {
                throw KubectlError.message("error: unable to parse \"\(patch)\": empty patch")
            }
            for request in try KubectlTargets.parse(target, discovery: session.discovery) {
                for name in request.names {
                    let path = request.type.objectPath(namespace: session.context.namespace, name: name) + (subresource.map { "/" + $0 } ?? "")
                    let before = try session.client.expect("GET", path)
                    let after = try session.client.expect("PATCH", path, body: document, contentType: contentType)
                    let changed = before[path: ["metadata", "resourceVersion"]] != after[path: ["metadata", "resourceVersion"]]
                    Console.out("\(request.type.nameKind)/\(name) patched\(changed ? "" : " (no change)")\n")
                }
            }
        }
    }
}

/// `kubectl logs POD [-c CONTAINER] [-f] [-p] [--tail N] [--since D | --since-time T] [--timestamps]`.
struct KubectlLogsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Print the logs for a container in a pod.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "POD or TYPE/NAME") var pod: String?
    @Option(name: .shortAndLong, help: "The container to print the logs of.") var container: String?
    @Flag(name: .shortAndLong, help: "Stream the logs.") var follow = false
    @Flag(name: .shortAndLong, help: "The previous instance of the container.") var previous = false
    @Option(help: "Lines of recent log to display.") var tail: Int = -1
    @Flag(help: "Include timestamps on each line.") var timestamps = false
    @Option(help: "Only logs newer than a duration like 5s, 2m or 3h.") var since: String?
    @Option(name: .customLong("since-time"), help: "Only return logs after a specific date (RFC3339). Only one of since-time / since may be used.")
    var sinceTime: String?

    func run() async throws {
        try await KubectlCommand.report {
            guard let pod else {
                throw KubectlError.message("""
                    error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.
                    POD or TYPE/NAME is a required argument for the logs command
                    See 'kubectl logs -h' for help and examples
                    """)
            }
            let session = try global.session(discover: pod.contains("/") && !["pod", "pods", "po"].contains(pod.split(separator: "/").first.map(String.init) ?? ""))
            let name = try Self.podName(pod, session: session)
            var query = ["follow=\(follow)"]
            if let since {
                guard let seconds = GoDuration.seconds(since) else {
                    throw KubectlError.message("Error: invalid argument \"\(since)\" for \"--since\" flag: time: invalid duration \"\(since)\"\nSee 'kubectl logs --help' for usage.")
                }
                query.append("sinceSeconds=\(max(Int(seconds.rounded(.up)), 1))")
            }
            if let sinceTime {
                do {
                    query.append("sinceTime=" + GoURL.queryEscape(GoTime.formatRFC3339UTC(try GoTime.parseRFC3339(sinceTime))))
                } catch let error as GoTime.ParseError {
                    throw KubectlError.message("error: \(error)")
                }
            }
            if let container { query.append("container=\(container)") }
            if previous { query.append("previous=true") }
            if tail >= 0 { query.append("tailLines=\(tail)") }
            if timestamps { query.append("timestamps=true") }
            // kubectl looks the pod up first, and words a miss so.
            if try session.client.request("GET", "/api/v1/namespaces/\(session.context.namespace)/pods/\(name)").status == 404 {
                throw KubectlError.message("error: error from server (NotFound): pods \"\(name)\" not found in namespace \"\(session.context.namespace)\"")
            }
            // kubectl's Validate, after the pod was found.
            if sinceTime != nil && since != nil { throw KubectlError.message("error: at most one of `sinceTime` or `sinceSeconds` may be specified") }
            let path = "/api/v1/namespaces/\(session.context.namespace)/pods/\(name)/log?" + query.joined(separator: "&")
            try await session.client.stream(path) { bytes in
                bytes.withUnsafeBytes { try? FileSystem.writeAll(1, $0, path: "stdout") }
            }
        }
    }

    /// The pod a `POD`, `pod/NAME` or `TYPE/NAME` argument means: for a workload or service,
    /// one of the pods its selector matches, the one kubectl would pick (running and ready
    /// first, then the oldest), saying so when there were several.
    static func podName(_ argument: String, session: KubectlGlobalOptions.Session) throws -> String {
        let parts = argument.split(separator: "/", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return argument }
        if ["pod", "pods", "po"].contains(parts[0]) { return parts[1] }
        let type = try session.discovery.find(parts[0])
        if type.kind == "Pod" { return parts[1] }
        let namespace = session.context.namespace
        let found = try session.client.request("GET", type.objectPath(namespace: namespace, name: parts[1]))
        if found.status == 404 {
            throw KubectlError.message("error: error from server (NotFound): \(type.qualifiedName) \"\(parts[1])\" not found in namespace \"\(namespace)\"")
        }
        guard (200..<300).contains(found.status) else { throw KubeAPIClient.failure(found) }
        let object = found.json
        let selector: [String: String]
        switch type.kind {
        case "ReplicationController", "Service": selector = object[path: ["spec", "selector"]]?.stringMap ?? [:]
        default: selector = object[path: ["spec", "selector", "matchLabels"]]?.stringMap ?? [:]
        }
        let labels = selector.keys.sorted().map { "\($0)=\(selector[$0] ?? "")" }.joined(separator: ",")
        let pods = try session.client.expect("GET", "/api/v1/namespaces/\(namespace)/pods?labelSelector=" + KubectlTargets.escape(labels))["items"]?.arrayValue ?? []
        func rank(_ pod: OrderedJSON) -> Int {
            let running = pod[path: ["status", "phase"]]?.stringValue == "Running"
            let ready = (pod[path: ["status", "conditions"]]?.arrayValue ?? []).contains { $0["type"]?.stringValue == "Ready" && $0["status"]?.stringValue == "True" }
            return (running ? 0 : 2) + (ready ? 0 : 1)
        }
        let chosen = pods.sorted { a, b in
            if rank(a) != rank(b) { return rank(a) < rank(b) }
            let (x, y) = (a[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "", b[path: ["metadata", "creationTimestamp"]]?.stringValue ?? "")
            return x != y ? x < y : (a[path: ["metadata", "name"]]?.stringValue ?? "") < (b[path: ["metadata", "name"]]?.stringValue ?? "")
        }.first
        guard let chosen, let name = chosen[path: ["metadata", "name"]]?.stringValue else {
            throw KubectlError.message("error: timed out waiting for the condition")
        }
        if pods.count > 1 { Console.err("Found \(pods.count) pods, using pod/\(name)\n") }
        return name
    }
}

/// Go's time.ParseDuration for what `--since` takes: `300ms`, `1.5h`, `2h45m`.
enum GoDuration {
    static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ns", 1e-9), ("us", 1e-6), ("µs", 1e-6), ("ms", 1e-3), ("s", 1), ("m", 60), ("h", 3600)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        if rest == "0" { return 0 }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) && !(($0.0 == "m") && rest.hasPrefix("ms")) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return total
    }
}
