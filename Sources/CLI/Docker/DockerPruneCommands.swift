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
            guard force || PruneConfirmation.ask("WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] ") else {
                return
            }
            var query: [(String, String)] = []
            if !filters.isEmpty { query.append(("filters", try DockerFilterFlags.json(DockerFilterFlags.parse(filters)))) }
            let response = try global.client.request("POST", "/containers/prune", query: query)
            guard response.isSuccess else { throw DockerClient.daemonError(response) }
            let report = try response.json()
            let deleted = (report["ContainersDeleted"]?.arrayValue ?? []).compactMap(\.stringValue)
            var output = ""
            if !deleted.isEmpty { output = "Deleted Containers:\n" + deleted.map { $0 + "\n" }.joined() + "\n" }
            Console.out(output + "Total reclaimed space: \(HumanSize.decimal(deleted.isEmpty ? 0 : report["SpaceReclaimed"]?.intValue ?? 0))\n")
        }
    }
}

/// The docker CLI's PromptForConfirmation.
enum PruneConfirmation {
    /// Prints `message` and reads an answer: only `y` or `Y` goes on (end of input does not).
    static func ask(_ message: String) -> Bool {
        Console.out(message)
        let answer = (readLine() ?? "").trimmingCharacters(in: .whitespaces)
        return answer == "y" || answer == "Y"
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
