import Glibc

/// Picks the manifest for the host's platform from an image index, skipping attestation entries
/// and entries of unknown media types (which must not cause errors).
public struct PlatformSelector: Sendable {
    public var os: String
    public var architecture: String
    public var variant: String?

    public init(os: String, architecture: String, variant: String? = nil) {
        self.os = os
        self.architecture = architecture
        self.variant = variant
    }

    /// linux plus the Go-style name of the machine we run on.
    public static var host: PlatformSelector {
        var info = utsname()
        uname(&info)
        let machine = withUnsafeBytes(of: info.machine) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
        switch machine {
        case "x86_64": return PlatformSelector(os: "linux", architecture: "amd64")
        case "aarch64", "arm64": return PlatformSelector(os: "linux", architecture: "arm64", variant: "v8")
        case "armv7l": return PlatformSelector(os: "linux", architecture: "arm", variant: "v7")
        case "i686", "i386": return PlatformSelector(os: "linux", architecture: "386")
        default: return PlatformSelector(os: "linux", architecture: machine)
        }
    }

    public var description: String {
        [os, architecture, variant].compactMap { $0 }.joined(separator: "/")
    }

    public func select(from index: ImageIndex) -> Descriptor? {
        let candidates = index.manifests.filter { descriptor in
            guard MediaType.isManifest(descriptor.mediaType) else { return false }
            if descriptor.annotations?["vnd.docker.reference.type"] == "attestation-manifest" { return false }
            guard let platform = descriptor.platform else { return false }
            return platform.os == os && platform.architecture == architecture
        }
        // An exact variant first; else an entry without a variant (arm64 is often listed bare).
        if let exact = candidates.first(where: { $0.platform?.variant == variant }) { return exact }
        if let bare = candidates.first(where: { $0.platform?.variant == nil }) { return bare }
        return candidates.first
    }
}
