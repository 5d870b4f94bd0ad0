import Images

/// What `POST /build` (or `docker build`) asked for.
public struct BuildOptions: Sendable {
    /// The Dockerfile's path inside the context.
    public var dockerfile: String
    /// Full references to tag the result with.
    public var tags: [ImageReference]
    public var buildArgs: [String: String]
    public var labels: [String: String]
    public var noCache: Bool
    /// Pull FROM images even when present.
    public var pull: Bool
    /// Only the image ID is reported.
    public var quiet: Bool
    /// The stage to stop at (`--target`).
    public var target: String?

    public init(dockerfile: String = "Dockerfile", tags: [ImageReference] = [], buildArgs: [String: String] = [:],
                labels: [String: String] = [:], noCache: Bool = false, pull: Bool = false, quiet: Bool = false,
                target: String? = nil) {
        self.dockerfile = dockerfile
        self.tags = tags
        self.buildArgs = buildArgs
        self.labels = labels
        self.noCache = noCache
        self.pull = pull
        self.quiet = quiet
        self.target = target
    }
}

/// What a build reports as it goes, in the legacy builder's terms.
public enum BuildMessage: Sendable, Equatable {
    /// Text for the user (`Step 1/3 : FROM busybox\n`, ` ---> 0adc0bf6453d\n`, RUN's output).
    case stream(String)
    /// A FROM image being pulled.
    case pull(PullEvent)
    /// The built image's ID (`{"aux":{"ID":…}}`, which `--iidfile` needs).
    case imageID(String)
}
