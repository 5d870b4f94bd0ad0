import Foundation
import Platform

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
    public var createdSeconds: Int64 { Self.unixSeconds(created) }

    /// An RFC 3339 timestamp (with or without fractions) as unix seconds; 0 when absent or unparsable.
    static func unixSeconds(_ text: String?) -> Int64 {
        guard let text else { return 0 }
        if let date = ISO8601DateFormatter.withFractions.date(from: text) { return Int64(date.timeIntervalSince1970) }
        if let date = ISO8601DateFormatter().date(from: text) { return Int64(date.timeIntervalSince1970) }
        return 0
    }
}

/// One step of an image's history, as `docker history` lists it.
public struct ImageHistoryStep: Sendable, Equatable {
    public var created: Int64
    public var createdBy: String
    public var comment: String
    /// The unpacked size of the layer the step made; 0 for a step that made none.
    public var size: Int64
}

extension ImageRecord {
    /// The config's history, oldest first, each step given the size of its layer: steps marked
    /// `empty_layer` made none, the others take the image's layers in order (dockerd's
    /// ImageHistory). An image without history has no steps.
    public func historySteps() throws -> [ImageHistoryStep] {
        var remaining = layers[...]
        return try (config.history ?? []).map { entry in
            var size: Int64 = 0
            if entry["empty_layer"] != .bool(true) {
                guard let layer = remaining.popFirst() else {
                    throw OnekubeError(.internalError, "history of image \(id): too many non-empty layers in History section")
                }
                size = layer.size
            }
            return ImageHistoryStep(created: ImageConfig.unixSeconds(entry["created"]?.stringValue),
                                    createdBy: entry["created_by"]?.stringValue ?? "", comment: entry["comment"]?.stringValue ?? "",
                                    size: size)
        }
    }
}
