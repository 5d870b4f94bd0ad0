import ContainerRuntime
import Foundation
import Glibc
import Images
import Platform

/// `docker save` and `docker load`: the docker-archive format (manifest.json, repositories,
/// `<config>.json`, `<layer>/layer.tar` uncompressed) out, docker-archive or an OCI layout in.
public enum ImageArchive {
    /// One image to save and the names it goes under (familiar `name:tag`).
    public struct Entry: Sendable {
        public var image: ImageRecord
        public var tags: [String]

        public init(image: ImageRecord, tags: [String]) {
            self.image = image
            self.tags = tags
        }
    }

    /// Writes the archive to `path` (a file in `scratch`, which holds the uncompressed layers meanwhile).
    public static func save(_ entries: [Entry], images: ImageService, to path: String, scratch: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SystemError("open", path: path) }
        defer { close(fd) }
        let tar = try TarWriter { try FileSystem.writeAll(fd, $0, path: path) }
        var manifest: [OrderedJSON] = []
        var repositories: [String: [(String, String)]] = [:]
        var written: Set<String> = []
        let now = Int(Date().timeIntervalSince1970)
        for entry in entries {
            let image = entry.image
            let configName = image.id.hex + ".json"
            if written.insert(configName).inserted {
                try addBytes(tar, name: configName, image.configBytes, mtime: now)
            }
            var layerNames: [String] = []
            for layer in image.layers {
                let directory = layer.chainID.hex
                let name = directory + "/layer.tar"
                layerNames.append(name)
                guard written.insert(name).inserted else { continue }
                let layerPath = scratch + "/" + directory + ".tar"
                let out = open(layerPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
                guard out >= 0 else { throw SystemError("open", path: layerPath) }
                do {
                    try LayerDecompressor.read(images.content.path(layer.blob)) { try FileSystem.writeAll(out, $0, path: layerPath) }
                    close(out)
                } catch {
                    close(out)
                    throw error
                }
                try tar.add(name: directory + "/", path: scratch, stat: directoryStat(mtime: now))
                try add(tar, name: name, file: layerPath, mtime: now)
                unlink(layerPath)
            }
            manifest.append(.object([
                ("Config", .string(configName)), ("RepoTags", entry.tags.isEmpty ? .null : .array(entry.tags.map { .string($0) })),
                ("Layers", .array(layerNames.map { .string($0) })),
            ]))
            for tag in entry.tags {
                guard let colon = tag.lastIndex(of: ":"), !tag[colon...].contains("/") else { continue }
                repositories[String(tag[..<colon]), default: []].append((String(tag[tag.index(after: colon)...]),
                                                                          image.layers.last?.chainID.hex ?? image.id.hex))
            }
        }
        try addBytes(tar, name: "manifest.json", OrderedJSON.array(manifest).serializedBytes() + [10], mtime: now)
        let repositoriesJSON = OrderedJSON.object(repositories.keys.sorted().map { name in
            (name, .object((repositories[name] ?? []).map { ($0.0, .string($0.1)) }))
        })
        try addBytes(tar, name: "repositories", repositoriesJSON.serializedBytes() + [10], mtime: now)
        try tar.finish()
    }

    private static func directoryStat(mtime: Int) -> stat {
        var st = stat()
        st.st_mode = S_IFDIR | 0o755
        st.st_mtim = timespec(tv_sec: mtime, tv_nsec: 0)
        return st
    }

    private static func add(_ tar: TarWriter, name: String, file: String, mtime: Int) throws {
        var st = stat()
        guard stat(file, &st) == 0 else { throw SystemError("stat", path: file) }
        st.st_mode = S_IFREG | 0o644
        st.st_uid = 0
        st.st_gid = 0
        st.st_mtim = timespec(tv_sec: mtime, tv_nsec: 0)
        try tar.add(name: name, path: file, stat: st)
    }

    private static func addBytes(_ tar: TarWriter, name: String, _ bytes: [UInt8], mtime: Int) throws {
        var st = stat()
        st.st_mode = S_IFREG | 0o644
        st.st_size = bytes.count
        st.st_mtim = timespec(tv_sec: mtime, tv_nsec: 0)
        try tar.addBytes(name: name, bytes, stat: st)
    }

    // MARK: load

    /// What a load stored: the names given to an image, or just its ID.
    public enum Loaded: Sendable, Equatable {
        case tagged(String)
        case untagged(String)
    }

    /// An image of an archive, its layers recompressed into the content store.
    struct Staged: Sendable {
        var configBytes: [UInt8]
        var layers: [LocalLayer]
        var names: [String]
    }

    /// Loads every image of the archive at `path` (extracted into `scratch`).
    public static func load(file path: String, images: ImageService, scratch: String) async throws -> [Loaded] {
        let staged = try await onDedicatedThread(name: "onekube-load") { try stage(file: path, images: images, scratch: scratch) }
        var loaded: [Loaded] = []
        for entry in staged {
            let records = try await images.unpackLocalLayers(entry.layers)
            let references = entry.names.compactMap { try? ImageReference.parseNormalized($0) }
                .map { $0.tag == nil && $0.digest == nil ? $0.withTag(ImageReference.defaultTag) : $0 }
            let image = try images.storeLocalImage(configBytes: entry.configBytes, layers: records, tags: references)
            loaded += references.isEmpty ? [.untagged(image.id.description)] : references.map { .tagged($0.familiarString) }
        }
        return loaded
    }

    /// The blocking part of a load: extraction, then each layer checked against its diff ID and
    /// written as a gzip blob.
    static func stage(file path: String, images: ImageService, scratch: String) throws -> [Staged] {
        let root = scratch + "/archive"
        try FileSystem.createDirectory(root, mode: 0o700)
        try TarExtractor.extract(file: path, into: root, options: TarExtractor.Options(keepOwners: false))
        let found: [(config: String, layers: [String], names: [String])]
        if FileSystem.exists(root + "/manifest.json") {
            found = try dockerArchiveEntries(root)
        } else if FileSystem.exists(root + "/index.json") {
            found = try ociLayoutEntries(root)
        } else {
            throw OnekubeError(.invalidArgument, "invalid archive: neither manifest.json nor index.json found")
        }
        return try found.map { entry in
            let configBytes = try FileSystem.readFile(entry.config)
            let config: ImageConfig
            do {
                config = try JSONDecoder().decode(ImageConfig.self, from: Data(configBytes))
            } catch {
                throw OnekubeError(.invalidArgument, "invalid image config \(entry.config)", cause: "\(error)")
            }
            guard config.rootfs.diffIDs.count == entry.layers.count else {
                throw OnekubeError(.invalidArgument, "invalid archive: \(entry.config) lists \(config.rootfs.diffIDs.count) layers, the manifest \(entry.layers.count)")
            }
            var layers: [LocalLayer] = []
            for (file, expected) in zip(entry.layers, config.rootfs.diffIDs) {
                let blob = images.content.temporaryPath()
                do {
                    let gzip = try GzipBlobWriter(path: blob)
                    try LayerDecompressor.read(file) { try gzip.write($0) }
                    let written = try gzip.finish()
                    guard written.diffID == expected else {
                        throw OnekubeError(.digestMismatch, "invalid archive: layer \(file) has diff ID \(written.diffID), the config says \(expected)")
                    }
                    try images.content.adopt(file: blob, digest: written.digest)
                    layers.append(LocalLayer(blob: written.digest, diffID: written.diffID, compressedSize: written.compressedSize))
                } catch {
                    unlink(blob)
                    throw error
                }
            }
            return Staged(configBytes: configBytes, layers: layers, names: entry.names)
        }
    }

    static func dockerArchiveEntries(_ root: String) throws -> [(config: String, layers: [String], names: [String])] {
        guard let manifest = try JSONSerialization.jsonObject(with: Data(try FileSystem.readFile(root + "/manifest.json"))) as? [[String: Any]] else {
            throw OnekubeError(.invalidArgument, "invalid archive: manifest.json is not a list")
        }
        return try manifest.map { item in
            guard let config = item["Config"] as? String, let layers = item["Layers"] as? [String] else {
                throw OnekubeError(.invalidArgument, "invalid archive: a manifest.json entry lacks Config or Layers")
            }
            return (try inside(root, config), try layers.map { try inside(root, $0) }, item["RepoTags"] as? [String] ?? [])
        }
    }

    static func ociLayoutEntries(_ root: String) throws -> [(config: String, layers: [String], names: [String])] {
        func json(_ path: String) throws -> [String: Any] {
            guard let object = try JSONSerialization.jsonObject(with: Data(try FileSystem.readFile(path))) as? [String: Any] else {
                throw OnekubeError(.invalidArgument, "invalid OCI layout: \(path) is not a JSON object")
            }
            return object
        }
        func blob(_ descriptor: [String: Any]) throws -> String {
            guard let digest = descriptor["digest"] as? String, let parsed = try? Digest(parsing: digest) else {
                throw OnekubeError(.invalidArgument, "invalid OCI layout: a descriptor has no digest")
            }
            return try inside(root, "blobs/\(parsed.algorithm)/\(parsed.hex)")
        }
        var entries: [(config: String, layers: [String], names: [String])] = []
        var pending = (try json(root + "/index.json")["manifests"] as? [[String: Any]] ?? []).map { ($0, $0) }
        while let (descriptor, top) = pending.first {
            pending.removeFirst()
            let object = try json(try blob(descriptor))
            if let manifests = object["manifests"] as? [[String: Any]] {
                // An index: the host's platform only.
                let host = PlatformSelector.host
                let matching = manifests.filter { ($0["platform"] as? [String: Any])?["architecture"] as? String == host.architecture }
                pending += (matching.isEmpty ? Array(manifests.prefix(1)) : Array(matching.prefix(1))).map { ($0, top) }
                continue
            }
            guard let config = object["config"] as? [String: Any], let layers = object["layers"] as? [[String: Any]] else {
                throw OnekubeError(.invalidArgument, "invalid OCI layout: a manifest lacks config or layers")
            }
            let annotations = top["annotations"] as? [String: String] ?? [:]
            var names: [String] = []
            if let name = annotations["io.containerd.image.name"] {
                names = [name]
            } else if let ref = annotations["org.opencontainers.image.ref.name"], ref.contains(":") || ref.contains("/") {
                names = [ref]
            }
            entries.append((try blob(config), try layers.map(blob), names))
        }
        return entries
    }

    /// A path named in an archive, kept inside it.
    static func inside(_ root: String, _ name: String) throws -> String {
        guard let clean = CopySources.cleanRelative(name), !clean.isEmpty else {
            throw OnekubeError(.invalidArgument, "invalid archive: \(name) leaves the archive")
        }
        return ContainedPath.resolve(clean, in: root)
    }
}
