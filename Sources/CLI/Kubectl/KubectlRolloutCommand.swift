import ArgumentParser
import Foundation
import Platform

/// `kubectl rollout status|history|undo|restart deployment/NAME`, done client-side as kubectl does.
struct KubectlRolloutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rollout", abstract: "Manage the rollout of a deployment.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "status|history|undo|restart, then TYPE NAME or TYPE/NAME") var arguments: [String]
    @Option(help: "The revision to roll back to (undo; 0 is the previous one).") var toRevision: Int = 0
    @Option(help: "How long status waits, e.g. 30s (0 waits forever).") var timeout: String = "0s"

    static let revisionAnnotation = "deployment.kubernetes.io/revision"

    func run() async throws {
        try await KubectlCommand.report {
            guard let action = arguments.first, ["status", "history", "undo", "restart"].contains(action) else {
                throw KubectlError.message("error: unknown command \"rollout \(arguments.first ?? "")\": use status, history, undo or restart")
            }
            let session = try global.session()
            let requests = try KubectlTargets.parse(Array(arguments.dropFirst()), discovery: session.discovery)
            guard let request = requests.first, let name = request.names.first else {
                throw KubectlError.message("error: required resource not specified")
            }
            guard request.type.kind == "Deployment" else {
                throw KubectlError.message("error: no \(action) viewer has been implemented for \"\(request.type.kind)\" in onekube kubectl")
            }
            let path = request.type.objectPath(namespace: session.context.namespace, name: name)
            switch action {
            case "status": try await status(session, path: path)
            case "history": try history(session, deployment: try session.client.expect("GET", path), name: name)
            case "undo": try undo(session, path: path, name: name)
            default:
                let now = ISO8601DateFormatter().string(from: Date())
                let patch = OrderedJSON.object([("spec", .object([("template", .object([("metadata", .object([
                    ("annotations", .object([("kubectl.kubernetes.io/restartedAt", .string(now))])),
                ]))]))]))])
                _ = try session.client.expect("PATCH", path, body: patch, contentType: "application/strategic-merge-patch+json")
                Console.out("deployment.apps/\(name) restarted\n")
            }
        }
    }

    /// Prints kubectl's progress lines as they change, until the rollout is complete.
    func status(_ session: KubectlGlobalOptions.Session, path: String) async throws {
        let seconds = Double(timeout.trimmingCharacters(in: CharacterSet(charactersIn: "s"))) ?? 0
        let deadline = seconds > 0 ? Date().addingTimeInterval(seconds) : nil
        var last = ""
        while true {
            let deployment = try session.client.expect("GET", path)
            let (message, done) = try Self.progress(deployment)
            if message != last { Console.out(message) }
            last = message
            if done { return }
            if let deadline, Date() > deadline { throw KubectlError.message("error: timed out waiting for the condition") }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// kubectl's DeploymentStatusViewer.
    static func progress(_ deployment: OrderedJSON) throws -> (String, Bool) {
        let name = deployment[path: ["metadata", "name"]]?.stringValue ?? ""
        let generation = deployment[path: ["metadata", "generation"]]?.intValue ?? 0
        let status = deployment["status"] ?? .object([])
        guard generation <= status["observedGeneration"]?.intValue ?? 0 else {
            return ("Waiting for deployment spec update to be observed...\n", false)
        }
        let progressing = (status["conditions"]?.arrayValue ?? []).first { $0["type"]?.stringValue == "Progressing" }
        if progressing?["reason"]?.stringValue == "ProgressDeadlineExceeded" {
            throw KubectlError.message("error: deployment \"\(name)\" exceeded its progress deadline")
        }
        let desired = deployment[path: ["spec", "replicas"]]?.intValue ?? 1
        let updated = status["updatedReplicas"]?.intValue ?? 0
        let replicas = status["replicas"]?.intValue ?? 0
        let available = status["availableReplicas"]?.intValue ?? 0
        if updated < desired {
            return ("Waiting for deployment \"\(name)\" rollout to finish: \(updated) out of \(desired) new replicas have been updated...\n", false)
        }
        if replicas > updated {
            return ("Waiting for deployment \"\(name)\" rollout to finish: \(replicas - updated) old replicas are pending termination...\n", false)
        }
        if available < updated {
            return ("Waiting for deployment \"\(name)\" rollout to finish: \(available) of \(updated) updated replicas are available...\n", false)
        }
        return ("deployment \"\(name)\" successfully rolled out\n", true)
    }

    /// The deployment's ReplicaSets by revision.
    func replicaSets(_ session: KubectlGlobalOptions.Session, deployment: OrderedJSON) throws -> [(Int64, OrderedJSON)] {
        let uid = deployment[path: ["metadata", "uid"]]?.stringValue
        let list = try session.client.expect("GET", "/apis/apps/v1/namespaces/\(session.context.namespace)/replicasets")
        return (list["items"]?.arrayValue ?? []).compactMap { set in
            guard (set[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).contains(where: { $0["uid"]?.stringValue == uid }),
                  let revision = set[path: ["metadata", "annotations"]]?.stringMap?[Self.revisionAnnotation].flatMap({ Int64($0) }) else { return nil }
            return (revision, set)
        }.sorted { $0.0 < $1.0 }
    }

    func history(_ session: KubectlGlobalOptions.Session, deployment: OrderedJSON, name: String) throws {
        var writer = TableWriter(minWidth: 0, padding: 2)
        writer.add(["REVISION", "CHANGE-CAUSE"])
        for (revision, set) in try replicaSets(session, deployment: deployment) {
            writer.add([String(revision), set[path: ["metadata", "annotations"]]?.stringMap?["kubernetes.io/change-cause"] ?? "<none>"])
        }
        Console.out("deployment.apps/\(name) \n" + writer.render() + "\n")
    }

    /// Puts the template of the wanted revision's ReplicaSet back into the deployment.
    func undo(_ session: KubectlGlobalOptions.Session, path: String, name: String) throws {
        let deployment = try session.client.expect("GET", path)
        let sets = try replicaSets(session, deployment: deployment)
        let current = deployment[path: ["metadata", "annotations"]]?.stringMap?[Self.revisionAnnotation].flatMap { Int64($0) } ?? 0
        let target: OrderedJSON?
        if toRevision > 0 {
            target = sets.first { $0.0 == Int64(toRevision) }?.1
            guard target != nil else { throw KubectlError.message("error: unable to find specified revision \(toRevision) in history") }
        } else {
            target = sets.last { $0.0 < current }?.1
            guard target != nil else { throw KubectlError.message("error: no rollout history found for deployment \"\(name)\"") }
        }
        guard var template = target?[path: ["spec", "template"]] else { return }
        var labels = template[path: ["metadata", "labels"]]?.objectValue ?? []
        labels.removeAll { $0.0 == "pod-template-hash" }
        template[path: ["metadata", "labels"]] = .object(labels)
        if template == deployment[path: ["spec", "template"]] {
            Console.out("deployment.apps/\(name) skipped rollback (current template already matches revision \(toRevision))\n")
            return
        }
        let patch = OrderedJSON.object([("spec", .object([("template", template)]))])
        _ = try session.client.expect("PATCH", path, body: patch, contentType: "application/merge-patch+json")
        Console.out("deployment.apps/\(name) rolled back\n")
    }
}
