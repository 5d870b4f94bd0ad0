import Foundation
import Glibc
import HTTPServer
import Images
import Logging
import NIOCore
import NIOHTTP1
import Platform

extension DockerAPI {
    // MARK: pull

    func pull(_ request: HTTPServerRequest) async -> HTTPServerResponse {
        let query = request.query
        guard let fromImage = query["fromImage"], !fromImage.isEmpty else {
            if query["fromSrc"] != nil {
                return DockerResponse.error(.notImplemented, "docker import is not supported by onekube")
            }
            return DockerResponse.error(.badRequest, "fromImage or fromSrc is required")
        }
        let reference: ImageReference
        do {
            let tag = query["tag"] ?? ""
            let text = tag.isEmpty ? fromImage : (tag.contains(":") ? "\(fromImage)@\(tag)" : "\(fromImage):\(tag)")
            reference = try ImageReference.parse(text)
        } catch {
            return DockerResponse.error(error)
        }
        let credential = Self.registryCredential(header: request.headers.first(name: "X-Registry-Auth"), domain: reference.domain, logger: logger)
        let plan: PullPlan
        do {
            plan = try await images.preparePull(reference, credential: credential)
        } catch {
            // Before any output: a plain HTTP error, so the CLI prefixes "Error response from daemon".
            return DockerResponse.error(error)
        }
        let images = self.images
        let logger = self.logger
        return DockerResponse.stream { out in
            let (events, continuation) = AsyncStream<PullEvent>.makeStream()
            async let outcome: Error? = {
                defer { continuation.finish() }
                do {
                    _ = try await images.executePull(plan) { continuation.yield($0) }
                    return nil
                } catch {
                    return error
                }
            }()
            for await event in events {
                try await out.send(Self.jsonMessage(event))
            }
            if let error = await outcome {
                logger.info("pull failed", metadata: ["image": "\(reference)", "error": "\(error)"])
                try await out.error("\(error)")
            }
        }
    }

    static func jsonMessage(_ event: PullEvent) -> OrderedJSON {
        switch event {
        case .pullingFrom(let reference, let repository):
            return .object([("status", .string("Pulling from \(repository)")), ("id", .string(reference))])
        case .status(let text):
            return .object([("status", .string(text))])
        case .layer(let id, let status):
            switch status {
            case .downloading(let current, let total), .extracting(let current, let total):
                return .object([
                    ("status", .string(status.text)),
                    ("progressDetail", .object([("current", .int(current)), ("total", .int(total))])),
                    ("progress", .string(ProgressBar.render(current: current, total: total))),
                    ("id", .string(id)),
                ])
            default:
                return .object([("status", .string(status.text)), ("progressDetail", .object([])), ("id", .string(id))])
            }
        }
    }

    /// `X-Registry-Auth` (base64url JSON AuthConfig) when the client sent credentials; otherwise
    /// what the daemon's own docker config holds for that registry.
    static func registryCredential(header: String?, domain: String, logger: Logger) -> RegistryCredential? {
        if let header, let data = Base64URL.decode(header),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
           let username = object["username"] as? String, !username.isEmpty {
            return RegistryCredential(username: username, password: object["password"] as? String ?? "")
        }
        do {
            return try DockerConfigFile.load(path: DockerConfigFile.defaultPath()).credential(forDomain: domain)
        } catch {
            logger.warning("ignoring unreadable docker config", metadata: ["error": "\(error)"])
            return nil
        }
    }

    // MARK: list, inspect

    func listImages(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let filters = try ImageFilters(json: request.query["filters"])
        let rows = try images.list().compactMap { image in filters.summary(image).map { (image, $0) } }
        return DockerResponse.json(.array(rows.map { image, references in
            .object([
                ("Containers", .int(-1)), ("Created", .int(image.created)), ("Id", .string(image.id.description)),
                ("Labels", labels(image)), ("ParentId", .string("")),
                ("RepoDigests", .strings(references.digests)), ("RepoTags", .strings(references.tags)),
                ("SharedSize", .int(-1)), ("Size", .int(image.size)),
            ])
        }))
    }

    private func labels(_ image: ImageRecord) -> OrderedJSON {
        guard let labels = image.config.config?.Labels else { return .null }
        return .object(labels.keys.sorted().map { ($0, .string(labels[$0] ?? "")) })
    }

    func inspectImage(_ name: String) throws -> HTTPServerResponse {
        let image = try images.resolve(name).image
        let c = image.config.config
        var config: [(String, OrderedJSON)] = [
            ("Hostname", .string("")), ("Domainname", .string("")), ("User", .string(c?.User ?? "")),
            ("AttachStdin", .bool(false)), ("AttachStdout", .bool(false)), ("AttachStderr", .bool(false)),
        ]
        if let ports = c?.ExposedPorts, !ports.isEmpty {
            config.append(("ExposedPorts", .object(ports.keys.sorted().map { ($0, .object([])) })))
        }
        config += [("Tty", .bool(false)), ("OpenStdin", .bool(false)), ("StdinOnce", .bool(false)),
                   ("Env", .strings(c?.Env)), ("Cmd", .strings(c?.Cmd))]
        if let health = c?.Healthcheck { config.append(("Healthcheck", health.orderedJSON())) }
        if let escaped = c?.ArgsEscaped { config.append(("ArgsEscaped", .bool(escaped))) }
        config += [
            ("Image", .string("")),
            ("Volumes", c?.Volumes.map { v in .object(v.keys.sorted().map { ($0, .object([])) }) } ?? .null),
            ("WorkingDir", .string(c?.WorkingDir ?? "")), ("Entrypoint", .strings(c?.Entrypoint)),
            ("OnBuild", .strings(c?.OnBuild)), ("Labels", labels(image)),
        ]
        if let signal = c?.StopSignal { config.append(("StopSignal", .string(signal))) }
        if let shell = c?.Shell { config.append(("Shell", .strings(shell))) }

        let lowerDirs = image.layers.reversed().map { images.layers.path($0.chainID) }.joined(separator: ":")
        let value: OrderedJSON = .object([
            ("Id", .string(image.id.description)),
            ("RepoTags", .strings(image.familiarTags)), ("RepoDigests", .strings(image.familiarRepoDigests)),
            ("Parent", .string("")), ("Comment", .string("")),
            ("Created", .string(image.config.created ?? "1970-01-01T00:00:00Z")),
            ("DockerVersion", .string("")), ("Author", .string(image.config.author ?? "")),
            ("Config", .object(config)),
            ("Architecture", .string(image.config.architecture ?? "")), ("Os", .string(image.config.os ?? "")),
            ("Size", .int(image.size)),
            ("GraphDriver", .object([("Data", .object([("LowerDir", .string(lowerDirs))])), ("Name", .string("overlay2"))])),
            ("RootFS", .object([("Type", .string("layers")), ("Layers", .strings(image.layers.map(\.diffID.description)))])),
            ("Metadata", .object([("LastTagTime", .string(image.lastTagTime.map(Self.rfc3339) ?? "0001-01-01T00:00:00Z"))])),
        ])
        return DockerResponse.json(value)
    }

    /// GET /images/{name}/history: newest step first; the newest carries the image's ID and tags,
    /// the older ones `<missing>` (their images exist only as layers here, as for a pulled image
    /// in dockerd).
    func imageHistory(_ name: String) throws -> HTTPServerResponse {
        let image = try images.resolve(name).image
        let tags = image.familiarTags
        let steps = try image.historySteps().reversed()
        return DockerResponse.json(.array(steps.enumerated().map { index, step in
            .object([
                ("Comment", .string(step.comment)), ("Created", .int(step.created)), ("CreatedBy", .string(step.createdBy)),
                ("Id", .string(index == 0 ? image.id.description : "<missing>")), ("Size", .int(step.size)),
                ("Tags", index == 0 && !tags.isEmpty ? .strings(tags) : .null),
            ])
        }))
    }

    static func rfc3339(_ seconds: Int64) -> String {
        let formatter = ISO8601DateFormatter()
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }

    // MARK: tag, remove

    func tagImage(_ name: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        guard let repo = request.query["repo"], !repo.isEmpty else {
            throw OnekubeError(.invalidArgument, "repository name is required")
        }
        let tag = request.query["tag"].flatMap { $0.isEmpty ? nil : $0 } ?? ImageReference.defaultTag
        let target = try ImageReference.parseNormalized(repo)
        guard target.tag == nil, target.digest == nil else {
            throw OnekubeError(.invalidArgument, "invalid reference format: repository name must not contain a tag or digest")
        }
        guard ImageReference.isValidTag(tag) else {
            throw OnekubeError(.invalidArgument, "invalid tag format")
        }
        try images.tag(name, as: target.withTag(tag))
        return DockerResponse.empty(.created)
    }

    func removeImage(_ name: String, _ request: HTTPServerRequest) throws -> HTTPServerResponse {
        try refuseRemovingImageInUse(name, force: request.query.bool("force"))
        let items = try images.remove(name, force: request.query.bool("force"), prune: !request.query.bool("noprune"))
        return DockerResponse.json(Self.deleteItems(items))
    }

    /// `POST /images/prune`: the images no container uses (running or not) — only those without
    /// a tag, unless the `dangling=false` filter of `docker image prune -a` widens it to all —
    /// untagged and deleted as `docker rmi` would, with the bytes of the layers that went.
    func pruneImages(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        let filters = try ImageFilters(json: request.query["filters"])
        guard filters.references.isEmpty else { throw OnekubeError(.invalidArgument, "invalid filter 'reference'") }
        let danglingOnly = filters.dangling ?? true
        let used = Set(containers.list().map(\.config.imageID))
        var items: [ImageDeleteItem] = []
        var reclaimed: Int64 = 0
        for image in try images.list() where !used.contains(image.id.description) && filters.matchesLabels(image) {
            if danglingOnly && !image.tags.isEmpty { continue }
            let sizes = Dictionary(image.layers.map { ($0.chainID.description, $0.size) }, uniquingKeysWith: { first, _ in first })
            let removed = try images.remove(image.id.description, force: true)
            for case .deleted(let id) in removed { reclaimed += sizes[id] ?? 0 }
            items += removed
        }
        return DockerResponse.json(.object([("ImagesDeleted", items.isEmpty ? .null : Self.deleteItems(items)), ("SpaceReclaimed", .int(reclaimed))]))
    }

    /// `docker rmi`'s answer: `{"Untagged": …}` and `{"Deleted": …}` in the order they happened.
    static func deleteItems(_ items: [ImageDeleteItem]) -> OrderedJSON {
        .array(items.map { item in
            switch item {
            case .untagged(let s): return .object([("Untagged", .string(s))])
            case .deleted(let s): return .object([("Deleted", .string(s))])
            }
        })
    }
}

extension DockerAPI {
    /// An image a container uses keeps its layers: removing its last name is a conflict, worded
    /// as moby words it (a running user's cannot be forced; onekube does not force a stopped one's
    /// either, since the container's file system is made of those layers).
    func refuseRemovingImageInUse(_ name: String, force: Bool) throws {
        let resolution = try images.resolve(name)
        let image = resolution.image
        let users = containers.list().filter { $0.config.imageID == image.id.description }
        guard let user = users.first(where: \.state.isRunning) ?? users.first else { return }
        let shortImage = image.id.shortHex
        let shortContainer = user.shortID
        switch resolution {
        case .byTag(_, let tag) where image.tags.count <= 1:
            let familiar = (try? ImageReference.parseNormalized(tag))?.familiarName ?? tag
            throw OnekubeError(.conflict, "conflict: unable to remove repository reference \"\(familiar)\" (must force) - container \(shortContainer) is using its referenced image \(shortImage)")
        case .byTag, .byDigest:
            return
        case .byID:
            let state = user.state.isRunning ? "running" : "stopped"
            let forcing = user.state.isRunning || force ? "cannot be forced" : "must be forced"
            throw OnekubeError(.conflict, "conflict: unable to delete \(shortImage) (\(forcing)) - image is being used by \(state) container \(shortContainer)")
        }
    }
}

/// `filters={"reference":{"busybox":true},"dangling":{"true":true},"label":{"a=b":true}}`.
struct ImageFilters {
    var references: [String] = []
    var dangling: Bool?
    var labels: [String] = []

    init(json: String?) throws {
        guard let json, !json.isEmpty else { return }
        guard let object = try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
            throw OnekubeError(.invalidArgument, "invalid filter: \(json)")
        }
        for (key, value) in object {
            // Sets are maps to true; old clients sent arrays.
            let values = (value as? [String: Any]).map { Array($0.keys) } ?? (value as? [String]) ?? []
            switch key {
            case "reference": references = values
            case "dangling": dangling = values.contains { $0 == "true" || $0 == "1" }
            case "label": labels = values
            default: throw OnekubeError(.invalidArgument, "invalid filter '\(key)'")
            }
        }
    }

    /// The tags and digests `/images/json` shows for an image, or nil when the filters exclude it.
    /// As in moby, a reference filter also narrows the references listed, and an image with none
    /// is `<none>:<none>`.
    func summary(_ image: ImageRecord) -> (tags: [String], digests: [String])? {
        if let dangling, dangling != image.tags.isEmpty { return nil }
        guard matchesLabels(image) else { return nil }
        let tags = image.tags.compactMap { try? ImageReference.parseNormalized($0) }.filter(matchesReference)
        let digests = image.repoDigests.compactMap { try? ImageReference.parseNormalized($0) }.filter(matchesReference)
        if tags.isEmpty && digests.isEmpty {
            if !references.isEmpty { return nil }
            return (["<none>:<none>"], ["<none>@<none>"])
        }
        return (tags.map(\.familiarString), digests.map(\.familiarString))
    }

    /// Every `label` filter (`key` or `key=value`) holds for the image's labels.
    func matchesLabels(_ image: ImageRecord) -> Bool {
        let have = image.config.config?.Labels ?? [:]
        return labels.allSatisfy { label in
            let parts = label.split(separator: "=", maxSplits: 1).map(String.init)
            return parts.count == 2 ? have[parts[0]] == parts[1] : have[parts[0]] != nil
        }
    }

    /// reference.FamiliarMatch: the pattern against `name:tag` (or `name@digest`), then the name.
    private func matchesReference(_ reference: ImageReference) -> Bool {
        references.isEmpty || references.contains { pattern in
            fnmatch(pattern, reference.familiarString, FNM_PATHNAME) == 0 || fnmatch(pattern, reference.familiarName, FNM_PATHNAME) == 0
        }
    }
}

/// docker's bar: 50 columns of `=` and `>`, then the sizes.
enum ProgressBar {
    static func render(current: Int64, total: Int64) -> String {
        guard total > 0 else { return String(format: "%8@", HumanSize.decimal(current)) }
        let filled = min(Int(Double(current) / Double(total) * 100) / 2, 50)
        let bar = "[" + String(repeating: "=", count: filled) + ">" + String(repeating: " ", count: max(50 - filled, 0)) + "] "
        let numbers = HumanSize.decimal(current)
        let padded = String(repeating: " ", count: max(8 - numbers.count, 0)) + numbers
        return bar + padded + "/" + HumanSize.decimal(total)
    }
}

enum Base64URL {
    static func decode(_ text: String) -> Data? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s)
    }
}
