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
            Console.out(DockerPrune.total([try Self.prune(global.client, filters: DockerFilterFlags.parse(filters))]))
        }
    }

    static func prune(_ client: DockerClient, filters: [String: [String]]) throws -> DockerPrune.Outcome {
        let report = try DockerPrune.post(client, "/containers/prune", filters: filters)
        let deleted = (report["ContainersDeleted"]?.arrayValue ?? []).compactMap(\.stringValue)
        return DockerPrune.Outcome(section: DockerPrune.section("Deleted Containers", deleted),
                                   reclaimed: deleted.isEmpty ? 0 : report["SpaceReclaimed"]?.intValue ?? 0)
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
            Console.out(DockerPrune.total([try Self.prune(global.client, all: all, filters: DockerFilterFlags.parse(filters))]))
        }
    }

    /// The CLI always sends the `dangling` filter: true, or false for `-a`.
    static func prune(_ client: DockerClient, all: Bool, filters: [String: [String]]) throws -> DockerPrune.Outcome {
        var filters = filters
        filters["dangling"] = [all ? "false" : "true"]
        let report = try DockerPrune.post(client, "/images/prune", filters: filters)
        let deleted = (report["ImagesDeleted"]?.arrayValue ?? []).map { item in
            if let untagged = item["Untagged"]?.stringValue, !untagged.isEmpty { return "untagged: \(untagged)" }
            return "deleted: \(item["Deleted"]?.stringValue ?? "")"
        }
        return DockerPrune.Outcome(section: DockerPrune.section("Deleted Images", deleted),
                                   reclaimed: deleted.isEmpty ? 0 : report["SpaceReclaimed"]?.intValue ?? 0)
    }
}

/// `docker system prune [-a] [-f]`: containers, networks, images (dangling, or all unused with
/// -a) and the build cache, asked once and reported together, as the docker CLI does.
struct DockerSystemPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove unused data")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("all")], help: "Remove all unused images not just dangling ones") var all = false
    @Flag(name: [.short, .customLong("force")], help: "Do not prompt for confirmation") var force = false
    @Option(name: .customLong("filter"), help: "Provide filter values (e.g. \"label=<key>=<value>\")") var filters: [String] = []

    func run() throws {
        try dockerRun {
            let warnings = ["all stopped containers", "all networks not used by at least one container",
                            all ? "all images without at least one container associated to them" : "all dangling images",
                            all ? "all build cache" : "unused build cache"]
            let message = "WARNING! This will remove:\n" + warnings.map { "  - \($0)\n" }.joined() + "\nAre you sure you want to continue? [y/N] "
            guard force || DockerPrune.ask(message) else { return }
            let client = global.client
            let map = try DockerFilterFlags.parse(filters)
            let networks = try DockerPrune.post(client, "/networks/prune", filters: map)
            let networkNames = (networks["NetworksDeleted"]?.arrayValue ?? []).compactMap(\.stringValue)
            Console.out(DockerPrune.total([
                try DockerContainerPrune.prune(client, filters: map),
                DockerPrune.Outcome(section: DockerPrune.section("Deleted Networks", networkNames), reclaimed: 0),
                try DockerImagePrune.prune(client, all: all, filters: map),
                try DockerBuilderPrune.prune(client, all: all),
            ]))
        }
    }
}

/// `docker system …`: prune, and info under its management name.
struct DockerSystem: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "system", abstract: "Manage Docker", subcommands: [DockerSystemPrune.self, DockerInfo.self])
}

/// What the docker CLI's prune commands share: the confirmation, the request, the report.
enum DockerPrune {
    /// One pruner's report: its section (empty when nothing went) and the bytes it freed.
    struct Outcome {
        var section: String
        var reclaimed: Int64
    }

    /// Prints `message` and reads an answer: only `y` or `Y` goes on (end of input does not).
    static func ask(_ message: String) -> Bool {
        Console.out(message)
        let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces)
        return answer == "y" || answer == "Y"
    }

    static func post(_ client: DockerClient, _ path: String, filters: [String: [String]], query: [(String, String)] = []) throws -> OrderedJSON {
        var query = query
        if !filters.isEmpty { query.append(("filters", DockerFilterFlags.json(filters))) }
        let response = try client.request("POST", path, query: query)
        guard response.isSuccess else { throw DockerClient.daemonError(response) }
        return try response.json()
    }

    /// "<heading>:" and a line per item, then the blank line the CLI's Println adds; nothing
    /// when there are no items.
    static func section(_ heading: String, _ items: [String]) -> String {
        items.isEmpty ? "" : heading + ":\n" + items.map { $0 + "\n" }.joined() + "\n"
    }

    /// The sections, then the space they reclaimed together.
    static func total(_ outcomes: [Outcome]) -> String {
        outcomes.map(\.section).joined() + "Total reclaimed space: \(HumanSize.decimal(outcomes.reduce(0) { $0 + $1.reclaimed }))\n"
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
