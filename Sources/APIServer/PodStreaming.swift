import KubeStreams

/// What serves exec, attach and port-forward for pods on a node (the kubelet's streaming
/// server): the API server checks the request and speaks the client's protocol, this does the
/// work. Failures are `PodStreamingError`s worded as the kubelet words them.
public protocol PodStreaming: Sendable {
    /// Prepares a command in the container; it starts with `start()`. Throws when the container
    /// is not running.
    func exec(_ container: PodContainer, command: [String], tty: Bool, stdin: Bool) throws -> any ContainerStreamSession
    /// Joins the container's own stdio.
    func attach(_ container: PodContainer, tty: Bool, stdin: Bool) throws -> any ContainerStreamSession
    /// Connects to `port` in the pod, copies `input` to it (half-closing when it ends) and what
    /// the pod sends to `output`, and returns when the pod's side has ended. Throws when the
    /// connection cannot be made or breaks.
    func forward(_ pod: PodAddress, port: Int, input: AsyncStream<[UInt8]>,
                 output: @escaping @Sendable ([UInt8]) async throws -> Void) async throws
}

/// One container of one pod, as the API server found it.
public struct PodContainer: Sendable, Equatable {
    public var namespace: String
    public var pod: String
    public var uid: String
    public var container: String

    public init(namespace: String, pod: String, uid: String, container: String) {
        self.namespace = namespace
        self.pod = pod
        self.uid = uid
        self.container = container
    }
}

public struct PodAddress: Sendable, Equatable {
    public var namespace: String
    public var pod: String
    public var uid: String
    /// status.podIP; nil before the pod has a sandbox.
    public var ip: String?

    public init(namespace: String, pod: String, uid: String, ip: String?) {
        self.namespace = namespace
        self.pod = pod
        self.uid = uid
        self.ip = ip
    }
}

/// A process's streams: an exec'd command, or the container's main process for attach.
public protocol ContainerStreamSession: Sendable {
    /// Starts the command (exec) or joins the container's output (attach); the output ends when
    /// the process has exited and its output is drained. Stdin written before is kept.
    func start() async throws -> AsyncStream<ContainerOutput>
    func writeStdin(_ bytes: [UInt8])
    func closeStdin()
    func resize(width: Int, height: Int)
    /// How it ended, once the output has.
    func outcome() -> ContainerStreamOutcome
}

public enum ContainerStreamOutcome: Sendable, Equatable {
    /// The command exited with this code.
    case exited(Int32)
    /// The command could not start (not found, not executable): the runtime's message.
    case failedToStart(String)
    /// Attach: the container's process ended or the stream closed; no code to report.
    case ended
}

public struct ContainerOutput: Sendable, Equatable {
    public enum Stream: Sendable { case stdout, stderr }
    public var stream: Stream
    public var bytes: [UInt8]

    public init(stream: Stream, bytes: [UInt8]) {
        self.stream = stream
        self.bytes = bytes
    }
}

public struct PodStreamingError: Error, CustomStringConvertible, Equatable {
    public var message: String
    public var description: String { message }

    public init(_ message: String) {
        self.message = message
    }
}

extension RemoteCommand {
    /// The Status that ends a session, as the kubelet writes it.
    static func status(of outcome: ContainerStreamOutcome, command: [String]) -> [UInt8] {
        switch outcome {
        case .exited(let code): return exitStatus(code, command: command)
        case .failedToStart(let message): return internalErrorStatus("error executing command in container: \(message)")
        case .ended: return successStatus
        }
    }
}
