import ArgumentParser
import Foundation
import Platform

/// `docker container …`: the management command's forms of the container commands, and prune.
struct DockerContainer: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "container", abstract: "Manage containers", subcommands: [DockerContainerPrune.self])
}

/// `docker container prune [-f] [--filter label=…]`: `POST /containers/prune`, asked and reported
/// as the docker CLI asks and reports.
struct DockerContainerPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove all stopped containers")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("force")], help: "Do not prompt for confirmation") var force = false
    @Option(name: .customLong("filter"), help: "Provide filter values (e.g. \"until=<timestamp>\")") var filters: [String] = []

    func run() throws {
        try dockerRun {
            // A "no" (or no answer) ends it quietly, with status 0, as the CLI's cancellation does.
            guard force || DockerPrune.ask("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ") else {
                return
            }
            var query: [(String, String)] = []
            if !filters.isEmpty { query.append(("filters", try DockerFilterFlags.json(DockerFilterFlags.parse(filters)))) }
            let response = try global.client.request("POST", "/containers/prune", query: query)
            guard response.isSuccess else { throw DockerClient.daemonError(response) }
            let report = try response.json()
            let deleted = (report["ContainersDeleted"]?.arrayValue ?? []).compactMap(\.stringValue)
            Console.out(DockerPrune.report("Deleted Containers", deleted, reclaimed: report["SpaceReclaimed"]?.intValue ?? 0))
        }
    }
}

/// `docker image prune [-a] [-f] [--filter label=…]`: `POST /images/prune` with the `dangling`
/// filter the CLI always sends, asked and reported as the CLI asks and reports.
struct DockerImagePrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused images")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("all")], help: "Remove all unused images, not just dangling ones") var all = false
    @Flag(name: [.short, .customLong("force")], help: "Do not prompt for confirmation") var force = false
    @Option(name: .customLong("filter"), help: "Provide filter values (e.g. \"until=<timestamp>\")") var filters: [String] = []

    func run() throws {
        try dockerRun {
            let warning = all
                ? "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue? [y/N] "
                : "WARNING! This will remove all dangling images.\nAre you sure you want to continue? [y/N] "
            guard force || DockerPrune.ask(warning) else { return }
            var map = try DockerFilterFlags.parse(filters)
            map["dangling"] = [all ? "false" : "true"]
            let response = try global.client.request("POST", "/images/prune", query: [("filters", DockerFilterFlags.json(map))])
            guard response.isSuccess else { throw DockerClient.daemonError(response) }
            let report = try response.json()
            let deleted = (report["ImagesDeleted"]?.arrayValue ?? []).map { item in
                if let untagged = item["Untagged"]?.stringValue, !untagged.isEmpty { return "untagged: \(untagged)" }
                return "deleted: \(item["Deleted"]?.stringValue ?? "")"
            }
            Console.out(DockerPrune.report("Deleted Images", deleted, reclaimed: report["SpaceReclaimed"]?.intValue ?? 0))
        }
    }
}

/// What the docker CLI's prune commands share: the confirmation and the report.
enum DockerPrune {
    /// Prints `message` and reads an answer: only `y` or `Y` goes on (end of input does not).
    static func ask(_ message: String) -> Bool {
        Console.out(message)
        let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces)
        return answer == "y" || answer == "Y"
    }

    /// "<heading>:" and a line per item, a blank line, then the space reclaimed (counted only
    /// when something went, as the CLI counts it).
    static func report(_ heading: String, _ items: [String], reclaimed: Int64) -> String {
        (items.isEmpty ? "" : heading + ":\n" + items.map { $0 + "\n" }.joined() + "\n")
            + "Total reclaimed space: \(HumanSize.decimal(items.isEmpty ? 0 : reclaimed))\n"
    }
}

/// `--filter name=value` flags, as the Engine API's filters JSON.
enum DockerFilterFlags {
    static func parse(_ flags: [String]) throws -> [String: [String]] {
        var map: [String: [String]] = [:]
        for flag in flags {
            let parts = flag.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { throw DockerCLIError(message: "bad format of filter (expected name=value)") }
            map[parts[0], default: []].append(parts[1])
        }
        return map
    }

    /// `{"name":{"value":true}}`, keys sorted as Go marshals a map.
    static func json(_ map: [String: [String]]) -> String {
        OrderedJSON.object(map.keys.sorted().map { key in (key, .object((map[key] ?? []).map { ($0, .bool(true)) })) }).serialized()
    }
}
