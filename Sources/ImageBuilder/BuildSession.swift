import ContainerRuntime
import Foundation
import Images
import Platform

/// One build as it runs: its stages, the step counter, and the output.
final class BuildSession: @unchecked Sendable {
    let builder: ImageBuilder
    let build: PreparedBuild
    let output: @Sendable (BuildMessage) -> Void
    var options: BuildOptions { build.options }
    var images: ImageService { builder.images }
    var escape: Character { build.dockerfile.escape }

    /// Finished and running stages, in order.
    var stages: [BuildStage] = []
    /// ARGs declared before the first FROM (they expand only in FROM lines).
    var metaArguments: [String: String] = [:]
    var step = 0
    var totalSteps = 0
    var scratchCounter = 0

    init(builder: ImageBuilder, build: PreparedBuild, output: @escaping @Sendable (BuildMessage) -> Void) {
        self.builder = builder
        self.build = build
        self.output = output
    }

    func say(_ text: String) {
        if !options.quiet { output(.stream(text)) }
    }

    static func short(_ imageID: String) -> String {
        let hex = imageID.hasPrefix("sha256:") ? imageID.dropFirst(7) : Substring(imageID)
        return String(hex.prefix(12))
    }

    /// A fresh directory inside the build's work directory.
    func scratchDirectory(_ name: String) throws -> String {
        scratchCounter += 1
        let path = build.work + "/\(name)-\(scratchCounter)"
        try FileSystem.createDirectory(path, mode: 0o755)
        return path
    }

    func run() async throws -> Digest {
        var instructions = build.dockerfile.instructions
        // `--label k=v` becomes a LABEL at the end of the last stage, as in moby.
        if !options.labels.isEmpty {
            let text = options.labels.keys.sorted().map { "\"\($0)\"='\(options.labels[$0] ?? "")'" }.joined(separator: " ")
            instructions.append(DockerfileInstruction(keyword: "LABEL", flags: [:], arguments: text, json: nil,
                                                      line: (instructions.last?.line ?? 0) + 1, original: "LABEL " + text))
        }
        totalSteps = instructions.count
        for instruction in instructions {
            // `--target`: the build ends where the next stage would begin.
            if instruction.keyword == "FROM", let target = options.target, stages.last?.name == target { break }
            step += 1
            say("Step \(step)/\(totalSteps) : \(instruction.original)\n")
            try await dispatch(instruction)
        }
        if let target = options.target, stages.last?.name != target {
            throw OnekubeError(.invalidArgument, "failed to reach build target \(target) in Dockerfile")
        }
        guard let final = stages.last else {
            throw OnekubeError(.invalidArgument, "No image was generated. Is your Dockerfile empty?")
        }
        return try finish(final)
    }

    func dispatch(_ instruction: DockerfileInstruction) async throws {
        if instruction.keyword == "FROM" {
            try await from(instruction)
            return
        }
        if instruction.keyword == "ARG" && stages.isEmpty {
            for (name, value) in try argument(instruction) { metaArguments[name] = options.buildArgs[name] ?? value ?? "" }
            return
        }
        guard var stage = stages.popLast() else {
            throw OnekubeError(.invalidArgument, "Dockerfile parse error line \(instruction.line): \(instruction.keyword) before FROM")
        }
        defer { stages.append(stage) }
        switch instruction.keyword {
        case "RUN": try await runStep(instruction, stage: &stage)
        case "COPY", "ADD": try await copyStep(instruction, stage: &stage)
        default: try await metadataStep(instruction, stage: &stage)
        }
    }

    /// `ARG name[=default]…`: the names with their defaults.
    func argument(_ instruction: DockerfileInstruction) throws -> [(String, String?)] {
        let words = try ShellWords(escape: escape, environment: [:]).words(instruction.arguments)
        return words.map { word in
            guard let equals = word.firstIndex(of: "=") else { return (word, nil) }
            return (String(word[..<equals]), String(word[word.index(after: equals)...]))
        }
    }

    // MARK: steps and the cache

    /// Runs one step, or takes its result from the cache: `work` changes the stage (its config) and
    /// returns the layer it made, if any.
    func perform(_ stage: inout BuildStage, key: String, createdBy: String,
                 work: (inout BuildStage) async throws -> LayerRecord?) async throws {
        if !options.noCache, let hit = try images.store.buildCacheEntry(parent: stage.imageID, key: key),
           hit.layers.allSatisfy({ images.layers.contains($0.chainID) }) {
            try stage.adopt(hit)
            say(" ---> Using cache\n")
            say(" ---> \(Self.short(stage.imageID))\n")
            return
        }
        let parent = stage.imageID
        var next = stage
        let layer = try await work(&next)
        let configBytes = try next.commit(createdBy: createdBy, layer: layer)
        try images.store.recordBuildCacheEntry(parent: parent, key: key, BuildCacheEntry(
            imageID: try Digest(parsing: next.imageID), configBytes: configBytes, layers: next.layers))
        stage = next
        say(" ---> \(Self.short(stage.imageID))\n")
    }

    /// Turns a finished upper directory into the stage's next layer (blob in the content store,
    /// unpacked like a pulled layer).
    func commitLayer(upper: String, stage: BuildStage) async throws -> LayerRecord {
        let content = images.content
        let blob = content.temporaryPath()
        let written: WrittenLayerBlob
        do {
            written = try await onDedicatedThread(name: "onekube-layer") {
                try LayerArchiver.archive(upperDirectory: upper, to: blob)
            }
            try content.adopt(file: blob, digest: written.digest)
        } catch {
            unlink(blob)
            throw error
        }
        let stack = stage.layers.map {
            LocalLayer(blob: $0.blob, diffID: $0.diffID, compressedSize: $0.compressedSize, mediaType: $0.mediaType)
        } + [LocalLayer(blob: written.digest, diffID: written.diffID, compressedSize: written.compressedSize)]
        guard let layer = try await images.unpackLocalLayers(stack).last else {
            throw OnekubeError(.internalError, "no layer recorded for \(upper)")
        }
        return layer
    }

    // MARK: the end

    func finish(_ stage: BuildStage) throws -> Digest {
        let imageID = try Digest(parsing: stage.imageID)
        if try images.store.image(imageID) != nil {
            for tag in options.tags { try images.tag(imageID.description, as: tag) }
        } else {
            let configBytes = stage.configBytes
            guard Digest.sha256(of: configBytes) == imageID else {
                throw OnekubeError(.internalError, "the final config of the build does not hash to \(imageID)")
            }
            try images.storeLocalImage(configBytes: configBytes, layers: stage.layers, tags: options.tags)
        }
        output(.imageID(imageID.description))
        if options.quiet {
            output(.stream(imageID.description + "\n"))
        } else {
            say("Successfully built \(imageID.shortHex)\n")
            for tag in options.tags { say("Successfully tagged \(tag.familiarString)\n") }
        }
        return imageID
    }
}
