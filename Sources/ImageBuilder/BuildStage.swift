import Foundation
import Images
import Platform

/// Where one stage of a build stands: the image made so far (its config and layers) and the ARG
/// values in scope.
struct BuildStage {
    var name: String?
    var config: ImageConfig
    var layers: [LayerRecord]
    /// The current image's ID, the parent key of the next step's cache entry ("scratch" at first).
    var imageID: String
    /// The current image's config as stored (its hash is `imageID`).
    var configBytes: [UInt8] = []
    /// ARGs declared in this stage, with their values.
    var arguments: [(String, String)] = []

    var containerConfig: ImageConfig.ContainerConfig {
        get { config.config ?? ImageConfig.ContainerConfig() }
        set { config.config = newValue }
    }

    var shell: [String] { containerConfig.Shell ?? ["/bin/sh", "-c"] }

    var environment: [String] { containerConfig.Env ?? [] }

    /// What `$VAR` expands to in this stage: ARG values, then ENV (ENV wins, as in docker).
    var expansion: [String: String] {
        var values: [String: String] = [:]
        for (key, value) in arguments { values[key] = value }
        for entry in environment {
            let parts = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            values[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return values
    }

    mutating func setEnvironment(_ key: String, _ value: String) {
        var env = environment.filter { !$0.hasPrefix(key + "=") && $0 != key }
        env.append("\(key)=\(value)")
        containerConfig.Env = env
    }

    /// A stage that starts empty (`FROM scratch`).
    static func scratch(name: String?) throws -> BuildStage {
        let host = PlatformSelector.host
        let json = OrderedJSON.object([
            ("architecture", .string(host.architecture)), ("os", .string("linux")),
            ("config", .object([])), ("rootfs", .object([("type", .string("layers")), ("diff_ids", .array([]))])),
        ])
        let config = try JSONDecoder().decode(ImageConfig.self, from: Data(json.serializedBytes()))
        return BuildStage(name: name, config: config, layers: [], imageID: "scratch", configBytes: [])
    }

    /// The next image: `config` with the history entry for `createdBy` and, for a layer, its diff_id.
    mutating func commit(createdBy: String, layer: LayerRecord?) throws -> [UInt8] {
        let now = Self.timestamp(Date())
        config.created = now
        var entry: [String: JSONValue] = ["created": .string(now), "created_by": .string(createdBy)]
        if let layer {
            layers.append(layer)
            config.rootfs.diffIDs.append(layer.diffID)
        } else {
            entry["empty_layer"] = .bool(true)
        }
        config.history = (config.history ?? []) + [.object(entry)]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        configBytes = Array(try encoder.encode(config))
        imageID = Digest.sha256(of: configBytes).description
        return configBytes
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    /// Takes the image a cache entry recorded.
    mutating func adopt(_ entry: BuildCacheEntry) throws {
        config = try JSONDecoder().decode(ImageConfig.self, from: Data(entry.configBytes))
        layers = entry.layers
        imageID = entry.imageID.description
        configBytes = entry.configBytes
    }
}
