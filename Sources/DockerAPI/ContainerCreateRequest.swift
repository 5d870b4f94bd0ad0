import ContainerRuntime
import Images
import Platform

/// `POST /containers/create`: the body's fields onekube honours, merged with the image's
/// configuration the way moby merges them.
struct ContainerCreateRequest {
    var body: OrderedJSON

    var hostConfig: OrderedJSON { body["HostConfig"] ?? .object([]) }

    static func strings(_ value: OrderedJSON?) -> [String]? {
        guard let array = value?.arrayValue else { return nil }
        return array.compactMap(\.stringValue)
    }

    static func keys(_ value: OrderedJSON?) -> [String] {
        guard case .object(let pairs)? = value else { return [] }
        return pairs.map(\.0)
    }

    /// What the image says a container should run.
    struct ImageDefaults: Equatable {
        var entrypoint: [String]?
        var cmd: [String]?
        var env: [String] = []
        var workingDir: String = ""
        var user: String = ""
        var exposedPorts: [String] = []
        var stopSignal: String?
        var labels: [String: String] = [:]

        init(entrypoint: [String]? = nil, cmd: [String]? = nil, env: [String] = [], workingDir: String = "", user: String = "",
             exposedPorts: [String] = [], stopSignal: String? = nil, labels: [String: String] = [:]) {
            self.entrypoint = entrypoint
            self.cmd = cmd
            self.env = env
            self.workingDir = workingDir
            self.user = user
            self.exposedPorts = exposedPorts
            self.stopSignal = stopSignal
            self.labels = labels
        }

        init(_ config: ImageConfig.ContainerConfig?) {
            self.init(entrypoint: config?.Entrypoint, cmd: config?.Cmd, env: config?.Env ?? [], workingDir: config?.WorkingDir ?? "",
                      user: config?.User ?? "", exposedPorts: (config?.ExposedPorts ?? [:]).keys.sorted(),
                      stopSignal: config?.StopSignal, labels: config?.Labels ?? [:])
        }
    }

    /// moby's merge: with no Entrypoint in the request, the image's Entrypoint is used, and the
    /// image's Cmd too unless the request has one; a request Entrypoint drops the image's Cmd;
    /// `[""]` (`--entrypoint ""`) clears the entrypoint.
    static func command(entrypoint: [String]?, cmd: [String]?, image: ImageDefaults) -> (entrypoint: [String]?, cmd: [String]?) {
        var effectiveEntrypoint = entrypoint
        var effectiveCmd = cmd
        if effectiveEntrypoint?.isEmpty ?? true {
            if effectiveCmd?.isEmpty ?? true { effectiveCmd = image.cmd }
            if effectiveEntrypoint == nil { effectiveEntrypoint = image.entrypoint }
        }
        if effectiveEntrypoint == [""] || effectiveEntrypoint?.isEmpty == true { effectiveEntrypoint = nil }
        return (effectiveEntrypoint, effectiveCmd)
    }

    /// Later entries win for the same variable; order of first appearance is kept.
    static func mergeEnv(_ base: [String], _ overrides: [String]) -> [String] {
        var result = base
        for entry in overrides {
            let key = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            if let index = result.firstIndex(where: { ($0.split(separator: "=", maxSplits: 1).first.map(String.init) ?? $0) == key }) {
                result[index] = entry
            } else {
                result.append(entry)
            }
        }
        return result
    }

    /// `HostConfig.ExtraHosts`: `name:address` (IPv4, IPv6, or `host-gateway`), as the CLI's
    /// --add-host sends them.
    static func extraHosts(_ value: OrderedJSON?) throws -> [String] {
        try (value?.arrayValue ?? []).compactMap(\.stringValue).map { entry in
            guard let colon = entry.firstIndex(of: ":"), colon != entry.startIndex else {
                throw OnekubeError(.invalidArgument, "bad format for add-host: \"\(entry)\"")
            }
            var address = String(entry[entry.index(after: colon)...])
            if address.hasPrefix("[") && address.hasSuffix("]") && address.count > 2 { address = String(address.dropFirst().dropLast()) }
            guard address == "host-gateway" || IPAddressText.isValid(address) else {
                throw OnekubeError(.invalidArgument, "invalid IP address in add-host: \"\(address)\"")
            }
            return entry[..<colon] + ":" + address
        }
    }

    /// `HostConfig.Binds`: `/host/path:/container/path[:ro|rw[,…]]`. Named volumes are refused.
    static func binds(_ value: OrderedJSON?) throws -> [BindMount] {
        try (strings(value) ?? []).map { spec in
            let parts = spec.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2 || parts.count == 3, !parts[1].isEmpty else {
                throw OnekubeError(.invalidArgument, "invalid volume specification: '\(spec)'")
            }
            guard parts[0].hasPrefix("/") else {
                throw OnekubeError(.invalidArgument, "invalid volume specification: '\(spec)': onekube binds host paths only (-v /host/path:/container/path)")
            }
            guard parts[1].hasPrefix("/") else {
                throw OnekubeError(.invalidArgument, "invalid volume specification: '\(spec)': invalid mount config: the mount destination must be an absolute path")
            }
            let options = parts.count == 3 ? parts[2].split(separator: ",").map(String.init) : []
            return BindMount(source: parts[0], destination: parts[1], readOnly: options.contains("ro"))
        }
    }

    /// `{"8080/tcp":[{"HostIp":"","HostPort":"8080"}]}` → bindings (an empty HostPort: any free port).
    static func portBindings(_ value: OrderedJSON?) throws -> [PortBinding] {
        guard case .object(let pairs)? = value else { return [] }
        var bindings: [PortBinding] = []
        for (key, list) in pairs {
            let (port, proto) = try parsePortKey(key)
            for entry in list.arrayValue ?? [] {
                let hostPortText = entry["HostPort"]?.stringValue ?? ""
                guard let hostPort = hostPortText.isEmpty ? 0 : Int(hostPortText), (0...65535).contains(hostPort) else {
                    throw OnekubeError(.invalidArgument, "invalid port specification: \"\(hostPortText)\"")
                }
                bindings.append(PortBinding(hostIP: entry["HostIp"]?.stringValue ?? "", hostPort: hostPort, containerPort: port, proto: proto))
            }
        }
        return bindings
    }

    static func parsePortKey(_ key: String) throws -> (Int, String) {
        let parts = key.split(separator: "/", maxSplits: 1).map(String.init)
        guard let port = Int(parts.first ?? ""), (1...65535).contains(port) else {
            throw OnekubeError(.invalidArgument, "invalid port specification: \"\(key)\"")
        }
        return (port, parts.count > 1 ? parts[1].lowercased() : "tcp")
    }

    /// The container configuration for the runtime, and the `Config` object inspect shows.
    func configuration(imageName: String, image: ImageRecord, layerPaths: [String]) throws -> (ContainerConfiguration, OrderedJSON) {
        let defaults = ImageDefaults(image.config.config)
        let (entrypoint, cmd) = Self.command(entrypoint: Self.strings(body["Entrypoint"]), cmd: Self.strings(body["Cmd"]), image: defaults)
        let args = (entrypoint ?? []) + (cmd ?? [])
        guard !args.isEmpty else { throw OnekubeError(.invalidArgument, "no command specified") }
        let env = Self.mergeEnv(defaults.env, Self.strings(body["Env"]) ?? [])
        let workingDir = (body["WorkingDir"]?.stringValue).flatMap { $0.isEmpty ? nil : $0 } ?? (defaults.workingDir.isEmpty ? "/" : defaults.workingDir)
        let user = (body["User"]?.stringValue).flatMap { $0.isEmpty ? nil : $0 } ?? defaults.user
        var exposed = defaults.exposedPorts
        for key in Self.keys(body["ExposedPorts"]) where !exposed.contains(key) { exposed.append(key) }
        var labels = defaults.labels
        if case .object(let pairs)? = body["Labels"] {
            for (key, value) in pairs { labels[key] = value.stringValue ?? "" }
        }
        let host = hostConfig
        var bindings = try Self.portBindings(host["PortBindings"])
        if host["PublishAllPorts"]?.boolValue == true {
            for key in exposed {
                let (port, proto) = try Self.parsePortKey(key)
                if !bindings.contains(where: { $0.containerPort == port && $0.proto == proto }) {
                    bindings.append(PortBinding(hostPort: 0, containerPort: port, proto: proto))
                }
            }
        }
        for binding in bindings {
            let key = "\(binding.containerPort)/\(binding.proto)"
            if !exposed.contains(key) { exposed.append(key) }
        }
        func int(_ key: String) -> Int64? { host[key]?.intValue.flatMap { $0 == 0 ? nil : $0 } }
        var nanoCPUs = int("NanoCpus")
        if nanoCPUs == nil, let quota = int("CpuQuota"), quota > 0 {
            nanoCPUs = quota * 1_000_000_000 / (int("CpuPeriod") ?? ResourceLimits.cfsPeriod)
        }
        let resources = ResourceLimits(memoryBytes: int("Memory"), memorySwapBytes: int("MemorySwap"), nanoCPUs: nanoCPUs,
                                       cpuShares: int("CpuShares"), pidsLimit: int("PidsLimit").flatMap { $0 > 0 ? $0 : nil })
        let consoleSize = (host["ConsoleSize"]?.arrayValue ?? []).compactMap { $0.intValue.map(Int.init) }
        let tty = body["Tty"]?.boolValue ?? false
        let openStdin = body["OpenStdin"]?.boolValue ?? false
        let hostname = body["Hostname"]?.stringValue ?? ""
        let networkMode = host["NetworkMode"]?.stringValue ?? "default"
        let stopSignal = body["StopSignal"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 } ?? defaults.stopSignal
        if let stopSignal, Signals.parse(stopSignal) == nil { throw OnekubeError(.invalidArgument, "Invalid signal: \(stopSignal)") }

        let configuration = ContainerConfiguration(
            image: imageName, imageID: image.id.description, layers: layerPaths, args: args, env: env, workingDir: workingDir,
            user: user, hostname: hostname, labels: labels, tty: tty, openStdin: openStdin,
            stdinOnce: body["StdinOnce"]?.boolValue ?? false, consoleSize: consoleSize.count == 2 ? consoleSize : [0, 0],
            stopSignal: stopSignal, stopTimeout: body["StopTimeout"]?.intValue.map(Int.init), exposedPorts: exposed,
            portBindings: bindings, autoRemove: host["AutoRemove"]?.boolValue ?? false,
            networkDisabled: networkMode == "none" || body["NetworkDisabled"]?.boolValue == true,
            binds: try Self.binds(host["Binds"]), extraHosts: try Self.extraHosts(host["ExtraHosts"]), resources: resources)

        // What `docker inspect` shows as Config (the hostname is filled in once the ID exists).
        var config: [(String, OrderedJSON)] = [
            ("Hostname", .string(hostname)), ("Domainname", .string(body["Domainname"]?.stringValue ?? "")),
            ("User", .string(user)),
            ("AttachStdin", .bool(body["AttachStdin"]?.boolValue ?? false)),
            ("AttachStdout", .bool(body["AttachStdout"]?.boolValue ?? false)),
            ("AttachStderr", .bool(body["AttachStderr"]?.boolValue ?? false)),
        ]
        if !exposed.isEmpty { config.append(("ExposedPorts", .object(exposed.map { ($0, .object([])) }))) }
        config += [
            ("Tty", .bool(tty)), ("OpenStdin", .bool(openStdin)), ("StdinOnce", .bool(body["StdinOnce"]?.boolValue ?? false)),
            ("Env", .strings(env)), ("Cmd", .strings(cmd)), ("Image", .string(imageName)), ("Volumes", .null),
            ("WorkingDir", .string(body["WorkingDir"]?.stringValue ?? defaults.workingDir)), ("Entrypoint", .strings(entrypoint)),
            ("OnBuild", .null), ("Labels", .object(labels.keys.sorted().map { ($0, .string(labels[$0] ?? "")) })),
        ]
        if let stopSignal { config.append(("StopSignal", .string(stopSignal))) }
        return (configuration, .object(config))
    }
}
