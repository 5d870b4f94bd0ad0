import ArgumentParser
import Foundation
import Platform

/// `docker history IMAGE` (and `docker image history`): the image's steps, newest first, as the
/// docker CLI prints GET /images/{name}/history.
struct DockerHistory: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "history", abstract: "Show the history of an image")

    @OptionGroup var global: DockerGlobalOptions
    /// A Go boolean flag in the docker CLI (`-H=false`, `--human=false`).
    @Option(name: [.customShort("H"), .customLong("human")], help: "Print sizes and dates in human readable format")
    var human: String = "true"
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output") var noTrunc = false
    @Flag(name: [.short, .customLong("quiet")], help: "Only show image IDs") var quiet = false
    @Argument(help: "IMAGE") var image: String

    func run() throws {
        try dockerRun {
            guard let human = GoBool.parse(human) else {
                throw DockerCLIError(message: "invalid argument \"\(human)\" for \"-H, --human\" flag: strconv.ParseBool: parsing \"\(human)\": invalid syntax",
                                     exitCode: 125)
            }
            let response = try global.client.request("GET", "/images/\(DockerClient.pathEncode(image))/history")
            guard response.isSuccess else { throw DockerClient.daemonError(response) }
            let steps = try response.json().arrayValue ?? []
            Console.out(Self.render(steps, human: human, truncate: !noTrunc, quiet: quiet, now: Date()))
        }
    }

    /// The CLI's default table (`{{.ID}} {{.CreatedSince}} {{.CreatedBy}} {{.Size}} {{.Comment}}`,
    /// `{{.CreatedAt}}` with `-H=false`), or the IDs alone with `-q`.
    static func render(_ steps: [OrderedJSON], human: Bool, truncate: Bool, quiet: Bool, now: Date) -> String {
        func id(_ step: OrderedJSON) -> String {
            let full = step["Id"]?.stringValue ?? ""
            guard truncate else { return full }
            let bare = full.firstIndex(of: ":").map { String(full[full.index(after: $0)...]) } ?? full
            return String(bare.prefix(12))
        }
        if quiet { return steps.map { id($0) + "\n" }.joined() }
        var table = TableWriter(minWidth: 10, padding: 3)
        // Without -H the CLI switches to its CreatedAt column, header and all.
        table.add(["IMAGE", human ? "CREATED" : "CREATED AT", "CREATED BY", "SIZE", "COMMENT"])
        for step in steps {
            let created = step["Created"]?.intValue ?? 0
            let size = step["Size"]?.intValue ?? 0
            let createdBy = (step["CreatedBy"]?.stringValue ?? "").replacingOccurrences(of: "\t", with: " ")
            table.add([
                id(step),
                human ? HumanDuration.describe(seconds: now.timeIntervalSince1970 - Double(created)) + " ago" : Self.rfc3339(created),
                truncate ? DockerPs.ellipsis(createdBy, 45) : createdBy,
                human ? HumanSize.decimal(size, precision: 3) : String(size),
                step["Comment"]?.stringValue ?? "",
            ])
        }
        return table.render()
    }

    /// Go's time.Unix(s, 0).Format(time.RFC3339), in the local time zone.
    static func rfc3339(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = .current
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}

/// Go's strconv.ParseBool, which the docker CLI's boolean flags accept.
enum GoBool {
    static func parse(_ text: String) -> Bool? {
        switch text {
        case "1", "t", "T", "TRUE", "true", "True": true
        case "0", "f", "F", "FALSE", "false", "False": false
        default: nil
        }
    }
}
