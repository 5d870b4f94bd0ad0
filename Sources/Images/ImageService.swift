import Foundation
import HTTPClient
import Logging
import Platform
import SQLite

/// One line of `docker rmi` output.
public enum ImageDeleteItem: Sendable, Equatable {
    case untagged(String)
    case deleted(String)
}

/// The image subsystem as the rest of onekube sees it: pull, look up, tag, remove, collect garbage.
public final class ImageService: Sendable {
    public let content: ContentStore
    public let layers: LayerStore
    public let store: ImageStore
    let puller: ImagePuller
    let logger: Logger

    public init(dataDirectory: String, database: SQLiteDatabase, registry: RegistryConfiguration,
                http: CurlHTTPClient = .shared, platform: PlatformSelector = .host, logger: Logger) throws {
        content = try ContentStore(root: dataDirectory + "/blobs")
        layers = try LayerStore(root: dataDirectory + "/layers")
        store = try ImageStore(database: database)
        puller = ImagePuller(registry: registry, http: http, content: content, layers: layers, store: store,
                             platform: platform, logger: logger)
        self.logger = logger
    }

    // MARK: pull

    /// Resolves manifest and config; errors here come before any progress.
    public func preparePull(_ reference: ImageReference, credential: RegistryCredential?) async throws -> PullPlan {
        try await puller.prepare(reference, credential: credential)
    }

    public func executePull(_ plan: PullPlan, progress: @escaping @Sendable (PullEvent) -> Void) async throws -> ImageRecord {
        try await puller.execute(plan, progress: progress)
    }

    public func pull(_ reference: ImageReference, credential: RegistryCredential?,
                     progress: @escaping @Sendable (PullEvent) -> Void = { _ in }) async throws -> ImageRecord {
        try await executePull(try await preparePull(reference, credential: credential), progress: progress)
    }

    // MARK: look-up

    public func list() throws -> [ImageRecord] { try store.allImages() }

    /// How a user named an image: by ID (full or prefix) or by reference.
    public enum Resolution: Sendable {
        case byID(ImageRecord)
        case byTag(ImageRecord, tag: String)
        case byDigest(ImageRecord, name: String)

        public var image: ImageRecord {
            switch self {
            case .byID(let i), .byTag(let i, _), .byDigest(let i, _): return i
            }
        }
    }

    /// Docker's order: a full `sha256:` ID, then the name as a reference, then an ID prefix.
    public func resolve(_ name: String) throws -> Resolution {
        if let digest = try? Digest(parsing: name), digest.algorithm == "sha256", !name.contains("/"),
           let image = try store.image(digest) {
            return .byID(image)
        }
        if let reference = try? ImageReference.parse(name) {
            if let digest = reference.digest {
                let key = reference.withDigest(digest).description
                if let id = try store.imageID(forRepoDigest: key), let image = try store.image(id) {
                    return .byDigest(image, name: key)
                }
            } else if let tag = reference.tag {
                let key = reference.withTag(tag).description
                if let id = try store.imageID(forTag: key), let image = try store.image(id) {
                    return .byTag(image, tag: key)
                }
            }
        }
        let hex = name.hasPrefix("sha256:") ? String(name.dropFirst(7)) : name
        if !hex.isEmpty, hex.count <= 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) {
            let matches = try store.imageIDs(withPrefix: hex)
            if matches.count == 1, let image = try store.image(matches[0]) { return .byID(image) }
            if matches.count > 1 {
                throw OnekubeError(.invalidArgument, "multiple IDs found with provided prefix: \(hex)")
            }
        }
        throw OnekubeError(.notFound, "No such image: \(name)")
    }

    // MARK: tag and remove

    public func tag(_ source: String, as target: ImageReference) throws {
        let image = try resolve(source).image
        guard let tag = target.tag, target.digest == nil else {
            throw OnekubeError(.invalidArgument, "refusing to create a tag with a digest reference")
        }
        try store.tag(target.withTag(tag).description, imageID: image.id)
    }

    /// `docker rmi`: untags what was named; deletes the image when nothing refers to it any more.
    public func remove(_ name: String, force: Bool, prune: Bool = true) throws -> [ImageDeleteItem] {
        let resolution = try resolve(name)
        let image = resolution.image
        var items: [ImageDeleteItem] = []
        func familiar(_ full: String) -> String {
            (try? ImageReference.parseNormalized(full).familiarString) ?? full
        }
        switch resolution {
        case .byTag(_, let tag):
            try store.untag(tag)
            items.append(.untagged(familiar(tag)))
            // With no tag left in that repository, its digest references go too (as in moby).
            let repository = (try? ImageReference.parseNormalized(tag).name) ?? ""
            if let current = try store.image(image.id),
               !current.tags.contains(where: { (try? ImageReference.parseNormalized($0).name) == repository }) {
                for digestName in current.repoDigests where (try? ImageReference.parseNormalized(digestName).name) == repository {
                    try store.removeRepoDigest(digestName)
                    items.append(.untagged(familiar(digestName)))
                }
            }
        case .byDigest(_, let digestName):
            try store.removeRepoDigest(digestName)
            items.append(.untagged(familiar(digestName)))
        case .byID:
            let repositories = Set(image.tags.compactMap { try? ImageReference.parseNormalized($0).name })
            if repositories.count > 1 && !force {
                throw OnekubeError(.conflict, "conflict: unable to delete \(image.id.shortHex) (must be forced) - image is referenced in multiple repositories")
            }
            for tag in image.tags {
                try store.untag(tag)
                items.append(.untagged(familiar(tag)))
            }
            for digestName in image.repoDigests {
                try store.removeRepoDigest(digestName)
                items.append(.untagged(familiar(digestName)))
            }
        }
        guard let remaining = try store.image(image.id) else { return items }
        // An image goes when no tag or digest reference is left.
        if remaining.tags.isEmpty && remaining.repoDigests.isEmpty {
            try store.delete(image.id)
            items.append(.deleted(image.id.description))
            if prune {
                let liveChains = try store.referencedChains()
                for layer in image.layers.reversed() where !liveChains.contains(layer.chainID) {
                    try layers.delete(layer.chainID)
                    items.append(.deleted(layer.chainID.description))
                }
                try collectBlobs()
            }
        }
        return items
    }

    /// Removes blobs no image references (except those a running pull is fetching).
    public func collectBlobs() throws {
        let live = try store.referencedBlobs().union(puller.downloads.keys)
        for digest in content.allDigests() where !live.contains(digest) {
            content.delete(digest)
        }
    }

    /// At start-up: what a crashed daemon left (half-unpacked layers, orphan layers and blobs).
    public func recoverAfterCrash() throws {
        layers.removeTemporaries()
        let liveChains = try store.referencedChains()
        for chain in layers.allChainIDs() where !liveChains.contains(chain) {
            try layers.delete(chain)
        }
        try collectBlobs()
    }
}
