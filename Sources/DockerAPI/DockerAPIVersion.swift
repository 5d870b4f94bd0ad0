/// The Engine API versions served: 1.50 is what docker CLI 28 speaks, so it never downgrades.
public enum DockerAPIVersion {
    public static let current = "1.50"
    public static let minimum = "1.24"
    /// The engine version `docker version` shows for the server.
    public static let engine = "28.2.2"

    /// Compares "1.50" and "1.9" numerically, part by part.
    static func compare(_ a: String, _ b: String) -> Int {
        let pa = a.split(separator: ".").map { Int($0) ?? 0 }
        let pb = b.split(separator: ".").map { Int($0) ?? 0 }
        for i in 0..<max(pa.count, pb.count) {
            let x = i < pa.count ? pa[i] : 0
            let y = i < pb.count ? pb[i] : 0
            if x != y { return x < y ? -1 : 1 }
        }
        return 0
    }
}
