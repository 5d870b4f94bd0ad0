import Foundation
import Platform

/// Progress of a push, in the steps docker reports.
public enum PushEvent: Sendable, Equatable {
    /// A line without an id (`The push refers to repository […]`).
    case status(String)
    /// `<id>: Preparing`, `Pushed`, `Layer already exists`, `Mounted from library/busybox`.
    case layer(id: String, status: String)
    case pushing(id: String, current: Int64, total: Int64)
    /// The end: `<tag>: digest: <digest> size: <n>` and the aux record.
    case pushed(tag: String, digest: Digest, size: Int)
}

extension ImageService {
    /// The local image `docker push` means (a tag, as docker requires); errors here come before
    /// any output.
    public func imageToPush(_ reference: ImageReference) throws -> ImageRecord {
        guard let tag = reference.tag, let id = try store.imageID(forTag: reference.withTag(tag).description),
              let image = try store.image(id) else {
            throw OnekubeError(.notFound, "An image does not exist locally with the tag: \(reference.familiarName)")
        }
        guard image.manifestDigest != nil, image.manifestMediaType != nil else {
            throw OnekubeError(.unsupported, "image \(reference.familiarString) has no manifest to push")
        }
        return image
    }

    /// Pushes an image's blobs and manifest to `reference`'s repository: blobs the registry has are
    /// skipped, blobs another repository of the registry holds are mounted, the rest uploaded.
    public func push(_ image: ImageRecord, as reference: ImageReference, credential: RegistryCredential?,
                     progress: @escaping @Sendable (PushEvent) -> Void) async throws {
        guard let tag = reference.tag, let manifestDigest = image.manifestDigest, let mediaType = image.manifestMediaType else {
            throw OnekubeError(.invalidArgument, "nothing to push for \(reference.familiarString)")
        }
        // Pushes go to the registry itself, never to a pull mirror.
        let endpoint = reference.domain == ImageReference.defaultDomain
            ? RegistryEndpoint(baseURL: "https://registry-1.docker.io", isMirror: false)
            : puller.registry.endpoints(for: reference.domain).first ?? RegistryEndpoint(baseURL: "https://\(reference.domain)", isMirror: false)
        let client = RegistryRepositoryClient(endpoint: endpoint, reference: reference, credential: credential,
                                              http: puller.http, tokens: puller.tokens, logger: logger)
        progress(.status("The push refers to repository [\(reference.name)]"))
        let layers = image.layers.reversed()
        for layer in layers { progress(.layer(id: layer.diffID.shortHex, status: "Preparing")) }
        for layer in layers {
            let id = layer.diffID.shortHex
            if try await client.blobExists(layer.blob) {
                progress(.layer(id: id, status: "Layer already exists"))
                continue
            }
            var mounted = false
            for source in try mountSources(for: layer.blob, domain: reference.domain, except: reference.path) {
                if try await client.mountBlob(layer.blob, from: source) {
                    progress(.layer(id: id, status: "Mounted from \(source)"))
                    mounted = true
                    break
                }
            }
            if mounted { continue }
            let size = layer.compressedSize
            try await client.uploadBlob(path: content.path(layer.blob), digest: layer.blob, size: size) { sent in
                progress(.pushing(id: id, current: sent, total: size))
            }
            progress(.layer(id: id, status: "Pushed"))
        }
        if !(try await client.blobExists(image.id)) {
            try await client.uploadBlob(path: content.path(image.id), digest: image.id, size: Int64(image.configBytes.count)) { _ in }
        }
        let manifest = try content.read(manifestDigest)
        let digest = try await client.putManifest(manifest, mediaType: mediaType, tag: tag)
        // As docker does, the image now knows its digest in that repository.
        try store.addRepoDigest(reference.withDigest(digest).description, imageID: image.id)
        progress(.pushed(tag: tag, digest: digest, size: manifest.count))
    }

    /// Other repositories of the same registry that hold `blob`, by what the local images say.
    func mountSources(for blob: Digest, domain: String, except path: String) throws -> [String] {
        var sources: [String] = []
        for image in try store.allImages() where image.layers.contains(where: { $0.blob == blob }) {
            for name in image.repoDigests + image.tags {
                guard let reference = try? ImageReference.parseNormalized(name), reference.domain == domain,
                      reference.path != path, !sources.contains(reference.path) else { continue }
                sources.append(reference.path)
            }
        }
        return sources
    }
}
