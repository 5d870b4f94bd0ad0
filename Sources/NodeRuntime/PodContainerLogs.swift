import APIServer
import ContainerRuntime
import Foundation

/// `kubectl logs` from the runtime's container logs, as the kubelet serves them from the CRI
/// log files: the current container's, or with `--previous` the one it replaced.
public struct PodContainerLogs: PodLogSource {
    let containers: ContainerService

    public init(containers: ContainerService) {
        self.containers = containers
    }

    /// The runtime containers of one pod container, oldest first.
    public static func records(in containers: ContainerService, namespace: String, pod: String, container: String) -> [ContainerRecord] {
        containers.list()
            .filter {
                let labels = $0.config.labels
                return labels[OnekubePodRuntime.podNamespaceLabel] == namespace && labels[OnekubePodRuntime.podNameLabel] == pod
                    && labels[OnekubePodRuntime.containerNameLabel] == container
            }
            .sorted { $0.created < $1.created }
    }

    public func logs(namespace: String, pod: String, container: String, options: PodLogOptions) throws -> AsyncStream<[UInt8]> {
        let records = Self.records(in: containers, namespace: namespace, pod: pod, container: container)
        let chosen = options.previous ? records.dropLast().last : records.last
        guard let record = chosen else {
            if options.previous {
                throw PodLogError.badRequest("previous terminated container \"\(container)\" in pod \"\(pod)\" not found")
            }
            throw PodLogError.badRequest("container \"\(container)\" in pod \"\(pod)\" is waiting to start: ContainerCreating")
        }
        let follow = options.follow && !options.previous
        let (_, past, live) = try containers.logs(record.id, follow: follow)
        var entries = past
        if let cutoff = options.sinceSeconds.map({ Date().timeIntervalSince1970 - Double($0) }) ?? options.sinceTime {
            entries = entries.filter { $0.time.secondsDouble >= cutoff }
        }
        if let lines = options.tailLines { entries = ContainerLog.tail(entries, lines: lines) }
        let timestamps = options.timestamps
        let limit = options.limitBytes ?? Int.max
        let selected = entries
        return AsyncStream { continuation in
            let task = Task {
                var budget = limit
                func send(_ bytes: [UInt8], time: Timestamp) -> Bool {
                    let line = timestamps ? Array("\(time.rfc3339Nano) ".utf8) + bytes : bytes
                    guard budget > 0 else { return false }
                    continuation.yield(Array(line.prefix(budget)))
                    budget -= line.count
                    return budget > 0
                }
                var open = true
                for entry in selected where open { open = send(entry.bytes, time: entry.time) }
                if open, let live {
                    for await chunk in live {
                        guard send(chunk.bytes, time: chunk.time) else { break }
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}
