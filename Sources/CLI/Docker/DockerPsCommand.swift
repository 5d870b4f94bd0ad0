import ArgumentParser
import DockerAPI
import Foundation
import Platform

struct DockerPs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ps", abstract: "List containers")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("all")], help: "Show all containers (default shows just running)") var all = false
    @Flag(name: [.short, .customLong("quiet")], help: "Only display container IDs") var quiet = false
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output") var noTrunc = false
    @Flag(name: [.short, .customLong("latest")], help: "Show the latest created container (includes all states)") var latest = false
    @Option(name: [.customShort("n"), .customLong("last")], help: "Show n last created containers (includes all states)") var last: Int?
    @Option(name: [.short, .customLong("filter")], help: "Filter output based on conditions provided") var filters: [String] = []

    func run() throws {
        try dockerRun {
            var query: [(String, String)] = []
            if all { query.append(("all", "1")) }
            if latest { query.append(("limit", "1")) } else if let last, last > 0 { query.append(("limit", "\(last)")) }
            var filterMap: [(String, [String])] = []
            for filter in filters {
                let parts = filter.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2 else { throw DockerCLIError(message: "bad format of filter (expected name=value)") }
                if let i = filterMap.firstIndex(where: { $0.0 == parts[0] }) { filterMap[i].1.append(parts[1]) } else { filterMap.append((parts[0], [parts[1]])) }
            }
            if !filterMap.isEmpty {
                query.append(("filters", OrderedJSON.object(filterMap.map { ($0.0, .object($0.1.map { ($0, .bool(true)) })) }).serialized()))
            }
            let response = try global.client.request("GET", "/containers/json", query: query)
            guard response.isSuccess else { throw DockerClient.daemonError(response) }
            let containers = try response.json().arrayValue ?? []
            if quiet {
                Console.out(containers.map { id($0) + "\n" }.joined())
                return
            }
            var table = TableWriter(minWidth: 10, padding: 3)
            table.add(["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"])
            let now = Date().timeIntervalSince1970
            for container in containers {
                let command = container["Command"]?.stringValue ?? ""
                let created = Double(container["Created"]?.intValue ?? 0)
                let names = (container["Names"]?.arrayValue ?? []).compactMap(\.stringValue).map { $0.hasPrefix("/") ? String($0.dropFirst()) : $0 }
                table.add([
                    id(container), container["Image"]?.stringValue ?? "",
                    GoQuote.quote(noTrunc ? command : Self.ellipsis(command, 20)),
                    HumanDuration.describe(seconds: now - created) + " ago", container["Status"]?.stringValue ?? "",
                    Self.ports(container["Ports"]?.arrayValue ?? []), names.joined(separator: ","),
                ])
            }
            Console.out(table.render())
        }
    }

    func id(_ container: OrderedJSON) -> String {
        let full = container["Id"]?.stringValue ?? ""
        return noTrunc ? full : String(full.prefix(12))
    }

    /// The CLI's Ellipsis: at most `width` characters, the last one `…` when cut.
    static func ellipsis(_ text: String, _ width: Int) -> String {
        guard text.count > width else { return text }
        return String(text.prefix(width - 1)) + "…"
    }

    /// `0.0.0.0:8080->8080/tcp`, `8080/tcp` for unpublished exposed ports.
    static func ports(_ ports: [OrderedJSON]) -> String {
        ports.map { port in
            let privatePort = port["PrivatePort"]?.intValue ?? 0
            let type = port["Type"]?.stringValue ?? "tcp"
            guard let publicPort = port["PublicPort"]?.intValue, publicPort > 0 else { return "\(privatePort)/\(type)" }
            let ip = port["IP"]?.stringValue ?? ""
            let host = ip.contains(":") ? "[\(ip)]" : ip
            return "\(host):\(publicPort)->\(privatePort)/\(type)"
        }.joined(separator: ", ")
    }
}

struct DockerLogs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logs", abstract: "Fetch the logs of a container")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("follow")], help: "Follow log output") var follow = false
    @Flag(name: [.short, .customLong("timestamps")], help: "Show timestamps") var timestamps = false
    @Option(name: [.customShort("n"), .customLong("tail")], help: "Number of lines to show from the end of the logs") var tail: String = "all"
    @Option(help: "Show logs since timestamp or relative (e.g. 42m for 42 minutes)") var since: String?
    @Argument(help: "CONTAINER") var container: String

    func run() throws {
        try dockerRun {
            let client = global.client
            let inspect = try client.request("GET", "/containers/\(DockerClient.pathEncode(container))/json")
            guard inspect.isSuccess else { throw DockerClient.daemonError(inspect) }
            let json = try inspect.json()
            let id = json["Id"]?.stringValue ?? container
            let tty = json["Config"]?["Tty"]?.boolValue ?? false
            var query = [("stderr", "1"), ("stdout", "1"), ("tail", tail)]
            if follow { query.append(("follow", "1")) }
            if timestamps { query.append(("timestamps", "1")) }
            if let since, let seconds = Self.since(since) { query.append(("since", seconds)) }
            var decoder = StreamDemultiplexer(tty: tty)
            var status = 0
            var errorBody: [UInt8] = []
            let head = try client.perform("GET", "/containers/\(id)/logs", query: query, onHead: { status = $0.status }) { chunk in
                if (200..<300).contains(status) { try decoder.feed(Array(chunk)) } else { errorBody += chunk }
            }
            guard (200..<300).contains(head.status) else {
                throw DockerCLIError(message: "Error response from daemon: " + DockerClient.errorMessage(status: head.status, body: errorBody))
            }
        }
    }

    /// `--since 10m` (relative) or unix seconds.
    static func since(_ text: String) -> String? {
        if Double(text) != nil { return text }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        guard let unit = text.last, let factor = units[unit], let value = Double(text.dropLast()) else { return nil }
        return String(format: "%.9f", Date().timeIntervalSince1970 - value * factor)
    }
}

/// Writes a logs or attach stream to stdout and stderr (framed unless the container has a tty).
struct StreamDemultiplexer {
    let tty: Bool
    var decoder = StreamFraming.Decoder()

    init(tty: Bool) { self.tty = tty }

    mutating func feed(_ bytes: [UInt8]) throws {
        if tty {
            AttachSession.write(1, bytes)
            return
        }
        for (kind, payload) in try decoder.feed(bytes) {
            AttachSession.write(kind == .stderr ? 2 : 1, payload)
        }
    }
}
