import Foundation

/// What the node agent needs from a container runtime to run pods. The daemon adapts
/// onekube's own runtime to it; tests use a fake.
public protocol PodRuntime: Sendable {
    /// Makes the image present as the pull policy says, reporting the kubelet's image events.
    func prepareImage(_ reference: String, policy: String, events: @escaping @Sendable (ImageEvent) -> Void) async throws -> RuntimeImage
    /// The pod's network, IPC and UTS namespaces, with `hostname` set.
    func startSandbox(name: String, hostname: String) async throws -> RuntimeSandbox
    func stopSandbox(_ id: String) async
    func createContainer(_ launch: ContainerLaunch) async throws -> String
    func startContainer(_ id: String) async throws
    /// SIGTERM (or the image's stop signal), then SIGKILL after `gracePeriod` seconds.
    func stopContainer(_ id: String, gracePeriod: Int) async
    func removeContainer(_ id: String) async
    func state(_ id: String) -> RuntimeContainerState?
    /// Returns once the container has exited.
    func waitForExit(_ id: String) async
    /// Runs a command in the container (exec probes): its exit code and output.
    func exec(_ id: String, command: [String], timeout: Duration) async -> (exitCode: Int32, output: String)
}

public enum ImageEvent: Sendable, Equatable {
    case pulling
    case pulled(seconds: Double, bytes: Int64)
    case alreadyPresent
}

public struct RuntimeImage: Sendable, Equatable {
    public var id: String
    /// The name the image is known by (`docker.io/luksa/kubia:latest`) and its digest form.
    public var imageID: String
    public var entrypoint: [String]
    public var cmd: [String]
    public var env: [String]
    public var workingDir: String
    public var user: String

    public init(id: String, imageID: String, entrypoint: [String], cmd: [String], env: [String], workingDir: String, user: String) {
        self.id = id
        self.imageID = imageID
        self.entrypoint = entrypoint
        self.cmd = cmd
        self.env = env
        self.workingDir = workingDir
        self.user = user
    }
}

public struct RuntimeSandbox: Sendable, Equatable {
    public var id: String
    public var ip: String?

    public init(id: String, ip: String?) {
        self.id = id
        self.ip = ip
    }
}

public struct VolumeMount: Sendable, Equatable {
    public var source: String
    public var destination: String
    public var readOnly: Bool

    public init(source: String, destination: String, readOnly: Bool) {
        self.source = source
        self.destination = destination
        self.readOnly = readOnly
    }
}

/// One container to create in a pod's sandbox.
public struct ContainerLaunch: Sendable, Equatable {
    public var name: String
    public var image: RuntimeImage
    public var reference: String
    public var args: [String]
    public var env: [String]
    public var workingDir: String
    public var user: String
    public var tty: Bool
    public var stdin: Bool
    public var stdinOnce: Bool
    public var sandboxID: String
    public var mounts: [VolumeMount]
    public var memoryLimit: Int64
    public var milliCPULimit: Int64
    /// requests.cpu: the container's weight against others when the CPU is contended (0: none asked).
    public var milliCPURequest: Int64
    public var labels: [String: String]
}

public struct RuntimeContainerState: Sendable, Equatable {
    public var running: Bool
    public var exitCode: Int32
    public var oomKilled: Bool
    public var startedAt: Date?
    public var finishedAt: Date?

    public init(running: Bool, exitCode: Int32, oomKilled: Bool, startedAt: Date?, finishedAt: Date?) {
        self.running = running
        self.exitCode = exitCode
        self.oomKilled = oomKilled
        self.startedAt = startedAt
        self.finishedAt = finishedAt
    }
}

/// Failures the kubelet reports with their own reasons.
public enum PodRuntimeError: Error, CustomStringConvertible, Equatable {
    /// imagePullPolicy Never and the image is not on the node (`ErrImageNeverPull`).
    case imageNeverPull(String)

    public var description: String {
        switch self {
        case .imageNeverPull(let reference): return "Container image \"\(reference)\" is not present with pull policy of Never"
        }
    }
}
