import Foundation
import HTTPServer
import ImageBuilder
import Images
import NIOCore
import Platform

extension DockerAPI {
    /// `POST /build` (the legacy builder the docker CLI uses without buildx): the body is the
    /// context tar; the answer a JSON message stream of `stream` text, the `aux` image ID, and an
    /// `errorDetail` (with a failing RUN's exit code as `code`) when the build fails.
    func build(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        let prepared: PreparedBuild
        do {
            if request.bodyExceededLimit {
                throw OnekubeError(.invalidArgument, "the build context is larger than onekube accepts")
            }
            let options = try Self.buildOptions(request.query)
            let context: ImageBuilder.ContextArchive = request.bodyFile.map { .file($0) } ?? .bytes(request.bodyBytes)
            let builder = self.builder
            // Unpacking the context is blocking file work: off the cooperative threads.
            prepared = try await onDedicatedThread(name: "onekube-build") {
                try builder.prepare(contextArchive: context, options: options)
            }
        } catch {
            // Before any output: a plain error, which the CLI prints as "Error response from daemon".
            return DockerResponse.error(error)
        }
        let builder = self.builder
        let logger = self.logger
        return DockerResponse.stream { out in
            let (messages, continuation) = AsyncStream<BuildMessage>.makeStream()
            async let outcome: Error? = {
                defer { continuation.finish() }
                do {
                    _ = try await builder.run(prepared) { continuation.yield($0) }
                    return nil
                } catch {
                    return error
                }
            }()
            for await message in messages {
                switch message {
                case .stream(let text): try await out.send(.object([("stream", .string(text))]))
                case .pull(let event): try await out.send(Self.jsonMessage(event))
                case .imageID(let id): try await out.send(.object([("aux", .object([("ID", .string(id))]))]))
                }
            }
            if let error = await outcome {
                logger.info("build failed", metadata: ["error": "\(error)"])
                let code = (error as? BuildFailure)?.code ?? 1
                let message = "\(error)"
                try await out.send(.object([
                    ("errorDetail", .object([("code", .int(Int64(code))), ("message", .string(message))])),
                    ("error", .string(message)),
                ]))
            }
        }
    }

    static func buildOptions(_ query: QueryParameters) throws -> BuildOptions {
        var options = BuildOptions()
        if let dockerfile = query["dockerfile"], !dockerfile.isEmpty { options.dockerfile = dockerfile }
        for tag in query.all("t") where !tag.isEmpty {
            let reference: ImageReference
            do {
                reference = try ImageReference.parseNormalized(tag)
            } catch {
                throw OnekubeError(.invalidArgument, "invalid reference format: \(tag)")
            }
            guard reference.digest == nil else { throw OnekubeError(.invalidArgument, "invalid reference format: \(tag)") }
            options.tags.append(reference.tag == nil ? reference.withTag(ImageReference.defaultTag) : reference)
        }
        options.buildArgs = try stringMap(query["buildargs"], name: "buildargs")
        options.labels = try stringMap(query["labels"], name: "labels")
        options.noCache = query.bool("nocache")
        options.pull = query.bool("pull")
        options.quiet = query.bool("q")
        if let target = query["target"], !target.isEmpty { options.target = target.lowercased() }
        return options
    }

    /// `{"X":"1"}` (a null value means "take it from the daemon's environment" in moby; onekube
    /// leaves such an ARG at its default).
    static func stringMap(_ json: String?, name: String) throws -> [String: String] {
        guard let json, !json.isEmpty else { return [:] }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw OnekubeError(.invalidArgument, "invalid \(name): \(json)")
        }
        return object.compactMapValues { $0 as? String }
    }

    /// `POST /build/prune` (`docker builder prune`): the legacy builder's cache is all one kind,
    /// so `all` and `filters` change nothing.
    func pruneBuildCache() throws -> HTTPServerResponse {
        let (deleted, reclaimed) = try images.pruneBuildCache()
        return DockerResponse.json(.object([
            ("CachesDeleted", .array(deleted.map { .string($0.description) })), ("SpaceReclaimed", .int(reclaimed)),
        ]))
    }
}
