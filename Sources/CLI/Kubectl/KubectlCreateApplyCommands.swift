import ArgumentParser
import Foundation
import Platform

/// `kubectl create -f FILE|DIR|-`: every object of the manifests, as it is.
struct KubectlCreateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a resource from a file or from stdin.")

    @OptionGroup var global: KubectlGlobalOptions
    @Option(name: [.short, .customLong("filename")], help: "Files, directories or - (stdin) with the objects.") var filename: [String]

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session()
            var failed = false
            for document in try KubectlManifests.load(filename) {
                let (type, namespace, name) = try KubectlApplyCommand.target(document.object, session: session)
                let response = try session.client.request("POST", type.collectionPath(namespace: namespace), body: document.object)
                if (200..<300).contains(response.status) {
                    Console.out("\(type.nameKind)/\(name) created\n")
                } else {
                    failed = true
                    Console.err(KubectlApplyCommand.failure(response, verb: "creating", source: document.source) + "\n")
                }
            }
            if failed { throw ExitCode(1) }
        }
    }
}

/// `kubectl apply -f …` (client-side): creates what is missing with the last-applied annotation,
/// patches what changed since the last apply, and says `unchanged` otherwise.
struct KubectlApplyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "apply", abstract: "Apply a configuration to a resource by file name or stdin.")

    @OptionGroup var global: KubectlGlobalOptions
    @Option(name: [.short, .customLong("filename")], help: "Files, directories or - (stdin) with the objects.") var filename: [String]

    static let lastApplied = "kubectl.kubernetes.io/last-applied-configuration"

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session()
            var failed = false
            for document in try KubectlManifests.load(filename) {
                let (type, namespace, name) = try Self.target(document.object, session: session)
                var modified = document.object
                if type.namespaced { modified[path: ["metadata", "namespace"]] = .string(namespace ?? "default") }
                var annotations = modified[path: ["metadata", "annotations"]]?.objectValue ?? []
                annotations.removeAll { $0.0 == Self.lastApplied }
                modified[path: ["metadata", "annotations"]] = .object(annotations)
                // kubectl records the object as applied: compact JSON, keys sorted, a newline.
                let record = KubectlObjectPrinter.sortedKeys(modified).serialized() + "\n"
                var desired = modified
                desired[path: ["metadata", "annotations"]] = .object(annotations + [(Self.lastApplied, .string(record))])

                let path = type.objectPath(namespace: namespace, name: name)
                let existing = try session.client.request("GET", path)
                if existing.status == 404 {
                    let created = try session.client.request("POST", type.collectionPath(namespace: namespace), body: desired)
                    if (200..<300).contains(created.status) {
                        Console.out("\(type.nameKind)/\(name) created\n")
                    } else {
                        failed = true
                        Console.err(Self.failure(created, verb: "creating", source: document.source) + "\n")
                    }
                    continue
                }
                guard (200..<300).contains(existing.status) else { throw KubeAPIClient.failure(existing) }
                let current = existing.json
                let recorded = current[path: ["metadata", "annotations"]]?.stringMap?[Self.lastApplied]
                if recorded == nil {
                    Console.err("Warning: resource \(type.qualifiedName)/\(name) is missing the \(Self.lastApplied) annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n")
                }
                let original = recorded.flatMap { try? OrderedJSON(parsing: Array($0.utf8)) } ?? .object([])
                let patch = Self.threeWay(original: original, modified: desired, current: current)
                guard case .object(let changes) = patch, !changes.isEmpty else {
                    Console.out("\(type.nameKind)/\(name) unchanged\n")
                    continue
                }
                let response = try session.client.request("PATCH", path, body: patch, contentType: "application/strategic-merge-patch+json")
                if (200..<300).contains(response.status) {
                    Console.out("\(type.nameKind)/\(name) configured\n")
                } else {
                    failed = true
                    Console.err(Self.failure(response, verb: "patching", source: document.source) + "\n")
                }
            }
            if failed { throw ExitCode(1) }
        }
    }

    /// The type, namespace and name an object of a manifest goes to.
    static func target(_ object: OrderedJSON, session: KubectlGlobalOptions.Session) throws
        -> (ResourceDiscovery.ResourceType, String?, String) {
        let kind = object["kind"]?.stringValue ?? ""
        let apiVersion = object["apiVersion"]?.stringValue ?? ""
        guard !kind.isEmpty, !apiVersion.isEmpty else {
            throw KubectlError.message("error: unable to decode the manifest: Object 'Kind' is missing")
        }
        guard let type = session.discovery.byKind(kind, apiVersion: apiVersion) else {
            throw KubectlError.message("error: resource mapping not found for kind \"\(kind)\" in version \"\(apiVersion)\"")
        }
        guard let name = object[path: ["metadata", "name"]]?.stringValue, !name.isEmpty else {
            throw KubectlError.message("error: resource name may not be empty")
        }
        let namespace = type.namespaced ? object[path: ["metadata", "namespace"]]?.stringValue ?? session.context.namespace : nil
        return (type, namespace, name)
    }

    /// `Error from server (AlreadyExists): error when creating "x.yaml": …` as kubectl words it.
    static func failure(_ response: KubeAPIClient.Response, verb: String, source: String) -> String {
        let status = response.json
        let reason = status["reason"]?.stringValue ?? ""
        let message = status["message"]?.stringValue ?? ""
        return "Error from server\(reason.isEmpty ? "" : " (\(reason))"): error when \(verb) \"\(source)\": \(message)"
    }

    /// What to send: the fields whose applied value differs from the cluster's (lists compared with
    /// the last applied ones, since the server fills defaults into their elements), and null for
    /// the fields the last apply set and this one no longer does.
    static func threeWay(original: OrderedJSON, modified: OrderedJSON, current: OrderedJSON) -> OrderedJSON {
        var patch: [(String, OrderedJSON)] = []
        for (key, value) in modified.objectValue ?? [] where key != "status" {
            let now = current[key]
            let before = original[key]
            switch value {
            case .object:
                let inner = threeWay(original: before ?? .object([]), modified: value, current: now ?? .object([]))
                if case .object(let fields) = inner, !fields.isEmpty || now == nil { patch.append((key, inner)) }
            case .array:
                if value != before || now == nil { patch.append((key, value)) }
            default:
                if now != value { patch.append((key, value)) }
            }
        }
        for (key, _) in original.objectValue ?? [] where modified[key] == nil && current[key] != nil {
            patch.append((key, .null))
        }
        return .object(patch)
    }
}
