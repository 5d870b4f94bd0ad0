import Foundation
import Glibc
import Platform

/// A layer blob made on this machine (a build step, a loaded archive), already in the content store.
public struct LocalLayer: Sendable {
    public var blob: Digest
    public var diffID: Digest
    public var compressedSize: Int64
    public var mediaType: String

    public init(blob: Digest, diffID: Digest, compressedSize: Int64, mediaType: String = MediaType.dockerLayerGzip) {
        self.blob = blob
        self.diffID = diffID
        self.compressedSize = compressedSize
        self.mediaType = mediaType
    }
}

extension ContentStore {
    /// Moves a verified file (written by the caller inside the data directory) into place.
    public func adopt(file: String, digest: Digest) throws {
        if contains(digest) {
            unlink(file)
            return
        }
        guard rename(file, path(digest)) == 0 else { throw SystemError("rename", path: file) }
    }

    /// A fresh path for a blob being written, on the content store's file system.
    public func temporaryPath() -> String {
        "\(root)/ingest/local-\(UInt64.random(in: 0...UInt64.max)).tmp"
    }
}

extension ImageService {
    /// Unpacks a local layer stack (those not yet unpacked) and describes it as the store does.
    public func unpackLocalLayers(_ layers: [LocalLayer]) async throws -> [LayerRecord] {
        let chainIDs = LayerStore.chainIDs(layers.map(\.diffID))
        var records: [LayerRecord] = []
        for (layer, chainID) in zip(layers, chainIDs) {
            if !self.layers.contains(chainID) {
                try await self.layers.unpack(blob: content.path(layer.blob), chainID: chainID, expectedDiffID: layer.diffID) { _ in }
            }
            records.append(LayerRecord(chainID: chainID, diffID: layer.diffID, blob: layer.blob, mediaType: layer.mediaType,
                                       compressedSize: layer.compressedSize, size: try self.layers.size(chainID)))
        }
        return records
    }

    /// Stores an image made here (`docker build`, `docker load`) as an ordinary local image: the
    /// config and a Docker v2 manifest go to the content store (so save and push find them), the
    /// layers are unpacked, and `tags` (full references) point at it.
    @discardableResult
    public func storeLocalImage(configBytes: [UInt8], layers: [LayerRecord], tags: [ImageReference]) throws -> ImageRecord {
        let config: ImageConfig
        do {
            config = try JSONDecoder().decode(ImageConfig.self, from: Data(configBytes))
        } catch {
            throw OnekubeError(.invalidArgument, "invalid image config", cause: "\(error)")
        }
        let imageID = Digest.sha256(of: configBytes)
        let (manifestType, configType, layers) = Self.manifestFlavor(layers)
        let manifest = OrderedJSON.object([
            ("schemaVersion", .int(2)),
            ("mediaType", .string(manifestType)),
            ("config", .object([("mediaType", .string(configType)), ("size", .int(Int64(configBytes.count))),
                                ("digest", .string(imageID.description))])),
            ("layers", .array(layers.map { layer in
                .object([("mediaType", .string(layer.mediaType)), ("size", .int(layer.compressedSize)),
                         ("digest", .string(layer.blob.description))])
            })),
        ])
        let manifestBytes = manifest.serializedBytes()
        let manifestDigest = Digest.sha256(of: manifestBytes)
        try content.write(configBytes, digest: imageID)
        try content.write(manifestBytes, digest: manifestDigest)
        let record = ImageRecord(
            id: imageID, configBytes: configBytes, config: config, manifestDigest: manifestDigest,
            manifestMediaType: manifestType, layers: layers, size: layers.reduce(0) { $0 + $1.size },
            created: config.createdSeconds, tags: [], repoDigests: [], lastTagTime: nil)
        let named = tags.compactMap { reference in reference.tag.map { reference.withTag($0).description } }
        try store.save(record, blobs: [imageID, manifestDigest] + layers.map(\.blob), tag: named.first, repoDigest: nil)
        for name in named.dropFirst() { try store.tag(name, imageID: imageID) }
        return try store.image(imageID) ?? record
    }
}

extension ImageService {
    /// A Docker v2 manifest unless a layer is zstd, which only OCI can name; the layers' media
    /// types are relabelled to the chosen format (a gzip tar is the same bytes in both), since a
    /// built image mixes pulled OCI layers with its own.
    static func manifestFlavor(_ layers: [LayerRecord]) -> (manifest: String, config: String, layers: [LayerRecord]) {
        let oci = layers.contains { MediaType.layerCompression($0.mediaType) == .zstd }
        let relabelled = layers.map { layer -> LayerRecord in
            var layer = layer
            switch (MediaType.layerCompression(layer.mediaType), oci) {
            case (.gzip?, true) where layer.mediaType == MediaType.dockerLayerGzip: layer.mediaType = MediaType.ociLayerGzip
            case (.gzip?, false) where layer.mediaType == MediaType.ociLayerGzip: layer.mediaType = MediaType.dockerLayerGzip
            case (MediaType.Compression.none?, false) where layer.mediaType == MediaType.ociLayer:
                layer.mediaType = "application/vnd.docker.image.rootfs.diff.tar"
            default: break
            }
            return layer
        }
        return oci ? (MediaType.ociManifest, MediaType.ociConfig, relabelled) : (MediaType.dockerManifest, MediaType.dockerConfig, relabelled)
    }
}

extension ImageService {
    /// `docker builder prune`: the build cache goes, then every layer and blob no image uses.
    /// Returns the cached step images forgotten and the bytes of layer content freed.
    public func pruneBuildCache() throws -> (deleted: [Digest], reclaimed: Int64) {
        let deleted = try store.clearBuildCache()
        let live = try store.referencedChains()
        var reclaimed: Int64 = 0
        for chain in layers.allChainIDs() where !live.contains(chain) {
            reclaimed += (try? layers.size(chain)) ?? 0
            try layers.delete(chain)
        }
        try collectBlobs()
        return (deleted, reclaimed)
    }
}
