import Foundation
import Glibc
import HTTPServer
import ImageBuilder
import Images
import NIOCore
import NIOHTTP1
import Platform

extension DockerAPI {
    /// `GET /images/get?names=…` and `GET /images/{name}/get`: a docker-archive tar. The archive is
    /// written to a file first, so an unknown name is a plain 404 before any byte.
    func saveImages(_ names: [String]) throws -> HTTPServerResponse {
        guard !names.isEmpty else { throw OnekubeError(.invalidArgument, "no images given to save") }
        var entries: [ImageArchive.Entry] = []
        for name in names {
            let resolution = try images.resolve(name)
            var tags: [String] = []
            if case .byTag(_, let tag) = resolution, let familiar = try? ImageReference.parseNormalized(tag).familiarString {
                tags = [familiar]
            }
            if let index = entries.firstIndex(where: { $0.image.id == resolution.image.id }) {
                entries[index].tags += tags
            } else {
                entries.append(ImageArchive.Entry(image: resolution.image, tags: tags))
            }
        }
        let builder = self.builder
        let images = self.images
        let logger = self.logger
        let chosen = entries
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: "application/x-tar")
        return HTTPServerResponse(status: .ok, headers: headers, body: .stream { writer in
            try await builder.withScratchDirectory { scratch in
                let archive = scratch + "/archive.tar"
                do {
                    try await onDedicatedThread(name: "onekube-save") {
                        try ImageArchive.save(chosen, images: images, to: archive, scratch: scratch)
                    }
                } catch {
                    // Headers are out: closing early is all that is left (the CLI reports a short read).
                    logger.warning("image save failed", metadata: ["error": "\(error)"])
                    throw error
                }
                let fd = open(archive, O_RDONLY | O_CLOEXEC)
                guard fd >= 0 else { throw SystemError("open", path: archive) }
                defer { close(fd) }
                var buffer = [UInt8](repeating: 0, count: 1 << 18)
                while true {
                    let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                    if n < 0 { if errno == EINTR { continue }; throw SystemError("read", path: archive) }
                    if n == 0 { break }
                    try await writer.write(Array(buffer[0..<n]))
                }
            }
        })
    }

    /// `POST /images/load`: a docker-archive or OCI layout tar in the body; `Loaded image: …` lines.
    func loadImages(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        if request.bodyExceededLimit {
            return DockerResponse.error(.badRequest, "the archive is larger than onekube accepts")
        }
        let spooled = request.bodyFile
        let body = spooled == nil ? request.bodyBytes : []
        let images = self.images
        let loaded: [ImageArchive.Loaded]
        do {
            loaded = try await builder.withScratchDirectory { scratch in
                var archive = scratch + "/input.tar"
                if let spooled {
                    archive = spooled
                } else {
                    try FileSystem.writeAtomically(archive, body, mode: 0o600)
                }
                return try await ImageArchive.load(file: archive, images: images, scratch: scratch)
            }
        } catch {
            logger.info("image load failed", metadata: ["error": "\(error)"])
            return DockerResponse.error(error)
        }
        return DockerResponse.stream { out in
            for item in loaded {
                switch item {
                case .tagged(let name): try await out.send(.object([("stream", .string("Loaded image: \(name)\n"))]))
                case .untagged(let id): try await out.send(.object([("stream", .string("Loaded image ID: \(id)\n"))]))
                }
            }
        }
    }
}
