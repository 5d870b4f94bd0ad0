import ContainerRuntime
import Foundation
import Glibc
import HTTPClient
import Images
import Platform

extension BuildSession {
    /// COPY and ADD: the files go through an overlay mount of the stage's layers, whose upper
    /// directory becomes the layer. The cache key holds a checksum of the files.
    func copyStep(_ instruction: DockerfileInstruction, stage: inout BuildStage) async throws {
        let keyword = instruction.keyword
        let shell = ShellWords(escape: escape, environment: stage.expansion)
        let words = try instruction.json ?? shell.words(instruction.arguments)
        guard words.count >= 2, let destinationWord = words.last else {
            throw OnekubeError(.invalidArgument, "Dockerfile parse error line \(instruction.line): \(keyword) requires at least two arguments")
        }
        let isURL = { (word: String) in keyword == "ADD" && (word.hasPrefix("http://") || word.hasPrefix("https://")) }
        let sourceWords = Array(words.dropLast()).filter { !isURL($0) }
        // ADD of a URL: fetched on every build, cached by its content like a local file.
        var fetched: [CopySource] = []
        for url in words.dropLast() where isURL(url) {
            fetched.append(try await download(url))
        }
        let downloads = fetched

        var fromMount: OverlayMount?
        defer { fromMount?.unmount() }
        var sourceRoot = build.context
        if let from = instruction.flags["from"] {
            let name = try shell.word(from).lowercased()
            let layers: [LayerRecord]
            if let index = Int(name), index >= 0, index < stages.count {
                layers = stages[index].layers
            } else if let named = stages.first(where: { $0.name == name }) {
                layers = named.layers
            } else {
                layers = try await baseImage(name).layers
            }
            if !layers.isEmpty {
                let mount = try OverlayMount(lowers: layers.map { images.layers.path($0.chainID) }, empty: builder.emptyLayer,
                                             upper: nil, work: nil, mountPoint: try scratchDirectory("from") + "/root")
                fromMount = mount
                sourceRoot = mount.mountPoint
            } else {
                sourceRoot = builder.emptyLayer
            }
        }
        let root = sourceRoot
        // Walking and hashing the files is blocking work: off the cooperative threads.
        let (sources, checksum) = try await onDedicatedThread(name: "onekube-copy") {
            let sources = try (sourceWords.isEmpty ? [] : CopySources.resolve(sourceWords, root: root, instruction: keyword)) + downloads
            return (sources, try CopySources.checksum(sources))
        }
        let workingDir = stage.containerConfig.WorkingDir ?? "/"
        var destinationPath = destinationWord.hasPrefix("/") ? destinationWord : (workingDir.hasSuffix("/") ? workingDir : workingDir + "/") + destinationWord
        if destinationWord == "." || destinationWord.hasSuffix("/.") { destinationPath += "/" }
        let destination = destinationPath
        if sources.count > 1 && !destination.hasSuffix("/") {
            throw OnekubeError(.invalidArgument, "When using \(keyword) with more than one source file, the destination must be a directory and end with a /")
        }
        let chown = try instruction.flags["chown"].map { try shell.word($0) }
        let flags = [instruction.flags["from"].map { "--from=\($0)" }, chown.map { "--chown=\($0)" }].compactMap { $0 }.joined(separator: " ")
        let summary = "\(keyword) \(flags.isEmpty ? "" : flags + " ")file:\(checksum) in \(destination)"
        let extractArchives = keyword == "ADD" && instruction.flags["from"] == nil
        let emptyLayer = builder.emptyLayer
        try await perform(&stage, key: summary, createdBy: "/bin/sh -c #(nop) \(summary) ") { next in
            let directory = try scratchDirectory("copy")
            let lowers = next.layers.map { images.layers.path($0.chainID) }
            let upper = directory + "/upper"
            try await onDedicatedThread(name: "onekube-copy") {
                let work = directory + "/work"
                try FileSystem.createDirectory(upper, mode: 0o755)
                try FileSystem.createDirectory(work, mode: 0o700)
                let mount = try OverlayMount(lowers: lowers, empty: emptyLayer, upper: upper, work: work, mountPoint: directory + "/root")
                defer { mount.unmount() }
                let owner = try chown.map { try Ownership.resolve($0, root: mount.mountPoint) } ?? (uid: 0, gid: 0)
                let copier = FileCopier(root: mount.mountPoint, owner: owner)
                for source in sources {
                    try Self.place(source, at: destination, copier: copier, extractArchives: extractArchives)
                }
            }
            return try await commitLayer(upper: upper, stage: next)
        }
    }

    /// Fetches an ADD URL into the build's work directory (mode 0600, as docker leaves it).
    private func download(_ url: String) async throws -> CopySource {
        let response: HTTPClientResponse
        do {
            response = try await CurlHTTPClient.shared.send(HTTPClientRequest(url: url))
        } catch {
            throw OnekubeError(.unavailable, "ADD failed: failed to GET \(url)", cause: "\(error)")
        }
        guard response.status == 200 else {
            throw OnekubeError(.unavailable, "ADD failed: failed to GET \(url) with status \(response.status)")
        }
        let path = URLComponents(string: url)?.path ?? ""
        let name = path.split(separator: "/").last.map(String.init) ?? "download"
        let file = try scratchDirectory("download") + "/" + name
        try FileSystem.writeAtomically(file, response.body, mode: 0o600)
        return CopySource(path: file, relative: name, isDirectory: false, downloaded: true)
    }

    /// Docker's destination rules: into a directory when the destination ends with `/` or is one
    /// already, else to that very path; a source directory's contents go into the destination;
    /// ADD unpacks local archives into it.
    static func place(_ source: CopySource, at destination: String, copier: FileCopier, extractArchives: Bool) throws {
        if source.isDirectory {
            try copier.copy(from: source.path, to: destination)
            return
        }
        if extractArchives && !source.downloaded && TarExtractor.isArchive(source.path) {
            try copier.makeDirectories(destination)
            let owner = copier.owner
            try TarExtractor.extract(file: source.path, into: copier.hostPath(destination),
                                     options: TarExtractor.Options(keepOwners: true, owner: owner.uid == 0 && owner.gid == 0 ? nil : owner))
            return
        }
        let base = source.relative.split(separator: "/").last.map(String.init) ?? source.relative
        let intoDirectory = destination.hasSuffix("/") || FileSystem.isDirectory(copier.hostPath(destination))
        try copier.copy(from: source.path, to: intoDirectory ? (destination.hasSuffix("/") ? destination : destination + "/") + base : destination)
    }
}

/// `--chown=user:group` with names looked up in the image's /etc/passwd and /etc/group.
enum Ownership {
    static func resolve(_ text: String, root: String) throws -> (uid: uid_t, gid: gid_t) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let user = parts.first ?? ""
        let uid: uid_t
        if let numeric = uid_t(user) {
            uid = numeric
        } else {
            guard let id = lookup(user, file: ContainedPath.resolve("/etc/passwd", in: root)) else {
                throw OnekubeError(.invalidArgument, "unable to convert uid/gid chown string to host mapping: can't find uid for user \(user): no such user: \(user)")
            }
            uid = id
        }
        guard parts.count > 1 else { return (uid, gid_t(uid)) }
        if let numeric = gid_t(parts[1]) { return (uid, numeric) }
        guard let gid = lookup(parts[1], file: ContainedPath.resolve("/etc/group", in: root)) else {
            throw OnekubeError(.invalidArgument, "unable to convert uid/gid chown string to host mapping: can't find gid for group \(parts[1]): no such group: \(parts[1])")
        }
        return (uid, gid)
    }

    /// The third field of the `name:…` line of a passwd or group file.
    static func lookup(_ name: String, file: String) -> UInt32? {
        guard let text = try? FileSystem.readString(file) else { return nil }
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: ":", omittingEmptySubsequences: false)
            if fields.count > 2, fields[0] == name { return UInt32(fields[2]) }
        }
        return nil
    }
}
