import Foundation
import Glibc
import HTTPClient
import Logging
import Platform

/// A pull whose manifest and config are resolved: everything that can fail before any progress is
/// shown has failed already (so the Docker API can answer with an HTTP error, as Docker does).
public struct PullPlan: Sendable {
    public let reference: ImageReference
    let client: RegistryRepositoryClient
    /// What the reference points to (an index or a manifest): its digest is the repo digest.
    let top: FetchedManifest
    let manifest: FetchedManifest
    let manifestValue: ImageManifest
    let configBytes: [UInt8]
    public let config: ImageConfig
    public let imageID: Digest
    let chainIDs: [Digest]
    public let upToDate: Bool
    public var repoDigest: Digest { top.digest }
}

/// Resolves references against registries and downloads and unpacks images into the stores.
/// Layers download in parallel (three at a time, like Docker) and each is unpacked as soon as it
/// has arrived: layers live in separate directories, so their order does not matter until a
/// container stacks them.
final class ImagePuller: Sendable {
    let registry: RegistryConfiguration
    let http: CurlHTTPClient
    let tokens = TokenCache()
    let content: ContentStore
    let layers: LayerStore
    let store: ImageStore
    let platform: PlatformSelector
    let logger: Logger
    let downloads = SingleFlight<Digest>()
    let unpacks = SingleFlight<Digest>()
    let limiter = AsyncLimiter(limit: 3)

    init(registry: RegistryConfiguration, http: CurlHTTPClient, content: ContentStore, layers: LayerStore,
         store: ImageStore, platform: PlatformSelector, logger: Logger) {
        self.registry = registry
        self.http = http
        self.content = content
        self.layers = layers
        self.store = store
        self.platform = platform
        self.logger = logger
    }

    func prepare(_ reference: ImageReference, credential: RegistryCredential?) async throws -> PullPlan {
        let endpoints = registry.endpoints(for: reference.domain)
        var lastError: Error?
        for endpoint in endpoints {
            let client = RegistryRepositoryClient(
                endpoint: endpoint, reference: reference, credential: endpoint.isMirror ? nil : credential,
                http: http, tokens: tokens, logger: logger)
            do {
                return try await prepare(reference, client: client)
            } catch {
                lastError = error
                // A mirror that fails is skipped, as Docker's registry-mirrors are.
                guard endpoint.isMirror else { throw error }
                logger.info("mirror failed, trying the next endpoint", metadata: ["mirror": "\(endpoint.baseURL)", "error": "\(error)"])
            }
        }
        throw lastError ?? OnekubeError(.notFound, "no registry endpoint for \(reference.domain)")
    }

    private func prepare(_ reference: ImageReference, client: RegistryRepositoryClient) async throws -> PullPlan {
        let top = try await client.fetchManifest(reference.registryReference)
        var manifest = top
        if MediaType.isSchema1(top.mediaType) {
            throw OnekubeError(.unsupported, """
                [DEPRECATION NOTICE] Docker Image Format v1 and Docker Image manifest version 2, schema 1 support is disabled by default \
                and will be removed in an upcoming release. Suggest the author of \(reference.familiarString) to upgrade the image to \
                the OCI Format or Docker Image manifest v2, schema 2.
                """)
        }
        if MediaType.isIndex(top.mediaType) {
            let index = try decode(ImageIndex.self, top.bytes, what: "image index of \(reference.familiarString)")
            guard let chosen = platform.select(from: index) else {
                throw OnekubeError(.notFound, "no matching manifest for \(platform.description) in the manifest list entries")
            }
            manifest = try await client.fetchManifest(chosen.digest.description)
            guard manifest.digest == chosen.digest else {
                throw OnekubeError(.digestMismatch, "manifest verification failed for digest \(chosen.digest)")
            }
        }
        guard MediaType.isManifest(manifest.mediaType) else {
            throw OnekubeError(.unsupported, "unsupported manifest media type \(manifest.mediaType) for \(reference.familiarString)")
        }
        let value = try decode(ImageManifest.self, manifest.bytes, what: "manifest of \(reference.familiarString)")
        let configBytes: [UInt8]
        if content.contains(value.config.digest), let local = try? content.read(value.config.digest),
           Digest.sha256(of: local) == value.config.digest {
            configBytes = local
        } else {
            configBytes = try await client.fetchBlob(value.config)
        }
        let config = try decode(ImageConfig.self, configBytes, what: "image config \(value.config.digest)")
        guard config.rootfs.diffIDs.count == value.layers.count else {
            throw OnekubeError(.invalidArgument, "image \(reference.familiarString) is invalid: \(value.layers.count) layers but \(config.rootfs.diffIDs.count) diff_ids in its config")
        }
        if let rate = top.rateLimitRemaining, rate < 10 {
            logger.warning("registry pull rate limit is low", metadata: ["remaining": "\(rate)"])
        }
        let chainIDs = LayerStore.chainIDs(config.rootfs.diffIDs)
        let imageID = value.config.digest
        let tagName = reference.tag.map { reference.withTag($0).description }
        let upToDate = try (tagName.map { try store.imageID(forTag: $0) == imageID } ?? (store.image(imageID) != nil))
            && chainIDs.allSatisfy { layers.contains($0) }
        return PullPlan(reference: reference, client: client, top: top, manifest: manifest, manifestValue: value,
                        configBytes: configBytes, config: config, imageID: imageID, chainIDs: chainIDs, upToDate: upToDate)
    }

    private func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(bytes))
        } catch {
            throw OnekubeError(.invalidArgument, "cannot parse \(what)", cause: "\(error)")
        }
    }

    func execute(_ plan: PullPlan, progress: @escaping @Sendable (PullEvent) -> Void) async throws -> ImageRecord {
        let reference = plan.reference
        progress(.pullingFrom(reference: reference.tag ?? plan.repoDigest.description, repository: reference.path))
        if let rate = plan.top.rateLimitRemaining, rate < 10 {
            progress(.status("Docker Hub pull rate limit: \(rate) pulls left in this window"))
        }
        let descriptors = plan.manifestValue.layers
        var records: [LayerRecord] = []
        if !plan.upToDate {
            for (index, descriptor) in descriptors.enumerated() where !layers.contains(plan.chainIDs[index]) {
                progress(.layer(id: descriptor.digest.shortHex, .pullingFsLayer))
            }
            for (index, descriptor) in descriptors.enumerated() where layers.contains(plan.chainIDs[index]) {
                progress(.layer(id: descriptor.digest.shortHex, .alreadyExists))
            }
            records = try await withThrowingTaskGroup(of: (Int, LayerRecord).self) { group in
                for (index, descriptor) in descriptors.enumerated() {
                    group.addTask {
                        (index, try await self.fetchLayer(plan, index: index, descriptor: descriptor, progress: progress))
                    }
                }
                var results = [LayerRecord?](repeating: nil, count: descriptors.count)
                for try await (index, record) in group { results[index] = record }
                return results.compactMap { $0 }
            }
        } else {
            records = try descriptors.enumerated().map { index, descriptor in
                LayerRecord(chainID: plan.chainIDs[index], diffID: plan.config.rootfs.diffIDs[index], blob: descriptor.digest,
                            mediaType: descriptor.mediaType, compressedSize: descriptor.size, size: try layers.size(plan.chainIDs[index]))
            }
        }

        try content.write(plan.configBytes, digest: plan.imageID)
        try content.write(plan.manifest.bytes, digest: plan.manifest.digest)
        try content.write(plan.top.bytes, digest: plan.top.digest)
        let record = ImageRecord(
            id: plan.imageID, configBytes: plan.configBytes, config: plan.config,
            manifestDigest: plan.manifest.digest, manifestMediaType: plan.manifest.mediaType, layers: records,
            size: records.reduce(0) { $0 + $1.size }, created: plan.config.createdSeconds,
            tags: [], repoDigests: [], lastTagTime: nil)
        let blobs = [plan.imageID, plan.manifest.digest, plan.top.digest] + descriptors.map(\.digest)
        try store.save(record, blobs: blobs, tag: reference.tag.map { reference.withTag($0).description },
                       repoDigest: reference.withDigest(plan.repoDigest).description)

        progress(.status("Digest: \(plan.repoDigest)"))
        let shown = reference.tag.map { reference.withTag($0).familiarString } ?? reference.familiarString
        progress(.status(plan.upToDate ? "Status: Image is up to date for \(shown)" : "Status: Downloaded newer image for \(shown)"))
        return try store.image(plan.imageID) ?? record
    }

    private func fetchLayer(
        _ plan: PullPlan, index: Int, descriptor: Descriptor, progress: @escaping @Sendable (PullEvent) -> Void
    ) async throws -> LayerRecord {
        let chainID = plan.chainIDs[index]
        let diffID = plan.config.rootfs.diffIDs[index]
        let id = descriptor.digest.shortHex
        if !layers.contains(chainID) {
            if !content.contains(descriptor.digest) {
                if !limiter.hasFreeSlot { progress(.layer(id: id, .waiting)) }
                _ = try await limiter.withSlot {
                    try await downloads.run(descriptor.digest) {
                        if self.content.contains(descriptor.digest) { return }
                        let throttle = ProgressThrottle()
                        try await plan.client.downloadBlob(descriptor, to: self.content.ingestPath(descriptor.digest)) { current in
                            if throttle.shouldReport(current, total: descriptor.size) {
                                progress(.layer(id: id, .downloading(current: current, total: descriptor.size)))
                            }
                        }
                        try self.content.commitIngest(descriptor.digest)
                    }
                }
                progress(.layer(id: id, .verifyingChecksum))
                progress(.layer(id: id, .downloadComplete))
            }
            try await unpacks.run(chainID) {
                if self.layers.contains(chainID) { return }
                let throttle = ProgressThrottle()
                try await self.layers.unpack(blob: self.content.path(descriptor.digest), chainID: chainID, expectedDiffID: diffID) { current in
                    if throttle.shouldReport(current, total: descriptor.size) {
                        progress(.layer(id: id, .extracting(current: current, total: descriptor.size)))
                    }
                }
            }
            progress(.layer(id: id, .pullComplete))
        }
        return LayerRecord(chainID: chainID, diffID: diffID, blob: descriptor.digest, mediaType: descriptor.mediaType,
                           compressedSize: descriptor.size, size: try layers.size(chainID))
    }
}

/// Reports progress at most every 100 ms (and always at the end), as docker's progress does.
final class ProgressThrottle: @unchecked Sendable {
    private var last: UInt64 = 0

    func shouldReport(_ current: Int64, total: Int64) -> Bool {
        let now = DispatchTime.now().uptimeNanoseconds
        if current >= total || now - last >= 100_000_000 {
            last = now
            return true
        }
        return false
    }
}
