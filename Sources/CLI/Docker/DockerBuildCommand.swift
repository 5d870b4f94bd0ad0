import ArgumentParser
import Foundation
import Glibc
import ImageBuilder
import Images
import Platform

/// `docker build`: sends the context as a tar to `POST /build` (the legacy builder's API, as the
/// docker CLI does without buildx) and prints the daemon's messages.
struct DockerBuild: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "build", abstract: "Build an image from a Dockerfile")

    @OptionGroup var global: DockerGlobalOptions
    @Option(name: [.short, .customLong("tag")], help: "Name and optionally a tag in the \"name:tag\" format") var tags: [String] = []
    @Option(name: [.short, .customLong("file")], help: "Name of the Dockerfile (Default is \"PATH/Dockerfile\")") var file: String?
    @Option(name: .customLong("build-arg"), help: "Set build-time variables") var buildArgs: [String] = []
    @Option(name: .customLong("label"), help: "Set metadata for an image") var labels: [String] = []
    @Option(help: "Set the target build stage to build.") var target: String?
    @Flag(name: .customLong("no-cache"), help: "Do not use cache when building the image") var noCache = false
    @Flag(help: "Always attempt to pull a newer version of the image") var pull = false
    @Flag(name: [.short, .customLong("quiet")], help: "Suppress the build output and print image ID on success") var quiet = false
    @Argument(help: "PATH") var path: String

    func run() throws {
        try dockerRun {
            var query: [(String, String)] = tags.map { ("t", $0) }
            for tag in tags {
                guard (try? ImageReference.parseNormalized(tag)) != nil else {
                    throw DockerCLIError(message: "invalid argument \"\(tag)\" for \"-t, --tag\" flag: invalid reference format", exitCode: 125)
                }
            }
            let (archive, dockerfileName) = try path == "-" ? contextFromStdin() : contextFromDirectory()
            query.append(("dockerfile", dockerfileName))
            if !buildArgs.isEmpty { query.append(("buildargs", try Self.keyValueJSON(buildArgs, flag: "build-arg"))) }
            if !labels.isEmpty { query.append(("labels", try Self.keyValueJSON(labels, flag: "label"))) }
            if noCache { query.append(("nocache", "1")) }
            if pull { query.append(("pull", "1")) }
            if quiet { query.append(("q", "1")) }
            if let target { query.append(("target", target)) }
            query.append(("version", "1"))
            // The docker CLI's upload progress line, ended as it ends it (a progress `\r`, then `\r\n`).
            if !quiet { Console.out("Sending build context to Docker daemon  \(HumanSize.decimal(Int64(archive.count)))\r\r\n") }

            let renderer = JSONMessageRenderer()
            var status = 0
            var errorBody: [UInt8] = []
            let head = try global.client.perform(
                "POST", "/build", query: query, headers: [("X-Registry-Config", "e30=")], body: archive,
                contentType: "application/x-tar", onHead: { status = $0.status }
            ) { chunk in
                if (200..<300).contains(status) { _ = renderer.feed(chunk) } else { errorBody.append(contentsOf: chunk) }
            }
            guard (200..<300).contains(head.status) else {
                throw DockerClient.daemonError(.init(head: head, body: errorBody))
            }
            renderer.finish()
            if let failure = renderer.failure { throw failure }
        }
    }

    /// `PATH` as the docker CLI sends it: the directory's tar (less what .dockerignore excludes),
    /// the Dockerfile named by `-f` (`-f -`: read from stdin) travelling in it under a name of its
    /// own when it lives elsewhere.
    func contextFromDirectory() throws -> (archive: [UInt8], dockerfile: String) {
        let context = URL(fileURLWithPath: path).standardizedFileURL.path
        guard FileSystem.isDirectory(context) else {
            throw DockerCLIError(message: "unable to prepare context: path \"\(path)\" not found")
        }
        var extra: (name: String, content: [UInt8])?
        var dockerfileName: String
        if file == "-" {
            dockerfileName = ".dockerfile.\(UInt64.random(in: 0...UInt64.max))"
            extra = (dockerfileName, Array(FileHandle.standardInput.readDataToEndOfFile()))
        } else {
            let dockerfilePath = file.map { URL(fileURLWithPath: $0).standardizedFileURL.path } ?? context + "/Dockerfile"
            guard FileSystem.exists(dockerfilePath) else {
                throw DockerCLIError(message: "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat \(dockerfilePath): no such file or directory")
            }
            if dockerfilePath.hasPrefix(context + "/") {
                dockerfileName = String(dockerfilePath.dropFirst(context.count + 1))
            } else {
                dockerfileName = ".dockerfile.\(UInt64.random(in: 0...UInt64.max))"
                extra = (dockerfileName, try FileSystem.readFile(dockerfilePath))
            }
        }
        do {
            return (try ContextArchiver.archive(directory: context, dockerfile: extra == nil ? dockerfileName : nil, extra: extra), dockerfileName)
        } catch {
            throw DockerCLIError(message: "unable to prepare context: \(error)")
        }
    }

    /// `docker build -`: stdin is the context when it is an archive (tar, or compressed: the
    /// daemon unpacks it), else it is the Dockerfile of a context with nothing else in it.
    func contextFromStdin() throws -> (archive: [UInt8], dockerfile: String) {
        if file == "-" { throw DockerCLIError(message: "invalid argument: can't use stdin for both build context and dockerfile") }
        let input = Array(FileHandle.standardInput.readDataToEndOfFile())
        if ContextArchiver.isArchive(Array(input.prefix(512))) { return (input, file ?? "Dockerfile") }
        return (try ContextArchiver.archive(file: "Dockerfile", content: input), "Dockerfile")
    }

    /// `--build-arg A=1` as `{"A":"1"}`; a bare `A` takes the value from the environment, as docker does.
    static func keyValueJSON(_ items: [String], flag: String) throws -> String {
        var pairs: [(String, OrderedJSON)] = []
        for item in items {
            let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2 {
                pairs.append((parts[0], .string(parts[1])))
            } else if let value = ProcessInfo.processInfo.environment[parts[0]] {
                pairs.append((parts[0], .string(value)))
            } else if flag == "build-arg" {
                pairs.append((parts[0], .null))
            } else {
                pairs.append((parts[0], .string("")))
            }
        }
        return OrderedJSON.object(pairs).serialized()
    }
}

/// `docker builder prune`: `POST /build/prune`, reported as the docker CLI reports it.
struct DockerBuilder: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "builder", abstract: "Manage builds", subcommands: [DockerBuilderPrune.self])
}

struct DockerBuilderPrune: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prune", abstract: "Remove build cache")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("all")], help: "Remove all unused build cache, not just dangling ones") var all = false
    @Flag(name: [.short, .customLong("force")], help: "Do not prompt for confirmation") var force = false

    func run() throws {
        try dockerRun {
            let warning = all ? "WARNING! This will remove all build cache. Are you sure you want to continue? [y/N] "
                              : "WARNING! This will remove all dangling build cache. Are you sure you want to continue? [y/N] "
            guard force || DockerPrune.ask(warning) else { return }
            Console.out(DockerPrune.total([try Self.prune(global.client, all: all)]))
        }
    }

    /// The space counts even when no cache entry went (the CLI's CachePrune reports it so).
    static func prune(_ client: DockerClient, all: Bool) throws -> DockerPrune.Outcome {
        let report = try DockerPrune.post(client, "/build/prune", filters: [:], query: all ? [("all", "1")] : [])
        let deleted = (report["CachesDeleted"]?.arrayValue ?? []).compactMap(\.stringValue)
        return DockerPrune.Outcome(section: DockerPrune.section("Deleted build cache objects", deleted),
                                   reclaimed: report["SpaceReclaimed"]?.intValue ?? 0)
    }
}
