import ArgumentParser
import Foundation
import Platform

/// `kubectl describe pods [NAME…]` (other kinds: the real kubectl, for now).
struct KubectlDescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show details of a specific resource or group of resources.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "TYPE [NAME...] or TYPE/NAME") var target: [String]
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Label selector.") var selector: String?

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session()
            let namespace = session.context.namespace
            var descriptions: [String] = []
            for request in try KubectlTargets.parse(target, discovery: session.discovery) {
                guard request.type.kind == "Pod" else {
                    throw KubectlError.message("error: onekube kubectl describes pods so far; for \(request.type.qualifiedName) use kubectl")
                }
                var pods: [OrderedJSON]
                if request.names.isEmpty {
                    let query = selector.map { "?labelSelector=" + KubectlTargets.escape($0) } ?? ""
                    pods = try session.client.expect("GET", request.type.collectionPath(namespace: namespace) + query)["items"]?.arrayValue ?? []
                } else {
                    pods = try request.names.map { try session.client.expect("GET", request.type.objectPath(namespace: namespace, name: $0)) }
                }
                for pod in pods {
                    let name = pod[path: ["metadata", "name"]]?.stringValue ?? ""
                    let uid = pod[path: ["metadata", "uid"]]?.stringValue ?? ""
                    let fields = "involvedObject.name=\(name),involvedObject.namespace=\(namespace),involvedObject.kind=Pod,involvedObject.uid=\(uid)"
                    let events = try session.client.expect("GET", "/api/v1/namespaces/\(namespace)/events?fieldSelector=" + KubectlTargets.escape(fields))
                    descriptions.append(KubectlDescribePod(pod: pod, events: events["items"]?.arrayValue ?? []).render())
                }
            }
            Console.out(descriptions.joined(separator: "\n\n"))
        }
    }
}
