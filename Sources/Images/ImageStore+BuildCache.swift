import Foundation
import SQLite

/// The result of one build step, found again by its parent image and the step's cache key (the
/// legacy builder's cache: same parent, same instruction, same file contents → same image).
public struct BuildCacheEntry: Sendable {
    public var imageID: Digest
    public var configBytes: [UInt8]
    public var layers: [LayerRecord]

    public init(imageID: Digest, configBytes: [UInt8], layers: [LayerRecord]) {
        self.imageID = imageID
        self.configBytes = configBytes
        self.layers = layers
    }
}

extension ImageStore {
    public func buildCacheEntry(parent: String, key: String) throws -> BuildCacheEntry? {
        guard let row = try db.query("SELECT image_id, config, layers FROM build_cache WHERE parent = ? AND key = ?",
                                     [.text(parent), .text(key)]).first else { return nil }
        let layers = try JSONDecoder().decode([LayerRecord].self, from: Data((row[2].string ?? "[]").utf8))
        return BuildCacheEntry(imageID: try Digest(parsing: row[0].string ?? ""), configBytes: row[1].bytes ?? [], layers: layers)
    }

    public func recordBuildCacheEntry(parent: String, key: String, _ entry: BuildCacheEntry) throws {
        let layersJSON = String(decoding: try JSONEncoder().encode(entry.layers), as: UTF8.self)
        try db.run("INSERT OR REPLACE INTO build_cache (parent, key, image_id, config, layers, created) VALUES (?, ?, ?, ?, ?, ?)",
                   [.text(parent), .text(key), .text(entry.imageID.description), .blob(entry.configBytes), .text(layersJSON),
                    .integer(Int64(Date().timeIntervalSince1970))])
    }

    /// Forgets every cached build step; returns the image IDs they recorded.
    public func clearBuildCache() throws -> [Digest] {
        try db.transaction { conn in
            let ids = try conn.query("SELECT DISTINCT image_id FROM build_cache").compactMap { $0[0].string.flatMap { try? Digest(parsing: $0) } }
            _ = try conn.run("DELETE FROM build_cache")
            return ids
        }
    }

    /// Layers the build cache keeps alive (garbage collection must not take them).
    func buildCacheLayers() throws -> [LayerRecord] {
        try db.query("SELECT layers FROM build_cache").flatMap { row in
            try JSONDecoder().decode([LayerRecord].self, from: Data((row[0].string ?? "[]").utf8))
        }
    }
}
