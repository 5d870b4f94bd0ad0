import ArgumentParser
import Foundation
import Glibc
import HTTPClient
import Images
import Platform

extension ImageReference {
    /// An image argument of pull or push as docker reads it: normalized, a parse error in its
    /// words, and "Using default tag: latest" announced when neither tag nor digest was given.
    static func dockerArgument(_ text: String, quiet: Bool) throws -> ImageReference {
        let reference: ImageReference
        do {
            reference = try ImageReference.parseNormalized(text)
        } catch {
            throw DockerCLIError(message: "\(error)")
        }
        if reference.tag == nil && reference.digest == nil && !quiet { Console.out("Using default tag: latest\n") }
        return reference
    }
}

struct DockerPull: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "pull", abstract: "Download an image from a registry")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("quiet")], help: "Suppress verbose output") var quiet = false
    @Option(help: "Set platform if server is multi-platform capable") var platform: String?
    @Argument(help: "NAME[:TAG|@DIGEST]") var image: String

    func run() throws {
        try dockerRun {
            let reference = try ImageReference.dockerArgument(image, quiet: quiet)
            let full = ImageReference.parse(reference)
            try Self.pull(full, client: global.client, platform: platform, quiet: quiet)
            Console.out(full.description + "\n")
        }
    }

    /// POST /images/create and render its progress (`docker run` renders it on stderr).
    static func pull(_ reference: ImageReference, client: DockerClient, platform: String?, quiet: Bool,
                     toStandardError: Bool = false) throws {
        var query = [("fromImage", reference.name), ("tag", reference.digest?.description ?? reference.tag ?? "latest")]
        if let platform { query.append(("platform", platform)) }
        let renderer = toStandardError
            ? JSONMessageRenderer(isTerminal: isatty(2) == 1, width: Console.width, quiet: quiet, output: Console.err)
            : JSONMessageRenderer(quiet: quiet)
        var status = 0
        var errorBody: [UInt8] = []
        let head = try client.perform(
            "POST", "/images/create", query: query,
            headers: [("X-Registry-Auth", DockerClient.registryAuthHeader(domain: reference.domain))],
            onHead: { status = $0.status }
        ) { chunk in
            if (200..<300).contains(status) {
                _ = renderer.feed(chunk)
            } else {
                errorBody.append(contentsOf: chunk)
            }
        }
        guard (200..<300).contains(head.status) else {
            throw DockerClient.daemonError(.init(head: head, body: errorBody))
        }
        renderer.finish()
        if let failure = renderer.failure { throw failure }
    }
}

extension ImageReference {
    /// With the default tag added when neither tag nor digest was given.
    static func parse(_ reference: ImageReference) -> ImageReference {
        if reference.tag == nil && reference.digest == nil { return reference.withTag(defaultTag) }
        return reference
    }
}

struct DockerImages: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "images", abstract: "List images")

    @OptionGroup var global: DockerGlobalOptions
    @OptionGroup var list: DockerImageListOptions

    func run() throws {
        try dockerRun { try DockerImageList.list(global: global, list) }
    }
}

/// What `docker images` and `docker image ls` both take.
struct DockerImageListOptions: ParsableArguments {
    @Flag(name: [.short, .customLong("all")], help: "Show all images") var all = false
    @Flag(name: [.short, .customLong("quiet")], help: "Only show image IDs") var quiet = false
    @Flag(help: "Show digests") var digests = false
    @Flag(name: .customLong("no-trunc"), help: "Don't truncate output") var noTrunc = false
    @Option(name: [.short, .customLong("filter")], help: "Filter output based on conditions provided") var filters: [String] = []
    @Argument(help: "REPOSITORY[:TAG]") var repository: String?
}

enum DockerImageList {
    static func list(global: DockerGlobalOptions, _ options: DockerImageListOptions) throws {
        var filterMap = try DockerFilterFlags.parse(options.filters)
        if let repository = options.repository { filterMap["reference", default: []].append(repository) }
        var query: [(String, String)] = []
        if options.all { query.append(("all", "1")) }
        if !filterMap.isEmpty { query.append(("filters", DockerFilterFlags.json(filterMap))) }
        let response = try global.client.request("GET", "/images/json", query: query)
        guard response.isSuccess else { throw DockerClient.daemonError(response) }
        let now = Date().timeIntervalSince1970
        var table = TableWriter(minWidth: 10, padding: 3)
        table.add(options.digests ? ["REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE"]
                          : ["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"])
        var ids: [String] = []
        for image in try response.json().arrayValue ?? [] {
            let fullID = image["Id"]?.stringValue ?? ""
            let id = options.noTrunc ? fullID : String(fullID.dropFirst(7).prefix(12))
            let created = image["Created"]?.intValue ?? 0
            let createdText = HumanDuration.describe(seconds: now - Double(created)) + " ago"
            let size = HumanSize.decimal(image["Size"]?.intValue ?? 0, precision: 3)
            let tags = (image["RepoTags"]?.arrayValue ?? []).compactMap(\.stringValue)
            let repoDigests = (image["RepoDigests"]?.arrayValue ?? []).compactMap(\.stringValue)
            for row in ImageRows.rows(tags: tags, digests: repoDigests, showDigests: options.digests) {
                ids.append(id)
                table.add(options.digests ? [row.repo, row.tag, row.digest, id, createdText, size] : [row.repo, row.tag, id, createdText, size])
            }
        }
        if options.quiet {
            Console.out(ids.map { $0 + "\n" }.joined())
        } else {
            Console.out(table.render())
        }
    }
}

struct DockerImage: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image", abstract: "Manage images",
        subcommands: [DockerHistory.self, DockerImageInspect.self, DockerImageLs.self, DockerImagePrune.self, DockerPull.self, DockerImageRm.self, DockerTag.self,
                      DockerBuild.self, DockerSave.self, DockerLoad.self, DockerPush.self])
}

struct DockerImageLs: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ls", abstract: "List images", aliases: ["list"])

    @OptionGroup var global: DockerGlobalOptions
    @OptionGroup var list: DockerImageListOptions

    func run() throws {
        try dockerRun { try DockerImageList.list(global: global, list) }
    }
}

struct DockerImageInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Display detailed information on one or more images")

    @OptionGroup var global: DockerGlobalOptions
    @Option(name: [.short, .customLong("format")], help: "Format output using a Go template ({{.Field.Path}} and {{json .Field}})") var format: String?
    @Argument(help: "IMAGE") var images: [String]

    func run() throws {
        try dockerRun { try DockerInspectPrinter.inspect(images, client: global.client, kinds: [.image], format: format) }
    }
}

struct DockerInspect: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "inspect", abstract: "Return low-level information on Docker objects")

    @OptionGroup var global: DockerGlobalOptions
    @Option(name: [.short, .customLong("format")], help: "Format output using a Go template ({{.Field.Path}} and {{json .Field}})") var format: String?
    @Option(name: .customLong("type"), help: "Only inspect objects of the given type") var type: String?
    @Argument(help: "NAME|ID") var names: [String]

    func run() throws {
        try dockerRun {
            let kinds: [DockerInspectPrinter.Kind]
            switch type {
            case nil: kinds = [.container, .image]
            case "container": kinds = [.container]
            case "image": kinds = [.image]
            case let other?: throw DockerCLIError(message: "\"\(other)\" is not a valid value for --type")
            }
            try DockerInspectPrinter.inspect(names, client: global.client, kinds: kinds, format: format)
        }
    }
}

/// Prints inspect answers as the CLI does: the server's JSON verbatim (key order kept), indented
/// by four spaces inside `[ ]`; misses go to stderr and make the exit code 1. Without `--type`,
/// a container is tried first, then an image.
enum DockerInspectPrinter {
    enum Kind {
        case container, image

        func path(_ name: String) -> String {
            switch self {
            case .container: return "/containers/\(DockerClient.pathEncode(name))/json"
            case .image: return "/images/\(DockerClient.pathEncode(name))/json"
            }
        }
    }

    static func inspect(_ names: [String], client: DockerClient, kinds: [Kind], format: String? = nil) throws {
        var found: [OrderedJSON] = []
        var errors: [String] = []
        nextName: for name in names {
            var lastNotFound: HTTPClientResponse?
            for kind in kinds {
                let response = try client.request("GET", kind.path(name))
                if response.isSuccess {
                    found.append(try response.json())
                    continue nextName
                }
                guard response.status == 404 else {
                    errors.append(DockerClient.daemonError(response).message)
                    continue nextName
                }
                lastNotFound = response
            }
            if kinds.count == 1, let lastNotFound {
                errors.append(DockerClient.daemonError(lastNotFound).message)
            } else {
                errors.append(kinds.count > 1 ? "Error: No such object: \(name)" : "Error response from daemon: No such object: \(name)")
            }
        }
        if let format {
            for object in found { Console.out(try InspectTemplate.render(format, object) + "\n") }
        } else {
            Console.out(OrderedJSON.array(found).pretty() + "\n")
        }
        if !errors.isEmpty {
            Console.err(errors.joined(separator: "\n") + "\n")
            throw ExitCode(1)
        }
    }
}

struct DockerRmi: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rmi", abstract: "Remove one or more images")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("force")], help: "Force removal of the image") var force = false
    @Flag(name: .customLong("no-prune"), help: "Do not delete untagged parents") var noPrune = false
    @Argument(help: "IMAGE") var images: [String]

    func run() throws {
        try dockerRun { try DockerRemover.remove(images, client: global.client, force: force, noPrune: noPrune) }
    }
}

struct DockerImageRm: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "rm", abstract: "Remove one or more images", aliases: ["remove"])

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("force")], help: "Force removal of the image") var force = false
    @Flag(name: .customLong("no-prune"), help: "Do not delete untagged parents") var noPrune = false
    @Argument(help: "IMAGE") var images: [String]

    func run() throws {
        try dockerRun { try DockerRemover.remove(images, client: global.client, force: force, noPrune: noPrune) }
    }
}

enum DockerRemover {
    static func remove(_ images: [String], client: DockerClient, force: Bool, noPrune: Bool) throws {
        var failed = false
        for image in images {
            var query: [(String, String)] = []
            if force { query.append(("force", "1")) }
            if noPrune { query.append(("noprune", "1")) }
            let response = try client.request("DELETE", "/images/\(DockerClient.pathEncode(image))", query: query)
            guard response.isSuccess else {
                Console.err(DockerClient.daemonError(response).message + "\n")
                failed = true
                continue
            }
            for item in try response.json().arrayValue ?? [] {
                if let untagged = item["Untagged"]?.stringValue { Console.out("Untagged: \(untagged)\n") }
                if let deleted = item["Deleted"]?.stringValue { Console.out("Deleted: \(deleted)\n") }
            }
        }
        if failed { throw ExitCode(1) }
    }
}

struct DockerTag: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "tag", abstract: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE")

    @OptionGroup var global: DockerGlobalOptions
    @Argument(help: "SOURCE_IMAGE[:TAG]") var source: String
    @Argument(help: "TARGET_IMAGE[:TAG]") var target: String

    func run() throws {
        try dockerRun {
            let reference: ImageReference
            do {
                reference = try ImageReference.parseNormalized(target)
            } catch {
                throw DockerCLIError(message: "\(error)")
            }
            guard reference.digest == nil else { throw DockerCLIError(message: "refusing to create a tag with a digest reference") }
            let response = try global.client.request(
                "POST", "/images/\(DockerClient.pathEncode(source))/tag",
                query: [("repo", reference.name), ("tag", reference.tag ?? ImageReference.defaultTag)])
            guard response.isSuccess else { throw DockerClient.daemonError(response) }
        }
    }
}

/// The rows `docker images` prints for one image (the CLI's imageFormatTaggedAndDigest): a row per
/// repository tag (per digest of that repository too, with --digests), then digest-only
/// repositories with tag `<none>`. The docker CLI walks Go maps here, so its row order within an
/// image varies; onekube keeps the server's order.
enum ImageRows {
    struct Row: Equatable {
        var repo: String
        var tag: String
        var digest: String
    }

    static func rows(tags: [String], digests: [String], showDigests: Bool) -> [Row] {
        if tags.allSatisfy({ $0 == "<none>:<none>" }) && digests.allSatisfy({ $0 == "<none>@<none>" }) {
            return [Row(repo: "<none>", tag: "<none>", digest: "<none>")]
        }
        var tagsByRepo: [(String, [String])] = []
        for tag in tags {
            guard let colon = tag.lastIndex(of: ":") else { continue }
            let repo = String(tag[..<colon])
            let value = String(tag[tag.index(after: colon)...])
            if let i = tagsByRepo.firstIndex(where: { $0.0 == repo }) { tagsByRepo[i].1.append(value) } else { tagsByRepo.append((repo, [value])) }
        }
        var digestsByRepo: [(String, [String])] = []
        for digest in digests {
            guard let at = digest.firstIndex(of: "@") else { continue }
            let repo = String(digest[..<at])
            let value = String(digest[digest.index(after: at)...])
            if let i = digestsByRepo.firstIndex(where: { $0.0 == repo }) { digestsByRepo[i].1.append(value) } else { digestsByRepo.append((repo, [value])) }
        }
        var rows: [Row] = []
        for (repo, repoTags) in tagsByRepo {
            let repoDigests = showDigests ? (digestsByRepo.first { $0.0 == repo }?.1 ?? []) : []
            digestsByRepo.removeAll { $0.0 == repo }
            for tag in repoTags {
                if repoDigests.isEmpty {
                    rows.append(Row(repo: repo, tag: tag, digest: "<none>"))
                } else {
                    rows += repoDigests.map { Row(repo: repo, tag: tag, digest: $0) }
                }
            }
        }
        for (repo, repoDigests) in digestsByRepo {
            if showDigests {
                rows += repoDigests.map { Row(repo: repo, tag: "<none>", digest: $0) }
            } else {
                rows.append(Row(repo: repo, tag: "<none>", digest: ""))
            }
        }
        return rows
    }
}

/// The Go-template subset `docker inspect -f` is mostly used with: `{{.A.B}}` and `{{json .A}}`
/// between literal text.
enum InspectTemplate {
    static func render(_ template: String, _ object: OrderedJSON) throws -> String {
        var out = ""
        var rest = Substring(template)
        while let open = rest.range(of: "{{") {
            out += rest[..<open.lowerBound]
            guard let close = rest[open.upperBound...].range(of: "}}") else {
                throw DockerCLIError(message: "template parsing error: template: :1: unclosed action")
            }
            let action = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: .whitespaces)
            var path = action
            var asJSON = false
            if action.hasPrefix("json ") {
                asJSON = true
                path = String(action.dropFirst(5)).trimmingCharacters(in: .whitespaces)
            }
            guard path.hasPrefix(".") else {
                throw DockerCLIError(message: "template parsing error: template: :1: function \"\(action)\" not defined")
            }
            var value: OrderedJSON? = object
            for key in path.dropFirst().split(separator: ".") { value = value?[String(key)] }
            out += asJSON ? (value ?? .null).serialized() : text(value)
            rest = rest[close.upperBound...]
        }
        return out + rest
    }

    /// How Go's text/template prints a value: strings bare, null as `<no value>`.
    static func text(_ value: OrderedJSON?) -> String {
        switch value {
        case nil, .null?: return "<no value>"
        case .string(let s)?: return s
        case .bool(let b)?: return b ? "true" : "false"
        case .int(let i)?: return "\(i)"
        case .double(let d)?: return "\(d)"
        case .array(let items)?: return "[" + items.map { text($0) }.joined(separator: " ") + "]"
        case .object(let pairs)?: return "map[" + pairs.map { "\($0.0):\(text($0.1))" }.joined(separator: " ") + "]"
        }
    }
}
