import ContainerRuntime
import Foundation
import Platform

/// The container JSON shapes of the Engine API (inspect and list), built from runtime records.
enum ContainerJSON {
    static let hostConfigKey = "docker.hostConfig"
    static let configKey = "docker.config"

    static func time(_ timestamp: Timestamp?) -> OrderedJSON {
        .string(timestamp?.rfc3339Nano ?? Timestamp.zeroString)
    }

    /// moby's `Command` column: the path, then the arguments, single-quoted when they hold a space.
    static func command(_ args: [String]) -> String {
        args.enumerated().map { index, arg in
            index > 0 && arg.contains(" ") ? "'\(arg)'" : arg
        }.joined(separator: " ")
    }

    /// The STATUS column, as moby words it.
    static func status(_ record: ContainerRecord, now: Double = Timestamp.now().secondsDouble) -> String {
        let state = record.state
        switch state.status {
        case .created: return "Created"
        case .running:
            return "Up " + HumanDuration.describe(seconds: now - (state.startedAt?.secondsDouble ?? now))
        case .exited:
            let since = now - (state.finishedAt?.secondsDouble ?? now)
            return "Exited (\(state.exitCode)) \(HumanDuration.describe(seconds: since)) ago"
        case .removing: return "Removal In Progress"
        case .dead: return "Dead"
        }
    }

    static func stored(_ record: ContainerRecord, _ key: String) -> OrderedJSON? {
        record.config.annotations[key].flatMap { try? OrderedJSON(parsing: Array($0.utf8)) }
    }

    static func replacing(_ object: OrderedJSON, _ key: String, with value: OrderedJSON) -> OrderedJSON {
        guard case .object(var pairs) = object else { return object }
        if let index = pairs.firstIndex(where: { $0.0 == key }) { pairs[index].1 = value } else { pairs.append((key, value)) }
        return .object(pairs)
    }

    static func networkSettings(_ record: ContainerRecord, networkID: String) -> OrderedJSON {
        let state = record.state
        let ip = state.ipAddress ?? ""
        let gateway = state.gateway ?? ""
        let prefix = state.prefixLength ?? 0
        var ports: [(String, OrderedJSON)] = []
        if state.isRunning {
            for exposed in record.config.exposedPorts {
                let bound = state.publishedPorts.filter { "\($0.containerPort)/\($0.proto)" == exposed }
                ports.append((exposed, bound.isEmpty ? .null : .array(bound.map {
                    .object([("HostIp", .string($0.hostIP.isEmpty ? "0.0.0.0" : $0.hostIP)), ("HostPort", .string("\($0.hostPort)"))])
                })))
            }
        }
        let endpoint: OrderedJSON = .object([
            ("IPAMConfig", .null), ("Links", .null), ("Aliases", .null), ("MacAddress", .string("")), ("DriverOpts", .null),
            ("GwPriority", .int(0)), ("NetworkID", .string(networkID)), ("EndpointID", .string(state.isRunning ? record.id : "")),
            ("Gateway", .string(gateway)), ("IPAddress", .string(ip)), ("IPPrefixLen", .int(prefix)),
            ("IPv6Gateway", .string("")), ("GlobalIPv6Address", .string("")), ("GlobalIPv6PrefixLen", .int(0)), ("DNSNames", .null),
        ])
        return .object([
            ("Bridge", .string("")), ("SandboxID", .string(state.isRunning ? record.id : "")),
            ("SandboxKey", .string(state.isRunning ? "/proc/\(state.pid)/ns/net" : "")),
            ("Ports", .object(ports)), ("HairpinMode", .bool(false)), ("LinkLocalIPv6Address", .string("")),
            ("LinkLocalIPv6PrefixLen", .int(0)), ("SecondaryIPAddresses", .null), ("SecondaryIPv6Addresses", .null),
            ("EndpointID", .string(state.isRunning ? record.id : "")), ("Gateway", .string(gateway)),
            ("GlobalIPv6Address", .string("")), ("GlobalIPv6PrefixLen", .int(0)), ("IPAddress", .string(ip)),
            ("IPPrefixLen", .int(prefix)), ("IPv6Gateway", .string("")), ("MacAddress", .string("")),
            ("Networks", .object(record.config.networkDisabled ? [] : [("bridge", endpoint)])),
        ])
    }

    static func mounts(_ record: ContainerRecord) -> OrderedJSON {
        .array((record.config.binds ?? []).map { bind in
            .object([
                ("Type", .string("bind")), ("Source", .string(bind.source)), ("Destination", .string(bind.destination)),
                ("Mode", .string(bind.readOnly ? "ro" : "")), ("RW", .bool(!bind.readOnly)), ("Propagation", .string("rprivate")),
            ])
        })
    }

    /// `GET /containers/{id}/json`.
    static func inspect(_ record: ContainerRecord, directory: String, networkID: String) -> OrderedJSON {
        let state = record.state
        let config = replacing(stored(record, configKey) ?? .object([]), "Hostname", with: .string(record.config.hostname))
        var hostConfig = stored(record, hostConfigKey) ?? .object([])
        if hostConfig["NetworkMode"]?.stringValue == "default" || hostConfig["NetworkMode"] == nil {
            hostConfig = replacing(hostConfig, "NetworkMode", with: .string("bridge"))
        }
        hostConfig = replacing(hostConfig, "LogConfig", with: .object([("Type", .string("json-file")), ("Config", .object([]))]))
        hostConfig = replacing(hostConfig, "MaskedPaths", with: .strings(ProcPaths.masked))
        hostConfig = replacing(hostConfig, "ReadonlyPaths", with: .strings(ProcPaths.readOnly))
        let status = state.status == .removing ? "removing" : state.status.rawValue
        return .object([
            ("Id", .string(record.id)), ("Created", time(record.created)),
            ("Path", .string(record.config.args.first ?? "")), ("Args", .strings(Array(record.config.args.dropFirst()))),
            ("State", .object([
                ("Status", .string(status)), ("Running", .bool(state.isRunning)), ("Paused", .bool(false)),
                ("Restarting", .bool(false)), ("OOMKilled", .bool(state.oomKilled)), ("Dead", .bool(state.status == .dead)),
                ("Pid", .int(Int(state.pid))), ("ExitCode", .int(Int(state.exitCode))), ("Error", .string(state.error)),
                ("StartedAt", time(state.startedAt)), ("FinishedAt", time(state.finishedAt)),
            ])),
            ("Image", .string(record.config.imageID)),
            ("ResolvConfPath", .string(directory + "/resolv.conf")), ("HostnamePath", .string(directory + "/hostname")),
            ("HostsPath", .string(directory + "/hosts")), ("LogPath", .string(directory + "/container.log")),
            ("Name", .string("/" + record.name)), ("RestartCount", .int(record.restartCount)), ("Driver", .string("overlay")),
            ("Platform", .string("linux")), ("MountLabel", .string("")), ("ProcessLabel", .string("")),
            ("AppArmorProfile", .string("")), ("ExecIDs", record.execIDs.isEmpty ? .null : .strings(record.execIDs)),
            ("HostConfig", hostConfig),
            ("GraphDriver", .object([("Data", .object([
                ("LowerDir", .string(record.config.layers.reversed().joined(separator: ":"))),
                ("MergedDir", .string(directory + "/rootfs")), ("UpperDir", .string(directory + "/upper")),
                ("WorkDir", .string(directory + "/work")),
            ])), ("Name", .string("overlay"))])),
            ("Mounts", mounts(record)),
            ("Config", config),
            ("NetworkSettings", networkSettings(record, networkID: networkID)),
        ])
    }

    /// One element of `GET /containers/json`.
    static func summary(_ record: ContainerRecord, networkID: String) -> OrderedJSON {
        var ports: [OrderedJSON] = []
        if record.state.isRunning {
            for binding in record.state.publishedPorts {
                ports.append(.object([
                    ("IP", .string(binding.hostIP.isEmpty ? "0.0.0.0" : binding.hostIP)), ("PrivatePort", .int(binding.containerPort)),
                    ("PublicPort", .int(binding.hostPort)), ("Type", .string(binding.proto)),
                ]))
            }
            for exposed in record.config.exposedPorts where !record.state.publishedPorts.contains(where: { "\($0.containerPort)/\($0.proto)" == exposed }) {
                if let (port, proto) = try? ContainerCreateRequest.parsePortKey(exposed) {
                    ports.append(.object([("PrivatePort", .int(port)), ("Type", .string(proto))]))
                }
            }
        }
        let networkMode = record.config.networkDisabled ? "none" : "bridge"
        return .object([
            ("Id", .string(record.id)), ("Names", .array([.string("/" + record.name)])), ("Image", .string(record.config.image)),
            ("ImageID", .string(record.config.imageID)), ("Command", .string(command(record.config.args))),
            ("Created", .int(record.created.seconds)), ("Ports", .array(ports)),
            ("Labels", .object(record.config.labels.keys.sorted().map { ($0, .string(record.config.labels[$0] ?? "")) })),
            ("State", .string(record.state.status.rawValue)), ("Status", .string(status(record))),
            ("HostConfig", .object([("NetworkMode", .string(networkMode))])),
            ("NetworkSettings", .object([("Networks", networkSettings(record, networkID: networkID)["Networks"] ?? .object([]))])),
            ("Mounts", mounts(record)),
        ])
    }
}
