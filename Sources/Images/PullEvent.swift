/// Progress of a pull, in the steps docker reports.
public enum PullEvent: Sendable, Equatable {
    /// `latest: Pulling from library/busybox`
    case pullingFrom(reference: String, repository: String)
    case layer(id: String, LayerStatus)
    /// A line without an id: `Digest: …`, `Status: …`, rate-limit notes.
    case status(String)

    public enum LayerStatus: Sendable, Equatable {
        case alreadyExists
        case pullingFsLayer
        case waiting
        case downloading(current: Int64, total: Int64)
        case verifyingChecksum
        case downloadComplete
        case extracting(current: Int64, total: Int64)
        case pullComplete

        public var text: String {
            switch self {
            case .alreadyExists: return "Already exists"
            case .pullingFsLayer: return "Pulling fs layer"
            case .waiting: return "Waiting"
            case .downloading: return "Downloading"
            case .verifyingChecksum: return "Verifying Checksum"
            case .downloadComplete: return "Download complete"
            case .extracting: return "Extracting"
            case .pullComplete: return "Pull complete"
            }
        }
    }
}
