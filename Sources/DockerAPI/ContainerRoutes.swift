import ContainerRuntime
import Foundation
import HTTPServer
import ImageBuilder
import Images
import NIOCore
import NIOHTTP1
import Platform

extension DockerAPI {
    /// `/containers/…` and `/exec/…`; nil when the path is not one of them.
    func routeContainers(_ request: HTTPServerRequest, path: String) async throws -> HTTPServerResponse? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        guard let first = parts.first else { return nil }
        if first == "exec", parts.count == 3 {
            return try await routeExec(request, id: parts[1], action: parts[2])
        }
        guard first == "containers" else { return nil }
        switch (request.method, parts.count) {
        case (.POST, 2) where parts[1] == "create": return try createContainer(request)
        case (.GET, 2) where parts[1] == "json": return try listContainers(request)
        case (.POST, 2) where parts[1] == "prune": return try await pruneContainers(request)
        case (.DELETE, 2): return try await removeContainer(parts[1], request)
        case (_, 3): break
        default: return nil
        }
        let id = parts[1]
        switch (request.method, parts[2]) {
        case (.GET, "json"): return try inspectContainer(id)
        case (.POST, "start"): return try await startContainer(id)
        case (.POST, "stop"): return try await stopContainer(id, request)
        case (.POST, "restart"): return try await restartContainer(id, request)
        case (.POST, "kill"):
            try containers.kill(id, signal: request.query["signal"])
            return DockerResponse.empty(.noContent)
        case (.POST, "wait"): return try waitContainer(id, request)
        case (.POST, "attach"): return try attachContainer(id, request)
        case (.GET, "logs"): return try containerLogs(id, request)
        case (.POST, "resize"):
            try containers.resize(id, rows: Int(request.query["h"] ?? "") ?? 0, columns: Int(request.query["w"] ?? "") ?? 0)
            return DockerResponse.empty(.ok)
        case (.POST, "exec"): return try createExec(id, request)
        case (.POST, "rename"):
            try containers.rename(id, to: request.query["name"] ?? "")
            return DockerResponse.empty(.noContent)
        case (.GET, "top"): return try top(id)
        case (.GET, "stats"): return try stats(id)
        default: return nil
        }
    }

    var networkID: String { String(SHA256Hasher.hex("onekube-bridge-" + containers.configuration.bridge)) }

    // MARK: create, list, inspect, remove

    func createContainer(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let body = try OrderedJSON(parsing: request.bodyBytes.isEmpty ? Array("{}".utf8) : request.bodyBytes)
        guard let imageName = body["Image"]?.stringValue, !imageName.isEmpty else {
            throw OnekubeError(.invalidArgument, "config cannot be empty in order to create a container")
        }
        let image: ImageRecord
        do {
            image = try images.resolve(imageName).image
        } catch let error as OnekubeError where error.code == .notFound {
            // Docker names the image with its tag here, and `docker run` pulls on this 404.
            let familiar = (try? ImageReference.parseNormalized(imageName)).map { ref in
                (ref.tag == nil && ref.digest == nil ? ref.withTag(ImageReference.defaultTag) : ref).familiarString
            } ?? imageName
            throw OnekubeError(.notFound, "No such image: \(familiar)")
        }
        let createRequest = ContainerCreateRequest(body: body)
        var (configuration, configJSON) = try createRequest.configuration(
            imageName: imageName, image: image, layerPaths: image.layers.map { images.layers.path($0.chainID) })
        configuration.annotations[ContainerJSON.configKey] = configJSON.serialized()
        configuration.annotations[ContainerJSON.hostConfigKey] = createRequest.hostConfig.serialized()
        let name = request.query["name"].flatMap { $0.isEmpty ? nil : $0 }
        let record = try containers.create(name: name.map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }, configuration: configuration)
        return DockerResponse.json(.object([("Id", .string(record.id)), ("Warnings", .array([]))]), status: .created)
    }

    func listContainers(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let filters = try ContainerFilters(request.query["filters"])
        var records = containers.list()
        let all = request.query.bool("all")
        let limit = Int(request.query["limit"] ?? "") ?? -1
        if !all && limit <= 0 && filters.status.isEmpty { records = records.filter(\.state.isRunning) }
        records = records.filter(filters.matches)
        if limit > 0 { records = Array(records.prefix(limit)) }
        let networkID = self.networkID
        return DockerResponse.json(.array(records.map { ContainerJSON.summary($0, networkID: networkID) }))
    }

    /// `POST /containers/prune`: every container that is not running (created or exited), as
    /// dockerd prunes them, with the size of the writable layers reclaimed. Pods' containers are
    /// left to their node agents, as a kubelet's are left to its garbage collection.
    func pruneContainers(_ request: HTTPServerRequest) async throws -> HTTPServerResponse {
        let filters = try ContainerFilters(request.query["filters"], allowed: ["label"])
        var deleted: [String] = []
        var reclaimed: Int64 = 0
        for record in containers.list() where !record.state.isRunning && record.state.status != .removing && filters.matches(record)
            && !record.config.isPodContainer {
            let written = Self.diskUsage(containers.configuration.containersDirectory + "/" + record.id + "/upper")
            do {
                try await containers.remove(record.id, force: false)
                deleted.append(record.id)
                reclaimed += written
            } catch {
                logger.info("prune could not remove a container", metadata: ["id": "\(record.id)", "error": "\(error)"])
            }
        }
        return DockerResponse.json(.object([("ContainersDeleted", deleted.isEmpty ? .null : .strings(deleted)), ("SpaceReclaimed", .int(reclaimed))]))
    }

    /// The bytes of the regular files under `directory` (0 when it is gone).
    static func diskUsage(_ directory: String) -> Int64 {
        var total: Int64 = 0
        try? DirectoryWalker.walk(directory) { _, _, st in
            if st.st_mode & S_IFMT == S_IFREG { total += Int64(st.st_size) }
            return true
        }
        return total
    }

    func inspectContainer(_ id: String) throws -> HTTPServerResponse {
        let record = try containers.inspect(id)
        let directory = containers.configuration.containersDirectory + "/" + record.id
        return DockerResponse.json(ContainerJSON.inspect(record, directory: directory, networkID: networkID))
    }

    func removeContainer(_ id: String, _ request: HTTPServerRequest) async throws -> HTTPServerResponse {
        try await containers.remove(id, force: request.query.bool("force"))
        return DockerResponse.empty(.noContent)
    }

    // MARK: start, stop, restart, wait

    func startContainer(_ id: String) async throws -> HTTPServerResponse {
        do {
            return try await containers.start(id) ? DockerResponse.empty(.noContent) : DockerResponse.empty(.notModified)
        } catch let failure as ContainerStartFailure {
            return DockerResponse.error(.badRequest, failure.description)
        }
    }

    func stopContainer(_ id: String, _ request: HTTPServerRequest) async throws -> HTTPServerResponse {
        let stopped = try await containers.stop(id, timeout: request.query["t"].flatMap { Int($0) }, signal: request.query["signal"])
        return DockerResponse.empty(stopped ? .noContent : .notModified)
    }

    func restartContainer(_ id: String, _ request: HTTPServerRequest) async throws -> HTTPServerResponse {
        do {
            try await containers.restart(id, timeout: request.query["t"].flatMap { Int($0) }, signal: request.query["signal"])
        } catch let failure as ContainerStartFailure {
            return DockerResponse.error(.badRequest, failure.description)
        }
        return DockerResponse.empty(.noContent)
    }

    /// The status line and headers go out at once (the CLI sends `start` only after them); the
    /// body when the condition holds.
    func waitContainer(_ id: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let conditionText = request.query["condition"] ?? "not-running"
        guard let condition = WaitCondition(rawValue: conditionText.isEmpty ? "not-running" : conditionText) else {
            throw OnekubeError(.invalidArgument, "invalid condition: \"\(conditionText)\"")
        }
        let record = try containers.inspect(id)
        let containers = self.containers
        return DockerResponse.stream { out in
            let code = (try? await containers.wait(record.id, condition: condition)) ?? record.state.exitCode
            try await out.send(.object([("StatusCode", .int(Int(code)))]))
        }
    }

    // MARK: top and stats

    func top(_ id: String) throws -> HTTPServerResponse {
        let pids = Set(try containers.processes(id))
        let table = ProcessTable.read()
        let rows = table.filter { pids.contains($0.pid) }
        return DockerResponse.json(.object([
            ("Titles", .strings(ProcessTable.titles)),
            ("Processes", .array(rows.map { .strings($0.columns) })),
        ]))
    }

    func stats(_ id: String) throws -> HTTPServerResponse {
        let record = try containers.inspect(id)
        let stats = try containers.stats(id)
        let now = Timestamp.now()
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let systemUsage = ProcessTable.systemCPUNanoseconds()
        let cpu: OrderedJSON = .object([
            ("cpu_usage", .object([("total_usage", .int(stats.cpuUsageNanoseconds)), ("usage_in_kernelmode", .int(0)),
                                   ("usage_in_usermode", .int(0))])),
            ("system_cpu_usage", .int(systemUsage)), ("online_cpus", .int(cpus)),
            ("throttling_data", .object([("periods", .int(0)), ("throttled_periods", .int(0)), ("throttled_time", .int(0))])),
        ])
        let empty: OrderedJSON = .object([
            ("cpu_usage", .object([("total_usage", .int(0)), ("usage_in_kernelmode", .int(0)), ("usage_in_usermode", .int(0))])),
            ("throttling_data", .object([("periods", .int(0)), ("throttled_periods", .int(0)), ("throttled_time", .int(0))])),
        ])
        let limit = stats.memoryLimit > 0 && stats.memoryLimit < Int64(ProcessInfo.processInfo.physicalMemory)
            ? stats.memoryLimit : Int64(ProcessInfo.processInfo.physicalMemory)
        return DockerResponse.json(.object([
            ("name", .string("/" + record.name)), ("id", .string(record.id)),
            ("read", .string(now.rfc3339Nano)), ("preread", .string(Timestamp.zeroString)),
            ("pids_stats", .object([("current", .int(stats.pids))])),
            ("blkio_stats", .object([("io_service_bytes_recursive", .null)])),
            ("num_procs", .int(0)), ("storage_stats", .object([])),
            ("cpu_stats", cpu), ("precpu_stats", empty),
            ("memory_stats", record.state.isRunning ? .object([("usage", .int(stats.memoryUsage)), ("limit", .int(limit))]) : .object([])),
        ]))
    }
}

/// `filters={"status":{"running":true},"name":{"kubia":true},"label":{"a=b":true}}` for containers.
struct ContainerFilters {
    var status: [String] = []
    var names: [String] = []
    var labels: [String] = []
    var ids: [String] = []

    /// `allowed`: the filter names the endpoint takes (prune takes only labels here).
    init(_ text: String?, allowed: Set<String> = ["status", "name", "label", "id"]) throws {
        guard let text, !text.isEmpty else { return }
        guard let json = try? OrderedJSON(parsing: Array(text.utf8)), case .object(let pairs) = json else {
            throw OnekubeError(.invalidArgument, "invalid filter: \(text)")
        }
        for (key, value) in pairs {
            guard allowed.contains(key) else { throw OnekubeError(.invalidArgument, "invalid filter '\(key)'") }
            let values: [String]
            switch value {
            case .object(let set): values = set.map(\.0)
            case .array(let list): values = list.compactMap(\.stringValue)
            default: values = []
            }
            switch key {
            case "status":
                let known = ["created", "restarting", "running", "removing", "paused", "exited", "dead"]
                if let bad = values.first(where: { !known.contains($0) }) {
                    throw OnekubeError(.invalidArgument, "invalid filter 'status=\(bad)'")
                }
                status = values
            case "name": names = values
            case "label": labels = values
            case "id": ids = values
            default: throw OnekubeError(.invalidArgument, "invalid filter '\(key)'")
            }
        }
    }

    func matches(_ record: ContainerRecord) -> Bool {
        if !status.isEmpty && !status.contains(record.state.status.rawValue) { return false }
        if !ids.isEmpty && !ids.contains(where: { record.id.hasPrefix($0) }) { return false }
        if !names.isEmpty && !names.contains(where: { pattern in
            // moby matches names as regular expressions against "/name".
            if let regex = try? Regex(pattern) { return ("/" + record.name).contains(regex) }
            return record.name.contains(pattern)
        }) { return false }
        for label in labels {
            let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
            guard let value = record.config.labels[parts[0]] else { return false }
            if parts.count == 2 && value != parts[1] { return false }
        }
        return true
    }
}
