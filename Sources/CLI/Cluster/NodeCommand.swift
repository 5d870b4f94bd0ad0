import ArgumentParser
import Foundation
import NodeAgent
import Platform

/// `onekube node list|add|stop|start|delete`, minikube's multi-node commands, done through the
/// Kubernetes API: a stopped node carries an annotation that makes its agent stop, as a machine
/// that died.
struct NodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "node", abstract: "Add, stop, start or delete the cluster's nodes.",
        subcommands: [NodeList.self, NodeAdd.self, NodeStop.self, NodeStart.self, NodeDelete.self])
}

/// Runs a node command, printing failures as one line.
func nodeRun(_ body: (ClusterClient) throws -> Void, data: DataDirectoryOption) throws {
    do {
        try body(try ClusterClient(configuration: data.configuration))
    } catch let error as OnekubeError {
        Console.err("\(error)\n")
        throw ExitCode(1)
    }
}

struct NodeList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the nodes and their addresses.")
    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        try nodeRun({ client in
            let (status, body) = try client.send("GET", "/api/v1/nodes")
            guard status == 200 else { throw OnekubeError(.internalError, ClusterClient.message(body)) }
            for node in body["items"]?.arrayValue ?? [] {
                let name = node[path: ["metadata", "name"]]?.stringValue ?? ""
                let address = (node[path: ["status", "addresses"]]?.arrayValue ?? [])
                    .first { $0["type"]?.stringValue == "InternalIP" }?["address"]?.stringValue ?? ""
                let stopped = node[path: ["metadata", "annotations", NodeRegistration.stoppedAnnotation]]?.stringValue == "true"
                Console.out("\(name)\t\(address)\(stopped ? "\tStopped" : "")\n")
            }
        }, data: data)
    }
}

struct NodeAdd: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "add", abstract: "Add a node (onekube-m02, onekube-m03, …).")
    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        try nodeRun({ client in
            let (_, list) = try client.send("GET", "/api/v1/nodes")
            let existing = Set((list["items"]?.arrayValue ?? []).compactMap { $0[path: ["metadata", "name"]]?.stringValue })
            let name = (1..<100).map(NodeFleet.nodeName).first { !existing.contains($0) } ?? "onekube-m99"
            let node: OrderedJSON = .object([
                ("apiVersion", .string("v1")), ("kind", .string("Node")),
                ("metadata", .object([("name", .string(name)), ("labels", .stringMap([NodeRegistration.managedLabel: "true"]))])),
            ])
            let (status, body) = try client.send("POST", "/api/v1/nodes", body: node)
            guard status == 201 else { throw OnekubeError(.internalError, ClusterClient.message(body)) }
            Console.out("Adding node \(name) to cluster onekube\n")
        }, data: data)
    }
}

/// Sets or clears the stopped annotation.
func setNodeStopped(_ name: String, stopped: Bool, data: DataDirectoryOption) throws {
    try nodeRun({ client in
        let patch: OrderedJSON = .object([("metadata", .object([("annotations", .object([
            (NodeRegistration.stoppedAnnotation, stopped ? .string("true") : .null),
        ]))]))])
        let (status, body) = try client.send("PATCH", "/api/v1/nodes/\(name)", body: patch, contentType: "application/merge-patch+json")
        guard status == 200 else { throw OnekubeError(.notFound, ClusterClient.message(body)) }
        Console.out(stopped ? "Successfully stopped node \(name)\n" : "Successfully started node \(name)\n")
    }, data: data)
}

struct NodeStop: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "stop", abstract: "Stop a node as if its machine died.")
    @OptionGroup var data: DataDirectoryOption
    @Argument var name: String
    func run() throws { try setNodeStopped(name, stopped: true, data: data) }
}

struct NodeStart: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "start", abstract: "Start a stopped node again.")
    @OptionGroup var data: DataDirectoryOption
    @Argument var name: String
    func run() throws { try setNodeStopped(name, stopped: false, data: data) }
}

struct NodeDelete: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "delete", abstract: "Delete a node.")
    @OptionGroup var data: DataDirectoryOption
    @Argument var name: String

    func run() throws {
        try nodeRun({ client in
            let (status, body) = try client.send("DELETE", "/api/v1/nodes/\(name)")
            guard status == 200 else { throw OnekubeError(.notFound, ClusterClient.message(body)) }
            Console.out("Deleted node \(name) from cluster onekube\n")
        }, data: data)
    }
}
