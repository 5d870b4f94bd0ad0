import Foundation
import Platform
import SQLite

/// Image records in SQLite: images, their tags and repo digests, and the blobs each references.
/// Tag moves and image inserts are single transactions, so a crash leaves the old or the new state.
public final class ImageStore: Sendable {
    let db: SQLiteDatabase

    public init(database: SQLiteDatabase) throws {
        db = database
        try db.execute("""
            CREATE TABLE IF NOT EXISTS images (
                id TEXT PRIMARY KEY,
                config BLOB NOT NULL,
                manifest_digest TEXT,
                manifest_media_type TEXT,
                layers TEXT NOT NULL,
                size INTEGER NOT NULL,
                created INTEGER NOT NULL,
                stored_at INTEGER NOT NULL
            );
            CREATE TABLE IF NOT EXISTS image_tags (
                name TEXT PRIMARY KEY,
                image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                tagged_at INTEGER NOT NULL
            );
            CREATE INDEX IF NOT EXISTS image_tags_by_image ON image_tags(image_id);
            CREATE TABLE IF NOT EXISTS image_digests (
                name TEXT PRIMARY KEY,
                image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE
            );
            CREATE TABLE IF NOT EXISTS image_blobs (
                image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
                digest TEXT NOT NULL,
                PRIMARY KEY (image_id, digest)
            );
            CREATE TABLE IF NOT EXISTS build_cache (
                parent TEXT NOT NULL,
                key TEXT NOT NULL,
                image_id TEXT NOT NULL,
                config BLOB NOT NULL,
                layers TEXT NOT NULL,
                created INTEGER NOT NULL,
                PRIMARY KEY (parent, key)
            );
            """)
    }

    /// Inserts (or refreshes) an image and points `tag` and `repoDigest` at it.
    public func save(_ image: ImageRecord, blobs: [Digest], tag: String?, repoDigest: String?) throws {
        let layersJSON = String(decoding: try JSONEncoder().encode(image.layers), as: UTF8.self)
        let now = Int64(Date().timeIntervalSince1970)
        try db.transaction { conn in
            try conn.run("""
                INSERT INTO images (id, config, manifest_digest, manifest_media_type, layers, size, created, stored_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT(id) DO UPDATE SET manifest_digest = excluded.manifest_digest,
                    manifest_media_type = excluded.manifest_media_type
                """,
                [.text(image.id.description), .blob(image.configBytes),
                 image.manifestDigest.map { .text($0.description) } ?? .null,
                 image.manifestMediaType.map { .text($0) } ?? .null,
                 .text(layersJSON), .integer(image.size), .integer(image.created), .integer(now)])
            for blob in blobs {
                try conn.run("INSERT OR IGNORE INTO image_blobs (image_id, digest) VALUES (?, ?)",
                             [.text(image.id.description), .text(blob.description)])
            }
            if let tag {
                try conn.run("INSERT OR REPLACE INTO image_tags (name, image_id, tagged_at) VALUES (?, ?, ?)",
                             [.text(tag), .text(image.id.description), .integer(now)])
            }
            if let repoDigest {
                try conn.run("INSERT OR REPLACE INTO image_digests (name, image_id) VALUES (?, ?)",
                             [.text(repoDigest), .text(image.id.description)])
            }
        }
    }

    public func tag(_ name: String, imageID: Digest) throws {
        try db.run("INSERT OR REPLACE INTO image_tags (name, image_id, tagged_at) VALUES (?, ?, ?)",
                   [.text(name), .text(imageID.description), .integer(Int64(Date().timeIntervalSince1970))])
    }

    @discardableResult
    public func untag(_ name: String) throws -> Bool {
        try db.run("DELETE FROM image_tags WHERE name = ?", [.text(name)]) > 0
    }

    @discardableResult
    public func removeRepoDigest(_ name: String) throws -> Bool {
        try db.run("DELETE FROM image_digests WHERE name = ?", [.text(name)]) > 0
    }

    public func delete(_ id: Digest) throws {
        try db.run("DELETE FROM images WHERE id = ?", [.text(id.description)])
    }

    public func imageID(forTag name: String) throws -> Digest? {
        try db.query("SELECT image_id FROM image_tags WHERE name = ?", [.text(name)]).first?[0].string
            .flatMap { try? Digest(parsing: $0) }
    }

    public func imageID(forRepoDigest name: String) throws -> Digest? {
        try db.query("SELECT image_id FROM image_digests WHERE name = ?", [.text(name)]).first?[0].string
            .flatMap { try? Digest(parsing: $0) }
    }

    /// Image IDs whose hex starts with `prefix`.
    public func imageIDs(withPrefix prefix: String) throws -> [Digest] {
        try db.query("SELECT id FROM images WHERE substr(id, 8, ?) = ?", [.integer(Int64(prefix.count)), .text(prefix)])
            .compactMap { $0[0].string.flatMap { try? Digest(parsing: $0) } }
    }

    public func image(_ id: Digest) throws -> ImageRecord? {
        try images(where: "WHERE id = ?", [.text(id.description)]).first
    }

    /// Every image, newest first (the order `docker images` shows).
    public func allImages() throws -> [ImageRecord] {
        try images(where: "", [])
    }

    /// Every blob some image (or a build cache entry) still references.
    public func referencedBlobs() throws -> Set<Digest> {
        Set(try db.query("SELECT DISTINCT digest FROM image_blobs").compactMap { $0[0].string.flatMap { try? Digest(parsing: $0) } })
            .union(try buildCacheLayers().map(\.blob))
    }

    /// Every layer chain some image (or a build cache entry) still uses.
    public func referencedChains() throws -> Set<Digest> {
        Set(try allImages().flatMap { $0.layers.map(\.chainID) }).union(try buildCacheLayers().map(\.chainID))
    }

    private func images(where clause: String, _ parameters: [SQLiteValue]) throws -> [ImageRecord] {
        let rows = try db.query("""
            SELECT id, config, manifest_digest, manifest_media_type, layers, size, created,
                   (SELECT group_concat(name, char(10)) FROM image_tags t WHERE t.image_id = images.id),
                   (SELECT group_concat(name, char(10)) FROM image_digests d WHERE d.image_id = images.id),
                   (SELECT max(tagged_at) FROM image_tags t WHERE t.image_id = images.id)
            FROM images \(clause) ORDER BY created DESC, stored_at DESC
            """, parameters)
        return try rows.map { row in
            let configBytes = row[1].bytes ?? []
            let id = try Digest(parsing: row[0].string ?? "")
            let config: ImageConfig
            do {
                config = try JSONDecoder().decode(ImageConfig.self, from: Data(configBytes))
            } catch {
                throw OnekubeError(.internalError, "stored config of image \(id) is unreadable", cause: "\(error)")
            }
            let layers = try JSONDecoder().decode([LayerRecord].self, from: Data((row[4].string ?? "[]").utf8))
            return ImageRecord(
                id: id, configBytes: configBytes, config: config,
                manifestDigest: row[2].string.flatMap { try? Digest(parsing: $0) },
                manifestMediaType: row[3].string, layers: layers,
                size: row[5].int64 ?? 0, created: row[6].int64 ?? 0,
                tags: (row[7].string ?? "").split(separator: "\n").map(String.init).sorted(),
                repoDigests: (row[8].string ?? "").split(separator: "\n").map(String.init).sorted(),
                lastTagTime: row[9].int64)
        }
    }
}
