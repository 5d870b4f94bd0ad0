import ContainerRuntime
import Foundation
import Glibc
import Images
import Logging
import Platform
import Synchronization

/// A build that failed the way docker reports it: the message, and the exit code the CLI takes
/// from `errorDetail.code` (a failing RUN's own exit code).
public struct BuildFailure: Error, CustomStringConvertible, Sendable {
    public var message: String
    public var code: Int32

    public var description: String { message }
}

/// `docker build` with the legacy builder's behaviour: one image per instruction, a layer per
/// file-system change (RUN in a container on onekube's runtime, COPY and ADD through an overlay
/// mount), each step cached by its parent image and instruction. Work happens in
/// `<data>/build/<id>/`, removed when the build ends however it ends.
public final class ImageBuilder: Sendable {
    let images: ImageService
    let containers: ContainerService
    let root: String
    let logger: Logger
    /// Build containers of running builds; any other container with `buildLabel` is a leftover
    /// of a daemon that died mid-build.
    let activeContainers = Mutex<Set<String>>([])
    static let buildLabel = "onekube.build"

    public init(images: ImageService, containers: ContainerService, dataDirectory: String, logger: Logger) throws {
        self.images = images
        self.containers = containers
        self.root = dataDirectory + "/build"
        self.logger = logger
        try FileSystem.createDirectory(root, mode: 0o700)
        removeLeftovers()
        try prepareInitLayer()
    }

    /// The directory every RUN container gets as its top lower layer: the mount points the runtime
    /// binds over (`/proc`, `/dev`, `/etc/hosts`, …) exist there, so they never appear in the upper
    /// directory and never in a layer (docker's "init layer").
    var initLayer: String { root + "/init-layer" }
    /// An empty directory, the bottom of every overlay (overlayfs needs one for `FROM scratch`).
    var emptyLayer: String { root + "/empty-layer" }

    private func prepareInitLayer() throws {
        try FileSystem.createDirectory(emptyLayer, mode: 0o755)
        if FileSystem.isDirectory(initLayer) { return }
        let temp = root + "/.init-layer-\(UInt32.random(in: 0...UInt32.max))"
        for directory in ["", "/proc", "/sys", "/dev", "/etc"] {
            try FileSystem.createDirectory(temp + directory, mode: 0o755)
        }
        for file in ["/etc/hosts", "/etc/hostname", "/etc/resolv.conf"] {
            try FileSystem.writeAtomically(temp + file, "", mode: 0o644)
        }
        guard rename(temp, initLayer) == 0 else { throw SystemError("rename", path: initLayer) }
    }

    /// What a daemon that died mid-build left: overlay mounts below `build/`, then the directories.
    private func removeLeftovers() {
        let mountinfo = (try? FileSystem.readString("/proc/self/mountinfo")) ?? ""
        let prefix = root + "/"
        let mounted = mountinfo.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = String(fields[4])
            return point.hasPrefix(prefix) ? point : nil
        }
        for point in mounted.sorted(by: >) {
            logger.info("unmounting a leftover build mount", metadata: ["path": "\(point)"])
            umount2(point, Int32(MNT_DETACH))
        }
        for name in (try? FileSystem.listDirectory(root)) ?? [] where name != "init-layer" && name != "empty-layer" {
            try? FileSystem.removeTree(root + "/" + name)
        }
    }

    /// A build context as the client sent it: in memory, or in a file the server spooled it to
    /// (read, not removed: it is the server's).
    public enum ContextArchive: Sendable {
        case bytes([UInt8])
        case file(String)
    }


    /// Unpacks the context and parses the Dockerfile: errors here come before any output, as plain
    /// API errors. The returned build owns its work directory until `run` or `discard`.
    public func prepare(contextArchive: ContextArchive, options: BuildOptions) throws -> PreparedBuild {
        let work = root + "/" + UUID().uuidString.lowercased()
        try FileSystem.createDirectory(work, mode: 0o700)
        do {
            let context = work + "/context"
            try FileSystem.createDirectory(context, mode: 0o755)
            switch contextArchive {
            case .bytes(let bytes) where !bytes.isEmpty:
                let archive = work + "/context.tar"
                try FileSystem.writeAtomically(archive, bytes, mode: 0o600)
                try Self.endTar(archive)
                try TarExtractor.extract(file: archive, into: context)
                unlink(archive)
            case .file(let path) where (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0 > 0:
                try Self.endTar(path)
                try TarExtractor.extract(file: path, into: context)
            default:
                break  // no context: a Dockerfile-less build fails below with docker's message
            }
            guard let dockerfilePath = CopySources.cleanRelative(options.dockerfile), !dockerfilePath.isEmpty,
                  let text = try? FileSystem.readString(context + "/" + dockerfilePath) else {
                throw OnekubeError(.notFound, "Cannot locate specified Dockerfile: \(options.dockerfile)")
            }
            let dockerfile = try Dockerfile.parse(text)
            try Self.checkTriggers(dockerfile)
            guard !dockerfile.instructions.isEmpty else {
                throw OnekubeError(.invalidArgument, "the Dockerfile (\(options.dockerfile)) cannot be empty")
            }
            if let ignore = try? FileSystem.readString(context + "/.dockerignore") {
                try Self.removeIgnored(DockerIgnore(ignore), from: context)
            }
            return PreparedBuild(work: work, context: context, dockerfile: dockerfile, options: options)
        } catch {
            try? FileSystem.removeTree(work)
            throw error
        }
    }

    /// What moby's parser refuses in an ONBUILD, before anything runs.
    static func checkTriggers(_ dockerfile: Dockerfile) throws {
        for instruction in dockerfile.instructions where instruction.keyword == "ONBUILD" {
            let trigger = instruction.arguments.split(separator: " ", maxSplits: 1).first.map { $0.uppercased() } ?? ""
            let problem: String
            switch trigger {
            case "": problem = "ONBUILD requires at least one argument"
            case "ONBUILD": problem = "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed"
            case "FROM", "MAINTAINER": problem = "\(trigger) isn't allowed as an ONBUILD trigger"
            default: continue
            }
            throw OnekubeError(.invalidArgument, "Dockerfile parse error line \(instruction.line): \(problem)")
        }
    }

    /// Ends a plain tar properly. The docker CLI's `build -f - DIR` appends the Dockerfile to the
    /// context and stops right after its bytes, without the padding and the two zero blocks that
    /// end a tar (Go's tar reader takes that as the end; libarchive calls it truncated). Zeros to
    /// the next block and two zero blocks more change nothing for a tar that had them: a reader
    /// stops at the first. Compressed contexts are left as they are.
    static func endTar(_ path: String) throws {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw OnekubeError(.internalError, "open \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var header = [UInt8](repeating: 0, count: 512)
        guard pread(fd, &header, 512, 0) == 512, ContextArchiver.isTarHeader(header) else { return }
        let size = lseek(fd, 0, SEEK_END)
        guard size >= 0 else { throw OnekubeError(.internalError, "lseek \(path): \(String(cString: strerror(errno)))") }
        let zeros = [UInt8](repeating: 0, count: Int((512 - size % 512) % 512) + 1024)
        guard pwrite(fd, zeros, zeros.count, size) == zeros.count else {
            throw OnekubeError(.internalError, "pwrite \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// What the client should have left out (moby re-reads `.dockerignore` too).
    static func removeIgnored(_ ignore: DockerIgnore, from context: String) throws {
        guard !ignore.isEmpty else { return }
        var excluded: [String] = []
        try DirectoryWalker.walk(context) { relative, path, _ in
            if ignore.excludes(relative) {
                excluded.append(path)
                return false
            }
            return true
        }
        for path in excluded { try FileSystem.removeTree(path) }
    }

    /// Runs a prepared build to the end; returns the image ID. The work directory is gone after.
    public func run(_ build: PreparedBuild, output: @escaping @Sendable (BuildMessage) -> Void) async throws -> Digest {
        defer { discard(build) }
        await removeLeftoverContainers()
        let session = BuildSession(builder: self, build: build, output: output)
        return try await session.run()
    }

    /// Creates a RUN step's container, registered as one of a running build.
    func createBuildContainer(_ configuration: ContainerConfiguration) throws -> ContainerRecord {
        var configuration = configuration
        configuration.labels[Self.buildLabel] = "true"
        return try activeContainers.withLock { active in
            let record = try containers.create(name: nil, configuration: configuration)
            active.insert(record.id)
            return record
        }
    }

    func removeBuildContainer(_ id: String) async throws {
        defer { _ = activeContainers.withLock { $0.remove(id) } }
        try await containers.remove(id, force: true)
    }

    /// Build containers a crashed daemon left (its builds died with it).
    private func removeLeftoverContainers() async {
        let stale = activeContainers.withLock { active in
            containers.list().filter { $0.config.labels[Self.buildLabel] != nil && !active.contains($0.id) }.map(\.id)
        }
        for id in stale {
            logger.info("removing a leftover build container", metadata: ["id": "\(id)"])
            do { try await containers.remove(id, force: true) } catch {
                logger.warning("could not remove a leftover build container", metadata: ["id": "\(id)", "error": "\(error)"])
            }
        }
    }

    /// A work directory for `save` and `load`, removed when `body` returns.
    public func withScratchDirectory<T: Sendable>(_ body: (String) async throws -> T) async throws -> T {
        let work = root + "/" + UUID().uuidString.lowercased()
        try FileSystem.createDirectory(work, mode: 0o700)
        defer { try? FileSystem.removeTree(work) }
        return try await body(work)
    }

    public func discard(_ build: PreparedBuild) {
        do { try FileSystem.removeTree(build.work) } catch {
            logger.warning("could not remove a build's work directory", metadata: ["path": "\(build.work)", "error": "\(error)"])
        }
    }
}

/// A build whose context is unpacked and whose Dockerfile parsed.
public struct PreparedBuild: Sendable {
    let work: String
    let context: String
    let dockerfile: Dockerfile
    let options: BuildOptions
}
