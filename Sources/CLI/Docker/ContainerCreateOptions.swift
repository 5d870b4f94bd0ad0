import ArgumentParser
import Foundation
import Glibc
import Platform

/// The flags `docker run` and `docker create` share, and the create request they make (the
/// body the docker CLI 28 sends, so that the daemon sees the same from both clients).
struct ContainerCreateOptions: ParsableArguments {
    @Flag(name: [.short, .customLong("interactive")], help: "Keep STDIN open even if not attached") var interactive = false
    @Flag(name: [.short, .customLong("tty")], help: "Allocate a pseudo-TTY") var tty = false
    @Option(help: "Assign a name to the container") var name: String?
    @Option(name: [.short, .customLong("publish")], help: "Publish a container's port(s) to the host") var publish: [String] = []
    @Flag(name: [.customShort("P"), .customLong("publish-all")], help: "Publish all exposed ports to random ports") var publishAll = false
    @Option(name: .customLong("expose"), help: "Expose a port or a range of ports") var expose: [String] = []
    @Option(name: [.short, .customLong("env")], help: "Set environment variables") var env: [String] = []
    @Option(name: .customLong("env-file"), help: "Read in a file of environment variables") var envFile: [String] = []
    @Option(name: .customLong("add-host"), help: "Add a custom host-to-IP mapping (host:ip)") var addHost: [String] = []
    @Option(name: [.short, .customLong("workdir")], help: "Working directory inside the container") var workdir: String?
    @Option(name: [.short, .customLong("user")], help: "Username or UID (format: <name|uid>[:<group|gid>])") var user: String?
    @Option(help: "Overwrite the default ENTRYPOINT of the image") var entrypoint: String?
    @Option(name: [.short, .customLong("hostname")], help: "Container host name") var hostname: String?
    @Option(name: [.short, .customLong("label")], help: "Set meta data on a container") var label: [String] = []
    @Option(name: [.short, .customLong("memory")], help: "Memory limit") var memory: String?
    @Option(name: .customLong("memory-swap"), help: "Swap limit equal to memory plus swap: '-1' to enable unlimited swap") var memorySwap: String?
    @Option(help: "Number of CPUs") var cpus: String?
    @Option(name: [.short, .customLong("cpu-shares")], help: "CPU shares (relative weight)") var cpuShares: Int?
    @Option(name: .customLong("pids-limit"), help: "Tune container pids limit (set -1 for unlimited)") var pidsLimit: Int?
    @Option(name: .customLong("stop-signal"), help: "Signal to stop the container") var stopSignal: String?
    @Option(name: .customLong("stop-timeout"), help: "Timeout (in seconds) to stop a container") var stopTimeout: Int?
    @Option(name: [.customLong("network"), .customLong("net")], help: "Connect a container to a network (bridge or none)") var network: String?
    @Option(name: [.short, .customLong("volume")], help: "Bind mount a host path (/host/path:/container/path[:ro])") var volume: [String] = []

    /// The create request for `image` running `command` (empty: the image's). `subcommand`
    /// (run or create) names the usage a bad flag value is answered with.
    func body(image: String, command: [String], attachStdin: Bool, attach: Bool, autoRemove: Bool, subcommand: String) throws -> OrderedJSON {
        func flagError(_ flag: String, _ value: String, _ why: String) -> DockerCLIError {
            Self.flagError(flag, value, why, subcommand: subcommand)
        }
        var exposed: [String] = []
        var bindings: [(String, [OrderedJSON])] = []
        for spec in publish {
            let ports: [PortSpec]
            do { ports = try PortSpec.parse(spec) } catch { throw DockerCLIError(message: "\(error)", exitCode: 125) }
            for port in ports {
                if !exposed.contains(port.key) { exposed.append(port.key) }
                let binding: OrderedJSON = .object([("HostIp", .string(port.hostIP)), ("HostPort", .string(port.hostPort))])
                if let index = bindings.firstIndex(where: { $0.0 == port.key }) {
                    bindings[index].1.append(binding)
                } else {
                    bindings.append((port.key, [binding]))
                }
            }
        }
        for port in expose {
            let key = port.contains("/") ? port : port + "/tcp"
            if !exposed.contains(key) { exposed.append(key) }
        }
        var labels: [(String, OrderedJSON)] = []
        for entry in label {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            labels.append((parts[0], .string(parts.count > 1 ? parts[1] : "")))
        }
        let memoryBytes = try memory.map { text -> Int64 in
            guard let bytes = ByteSize.parse(text) else { throw flagError("-m, --memory", text, "invalid size: '\(text)'") }
            return bytes
        } ?? 0
        let swapBytes = try memorySwap.map { text -> Int64 in
            if text == "-1" { return -1 }
            guard let bytes = ByteSize.parse(text) else { throw flagError("--memory-swap", text, "invalid size: '\(text)'") }
            return bytes
        } ?? 0
        let nanoCPUs = try cpus.map { text -> Int64 in
            guard let value = Double(text), value >= 0 else { throw flagError("--cpus", text, "failed to parse \(text) as a rational number") }
            return Int64(value * 1e9)
        } ?? 0
        var consoleSize: [OrderedJSON] = [.int(0), .int(0)]
        if tty, let size = Terminal.size(1) { consoleSize = [.int(Int(size.rows)), .int(Int(size.columns))] }
        let networkMode = network ?? "default"
        let extraHosts = try addHost.map { try Self.validateExtraHost($0, subcommand: subcommand) }
        // The files' variables first, then -e's, as the CLI's ReadKVEnvStrings orders them.
        let environment = try envFile.flatMap(Self.readEnvFile) + env.map(Self.expandEnv)

        var pairs: [(String, OrderedJSON)] = [
            ("Hostname", .string(hostname ?? "")), ("Domainname", .string("")), ("User", .string(user ?? "")),
            ("AttachStdin", .bool(attachStdin)), ("AttachStdout", .bool(attach)), ("AttachStderr", .bool(attach)),
        ]
        if !exposed.isEmpty { pairs.append(("ExposedPorts", .object(exposed.map { ($0, .object([])) }))) }
        pairs += [
            ("Tty", .bool(tty)), ("OpenStdin", .bool(interactive)), ("StdinOnce", .bool(interactive && attachStdin)),
            ("Env", environment.isEmpty ? .null : .strings(environment)),
            ("Cmd", command.isEmpty ? .null : .strings(command)), ("Image", .string(image)), ("Volumes", .object([])),
            ("WorkingDir", .string(workdir ?? "")),
            ("Entrypoint", entrypoint.map { .strings([$0]) } ?? .null), ("OnBuild", .null), ("Labels", .object(labels)),
        ]
        if let stopSignal { pairs.append(("StopSignal", .string(stopSignal))) }
        if let stopTimeout { pairs.append(("StopTimeout", .int(stopTimeout))) }
        pairs.append(("HostConfig", .object([
            ("Binds", volume.isEmpty ? .null : .strings(volume.map(Self.absoluteVolume))), ("ContainerIDFile", .string("")), ("LogConfig", .object([("Type", .string("")), ("Config", .object([]))])),
            ("NetworkMode", .string(networkMode)), ("PortBindings", .object(bindings.map { ($0.0, .array($0.1)) })),
            ("RestartPolicy", .object([("Name", .string("no")), ("MaximumRetryCount", .int(0))])),
            ("AutoRemove", .bool(autoRemove)), ("VolumeDriver", .string("")), ("VolumesFrom", .null),
            ("ConsoleSize", .array(consoleSize)), ("CapAdd", .null), ("CapDrop", .null), ("CgroupnsMode", .string("")),
            ("Dns", .array([])), ("DnsOptions", .array([])), ("DnsSearch", .array([])), ("ExtraHosts", extraHosts.isEmpty ? .null : .strings(extraHosts)),
            ("GroupAdd", .null), ("IpcMode", .string("")), ("Cgroup", .string("")), ("Links", .null), ("OomScoreAdj", .int(0)),
            ("PidMode", .string("")), ("Privileged", .bool(false)), ("PublishAllPorts", .bool(publishAll)),
            ("ReadonlyRootfs", .bool(false)), ("SecurityOpt", .null), ("UTSMode", .string("")), ("UsernsMode", .string("")),
            ("ShmSize", .int(0)), ("Isolation", .string("")), ("CpuShares", .int(cpuShares ?? 0)), ("Memory", .int(memoryBytes)),
            ("NanoCpus", .int(nanoCPUs)), ("CgroupParent", .string("")), ("BlkioWeight", .int(0)),
            ("CpuPeriod", .int(0)), ("CpuQuota", .int(0)), ("CpusetCpus", .string("")), ("CpusetMems", .string("")),
            ("Devices", .array([])), ("MemoryReservation", .int(0)), ("MemorySwap", .int(swapBytes)),
            ("MemorySwappiness", .int(-1)), ("OomKillDisable", .bool(false)), ("PidsLimit", pidsLimit.map { .int($0) } ?? .null),
            ("Ulimits", .array([])), ("MaskedPaths", .null), ("ReadonlyPaths", .null),
        ])))
        pairs.append(("NetworkingConfig", .object([("EndpointsConfig", .object([(networkMode, .object([]))]))])))
        return .object(pairs)
    }

    /// A relative host path (`./data:/data`) is taken from the current directory, as the docker
    /// CLI does.
    static func absoluteVolume(_ spec: String) -> String {
        guard spec.hasPrefix("."), let colon = spec.firstIndex(of: ":") else { return spec }
        let host = URL(fileURLWithPath: String(spec[..<colon])).standardizedFileURL.path
        return host + spec[colon...]
    }

    /// `-e NAME` takes the value from our own environment, as the docker CLI does.
    /// The docker CLI's env file: `KEY=VALUE` lines as they are, a bare `KEY` from this
    /// environment (left out when unset), blank lines and `#` comments skipped.
    static func readEnvFile(_ path: String) throws -> [String] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            // Go's errno texts are strerror's, lower-cased.
            let reason = String(cString: strerror(errno))
            throw DockerCLIError(message: "docker: open \(path): \(reason.prefix(1).lowercased() + reason.dropFirst())\n\nRun 'docker run --help' for more information",
                                 exitCode: 125)
        }
        close(fd)
        var text = String(decoding: try FileSystem.readFile(path), as: UTF8.self)
        if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
        var entries: [String] = []
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = raw.drop { $0.isWhitespace }
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let variable = String(parts[0])
            guard !variable.isEmpty else {
                throw DockerCLIError(message: "docker: invalid env file (\(path)): no variable name on line '\(line)'\n\nRun 'docker run --help' for more information", exitCode: 125)
            }
            if parts.count == 2 {
                guard !variable.contains(where: { $0 == " " || $0 == "\t" }) else {
                    throw DockerCLIError(message: "docker: invalid env file (\(path)): variable '\(variable)' contains whitespaces\n\nRun 'docker run --help' for more information", exitCode: 125)
                }
                entries.append(variable + "=" + parts[1])
            } else if let value = ProcessInfo.processInfo.environment[variable.trimmingCharacters(in: .whitespaces)] {
                entries.append(variable.trimmingCharacters(in: .whitespaces) + "=" + value)
            }
        }
        return entries
    }

    /// The CLI's ValidateExtraHost: `host:ip` or `host=ip` (an IPv6 address may sit in
    /// brackets; `host-gateway` is the bridge's address), sent as `host:ip`.
    static func validateExtraHost(_ value: String, subcommand: String) throws -> String {
        func refuse(_ why: String) -> DockerCLIError { flagError("--add-host", value, why, subcommand: subcommand) }
        let separator = value.firstIndex(of: "=") ?? value.firstIndex(of: ":")
        guard let separator, separator != value.startIndex, !value[..<separator].contains(":") else {
            throw refuse("bad format for add-host: \(GoQuote.quote(value))")
        }
        var address = String(value[value.index(after: separator)...])
        if address != "host-gateway" {
            if address.count > 2 && address.hasPrefix("[") && address.hasSuffix("]") { address = String(address.dropFirst().dropLast()) }
            guard IPAddressText.isValid(address) else { throw refuse("invalid IP address in add-host: \(GoQuote.quote(address))") }
        }
        return value[..<separator] + ":" + address
    }

    /// A flag's value refused as cobra refuses it: the reason, the usage line, the help hint.
    static func flagError(_ flag: String, _ value: String, _ why: String, subcommand: String) -> DockerCLIError {
        DockerCLIError(message: "invalid argument \"\(value)\" for \"\(flag)\" flag: \(why)\n\n"
                       + "Usage:  docker \(subcommand) [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'docker \(subcommand) --help' for more information",
                       exitCode: 125)
    }

    static func expandEnv(_ entry: String) -> String {
        guard !entry.contains("=") else { return entry }
        return ProcessInfo.processInfo.environment[entry].map { "\(entry)=\($0)" } ?? entry
    }
}

/// Splits what follows the flags of `run`, `create` and `exec` into the first positional and
/// the rest (which may look like flags: `docker run busybox ls -l`).
func splitPositionals(_ arguments: [String], command: String, usage: String) throws -> (String, [String]) {
    guard let first = arguments.first else {
        throw DockerCLIError(message: "docker: 'docker \(command)' requires at least 1 argument\n\nUsage:  docker \(command) \(usage)\n\nSee 'docker \(command) --help' for more information", exitCode: 125)
    }
    if first.hasPrefix("-") && first != "-" {
        throw DockerCLIError(message: "unknown flag: \(first.split(separator: "=").first.map(String.init) ?? first)\nSee 'docker \(command) --help'.", exitCode: 125)
    }
    return (first, Array(arguments.dropFirst()))
}
