extension ImageStore {
    /// Records `name` (`repo@sha256:…`) as a digest reference of an image (after a push).
    public func addRepoDigest(_ name: String, imageID: Digest) throws {
        try db.run("INSERT OR REPLACE INTO image_digests (name, image_id) VALUES (?, ?)", [.text(name), .text(imageID.description)])
    }
}
