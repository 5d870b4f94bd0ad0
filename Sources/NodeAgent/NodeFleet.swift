import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle
import Synchronization

/// The virtual nodes this daemon runs (`--nodes N`: onekube, onekube-m02, …, plus any that
/// `onekube node add` created through the API): one agent per node, stopped while its Node
/// carries the stopped annotation (`onekube node stop`, a machine that died) and gone with it.
public final class NodeFleet: Service {
    let registry: ObjectRegistry
    let initialNodes: Int
    let logger: Logger
    let heartbeat: Duration
    /// Runs the pods.
    let runtime: PodRuntime
    /// The nodes' address as pods see it (the bridge's), and where pods' volumes live.
    let hostIP: String
    let podsDirectory: String
    private let agents = Mutex<[String: Task<Void, Never>]>([:])
    static let nodes = ResourceCatalog.find(kind: "Node")

    public init(registry: ObjectRegistry, initialNodes: Int, logger: Logger, heartbeat: Duration = .seconds(10),
                runtime: PodRuntime, hostIP: String, podsDirectory: String) {
        self.registry = registry
        self.initialNodes = max(initialNodes, 1)
        self.logger = logger
        self.heartbeat = heartbeat
        self.runtime = runtime
        self.hostIP = hostIP
        self.podsDirectory = podsDirectory
    }

    /// minikube's names: onekube, onekube-m02, onekube-m03, …
    public static func nodeName(_ index: Int) -> String {
        index == 0 ? "onekube" : String(format: "onekube-m%02d", index + 1)
    }

    var store: ObjectStore { registry.store }

    public func run() async throws {
        guard let nodes = Self.nodes else { return }
        let changes = try store.watch(ObjectScope(resource: nodes.storageName), after: store.currentRevision)
        for index in 0..<initialNodes where registry.get(nodes, namespace: nil, name: Self.nodeName(index)) == nil {
            try agent(for: Self.nodeName(index)).register()
        }
        for node in store.list(ObjectScope(resource: nodes.storageName)).items { reconcile(node.value, exists: true) }
        await cancelWhenGracefulShutdown {
            for await event in changes { self.reconcile(event.object, exists: event.kind != .deleted) }
        }
        // Each agent stops its pods' containers before the daemon goes.
        let tasks = agents.withLock { Array($0.values) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    func agent(for name: String) -> NodeRegistration {
        let names = store.list(ObjectScope(resource: "nodes")).items.map(\.key.name)
        let index = (0..<256).first { Self.nodeName($0) == name } ?? names.filter { $0 != name }.count
        return NodeRegistration(registry: registry, nodeName: name, controlPlane: name == Self.nodeName(0),
                                podCIDR: "10.244.\(index % 256).0/24", internalIP: hostIP,
                                logger: logger, heartbeat: heartbeat)
    }

    /// Starts or stops the agent of one node to match its object.
    func reconcile(_ node: OrderedJSON, exists: Bool) {
        guard node.labels[NodeRegistration.managedLabel] == "true" || !exists else { return }
        let name = node.name
        let shouldRun = exists && node.annotations[NodeRegistration.stoppedAnnotation] != "true"
        let running = agents.withLock { $0[name] != nil }
        if shouldRun && !running {
            let registration = agent(for: name)
            let logger = self.logger
            let pods = PodManager(context: NodeContext(registry: registry, runtime: runtime, nodeName: name, hostIP: hostIP,
                                                       podsDirectory: podsDirectory, logger: logger.withNode(name)))
            let task = Task {
                do {
                    try registration.register()
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask { try await registration.heartbeatLoop() }
                        group.addTask { try await pods.run() }
                        try await group.next()
                        group.cancelAll()
                    }
                } catch {
                    if !Task.isCancelled { logger.warning("node agent stopped", metadata: ["node": "\(name)", "error": "\(error)"]) }
                }
            }
            agents.withLock { $0[name] = task }
            logger.info("node agent started", metadata: ["node": "\(name)"])
        } else if !shouldRun && running {
            agents.withLock { $0.removeValue(forKey: name) }?.cancel()
            logger.info("node agent stopped", metadata: ["node": "\(name)"])
        }
    }
}

extension Logger {
    func withNode(_ name: String) -> Logger {
        var copy = self
        copy[metadataKey: "node"] = "\(name)"
        return copy
    }
}
