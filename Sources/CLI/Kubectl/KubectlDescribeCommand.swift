import ArgumentParser
import Foundation
import Platform

/// `kubectl describe TYPE [NAME…]` for pods, replication controllers, replica sets, deployments, services, endpoints and namespaces.
struct KubectlDescribeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "describe", abstract: "Show details of a specific resource or group of resources.")

    @OptionGroup var global: KubectlGlobalOptions
    @Argument(help: "TYPE [NAME...] or TYPE/NAME") var target: [String] = []
    @Option(name: [.customShort("l"), .customLong("selector")], help: "Label selector.") var selector: String?

    func run() async throws {
        try await KubectlCommand.report {
            let session = try global.session()
            let namespace = session.context.namespace
            var descriptions: [String] = []
            for request in try KubectlTargets.parse(target, discovery: session.discovery) {
                let type = request.type
                guard ["Pod", "ReplicationController", "ReplicaSet", "Service", "Namespace", "Deployment", "Endpoints", "Node"].contains(type.kind) else {
                    throw KubectlError.message("error: onekube kubectl describes pods, replication controllers, replica sets, deployments, services, endpoints, nodes and namespaces so far; for \(type.qualifiedName) use kubectl")
                }
                let scope = type.namespaced ? namespace : nil
                var objects: [OrderedJSON]
                if request.names.isEmpty {
                    objects = try session.client.list(type, namespace: scope, labelSelector: selector)["items"]?.arrayValue ?? []
                } else {
                    objects = try request.names.map { try session.client.expect("GET", type.objectPath(namespace: scope, name: $0)) }
                }
                for object in objects {
                    var described = object
                    described["kind"] = .string(type.kind)
                    let name = object[path: ["metadata", "name"]]?.stringValue ?? ""
                    let uid = object[path: ["metadata", "uid"]]?.stringValue ?? ""
                    func events() throws -> [OrderedJSON] {
                        let fields = "involvedObject.name=\(name),involvedObject.namespace=\(namespace),involvedObject.kind=\(type.kind),involvedObject.uid=\(uid)"
                        return try session.client.expect("GET", "/api/v1/namespaces/\(namespace)/events?fieldSelector=" + KubectlTargets.escape(fields))["items"]?.arrayValue ?? []
                    }
                    switch type.kind {
                    case "Pod":
                        descriptions.append(KubectlDescribePod(pod: object, events: try events()).render())
                    case "Service":
                        let slices = try session.client.expect("GET", "/apis/discovery.k8s.io/v1/namespaces/\(namespace)/endpointslices?labelSelector="
                                                               + KubectlTargets.escape("kubernetes.io/service-name=\(name)"))["items"]?.arrayValue ?? []
                        descriptions.append(KubectlDescribeWorkloads.service(object, slices: slices, events: try events()))
                    case "Namespace":
                        descriptions.append(KubectlDescribeWorkloads.namespace(object))
                    case "Node":
                        let lease = try session.client.request("GET", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/\(name)")
                        let fields = "spec.nodeName=\(name),status.phase!=Failed,status.phase!=Succeeded"
                        let pods = try session.client.expect("GET", "/api/v1/pods?fieldSelector=" + KubectlTargets.escape(fields))["items"]?.arrayValue ?? []
                        // Controllers name a node's events by its uid, the kubelet by its name (kubectl asks for both).
                        var nodeEvents: [OrderedJSON] = []
                        for id in [uid, name] {
                            let selector = "involvedObject.name=\(name),involvedObject.namespace=,involvedObject.kind=Node,involvedObject.uid=\(id)"
                            nodeEvents += try session.client.expect("GET", "/api/v1/events?fieldSelector=" + KubectlTargets.escape(selector))["items"]?.arrayValue ?? []
                        }
                        descriptions.append(KubectlDescribeNode.render(object, lease: lease.status == 200 ? lease.json : nil, pods: pods, events: nodeEvents))
                    case "Endpoints":
                        descriptions.append(KubectlDescribeDeployment.endpoints(object, events: try events()))
                    case "Deployment":
                        let sets = try session.client.expect("GET", "/apis/apps/v1/namespaces/\(namespace)/replicasets")["items"]?.arrayValue ?? []
                        descriptions.append(KubectlDescribeDeployment.deployment(object, replicaSets: sets, events: try events()))
                    default:
                        let pods = try session.client.expect("GET", "/api/v1/namespaces/\(namespace)/pods")["items"]?.arrayValue ?? []
                        descriptions.append(KubectlDescribeWorkloads.controller(described, pods: pods, events: try events()))
                    }
                }
            }
            Console.out(descriptions.joined(separator: "\n\n"))
        }
    }
}
