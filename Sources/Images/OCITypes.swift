/// OCI / Docker v2 image descriptors, manifests, indexes and configs (the fields onekube uses;
/// manifests are stored verbatim, since their digest is over the exact bytes).
public struct Descriptor: Codable, Sendable, Equatable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var urls: [String]?
    public var annotations: [String: String]?
    public var platform: ImagePlatform?

    public init(mediaType: String, digest: Digest, size: Int64, platform: ImagePlatform? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.platform = platform
    }
}

public struct ImagePlatform: Codable, Sendable, Equatable {
    public var architecture: String
    public var os: String
    public var variant: String?
    public var osVersion: String?

    enum CodingKeys: String, CodingKey {
        case architecture, os, variant
        case osVersion = "os.version"
    }

    public init(architecture: String, os: String, variant: String? = nil) {
        self.architecture = architecture
        self.os = os
        self.variant = variant
    }
}

public struct ImageManifest: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var config: Descriptor
    public var layers: [Descriptor]
    public var annotations: [String: String]?
}

public struct ImageIndex: Codable, Sendable {
    public var schemaVersion: Int
    public var mediaType: String?
    public var manifests: [Descriptor]
    public var annotations: [String: String]?
}

/// The image configuration (`application/vnd.oci.image.config.v1+json`).
public struct ImageConfig: Codable, Sendable {
    public var architecture: String?
    public var os: String?
    public var variant: String?
    public var created: String?
    public var author: String?
    public var config: ContainerConfig?
    public var rootfs: RootFS
    public var history: [JSONValue]?

    public struct RootFS: Codable, Sendable {
        public var type: String
        public var diffIDs: [Digest]
        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }

    public struct ContainerConfig: Codable, Sendable {
        public var User: String?
        public var ExposedPorts: [String: JSONValue]?
        public var Env: [String]?
        public var Entrypoint: [String]?
        public var Cmd: [String]?
        public var Volumes: [String: JSONValue]?
        public var WorkingDir: String?
        public var Labels: [String: String]?
        public var StopSignal: String?
        public var Healthcheck: JSONValue?
        public var Shell: [String]?
        public var OnBuild: [String]?
        public var ArgsEscaped: Bool?

        public init() {}
    }
}
