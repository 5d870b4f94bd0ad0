import Foundation

/// The manifest, config and layer media types of Docker and OCI images.
public enum MediaType {
    public static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    public static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    public static let dockerConfig = "application/vnd.docker.container.image.v1+json"
    public static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    public static let dockerForeignLayerGzip = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
    public static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let ociIndex = "application/vnd.oci.image.index.v1+json"
    public static let ociConfig = "application/vnd.oci.image.config.v1+json"
    public static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    public static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    public static let ociLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd"
    public static let schema1 = "application/vnd.docker.distribution.manifest.v1+json"
    public static let schema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws"

    /// What the puller asks for: the four types it handles, plus schema1 so that a registry answers
    /// with it (and the user gets a clear refusal) rather than with a 404.
    public static let manifestAccept = [ociManifest, dockerManifest, dockerManifestList, ociIndex, schema1Signed, schema1]

    public static func isIndex(_ type: String) -> Bool { type == dockerManifestList || type == ociIndex }
    public static func isManifest(_ type: String) -> Bool { type == dockerManifest || type == ociManifest }
    public static func isSchema1(_ type: String) -> Bool { type == schema1 || type == schema1Signed }

    /// Strips parameters (`; charset=utf-8`) from a Content-Type.
    public static func essence(_ contentType: String) -> String {
        contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    }

    public enum Compression: Sendable { case none, gzip, zstd }

    /// How a layer is compressed, from its media type; unknown types are left to detection.
    public static func layerCompression(_ type: String) -> Compression? {
        switch type {
        case dockerLayerGzip, dockerForeignLayerGzip, ociLayerGzip, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip":
            return .gzip
        case ociLayerZstd, "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd": return .zstd
        case ociLayer, "application/vnd.oci.image.layer.nondistributable.v1.tar": return Compression.none
        default: return nil
        }
    }
}

