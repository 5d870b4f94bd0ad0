import Foundation

/// One layer of a stored image.
public struct LayerRecord: Codable, Sendable, Equatable {
    /// Names the unpacked directory `layers/<chainID hex>` (shared by every image with this stack).
    public var chainID: Digest
    public var diffID: Digest
    /// The compressed blob as the registry served it.
    public var blob: Digest
    public var mediaType: String
    public var compressedSize: Int64
    public var size: Int64
}

/// An image as the store keeps it. `id` is the config digest, as in Docker.
public struct ImageRecord: Sendable {
    public var id: Digest
    public var configBytes: [UInt8]
    public var config: ImageConfig
    public var manifestDigest: Digest?
    public var manifestMediaType: String?
    public var layers: [LayerRecord]
    public var size: Int64
    /// Unix seconds of `config.created`.
    public var created: Int64
    /// Full names with tags: `docker.io/library/busybox:latest`.
    public var tags: [String]
    /// Full names with digests: `docker.io/library/busybox@sha256:…`.
    public var repoDigests: [String]
    public var lastTagTime: Int64?

    public var familiarTags: [String] {
        tags.compactMap { try? ImageReference.parseNormalized($0).familiarString }
    }

    public var familiarRepoDigests: [String] {
        repoDigests.compactMap { try? ImageReference.parseNormalized($0).familiarString }
    }
}

extension ImageConfig {
    /// `created` as unix seconds (0 when absent or unparsable, as for images built without a date).
    public var createdSeconds: Int64 {
        guard let created else { return 0 }
        if let date = ISO8601DateFormatter.withFractions.date(from: created) { return Int64(date.timeIntervalSince1970) }
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: created) { return Int64(date.timeIntervalSince1970) }
        return 0
    }
}
