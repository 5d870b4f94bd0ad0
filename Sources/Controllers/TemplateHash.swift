import Platform

/// A short stable hash of a pod template in the alphabet Kubernetes uses for generated names, as
/// the values of `pod-template-hash` (Deployments) and `controller-revision-hash` (DaemonSets).
enum TemplateHash {
    static func of(_ template: OrderedJSON) -> String {
        // FNV-1a over the canonical bytes: stable across restarts, unlike Hasher.
        var hash: UInt32 = 2_166_136_261
        for byte in template.serializedBytes() {
            hash ^= UInt32(byte)
            hash = hash &* 16_777_619
        }
        let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")
        var text = ""
        var value = hash
        for _ in 0..<10 {
            text.append(alphabet[Int(value % UInt32(alphabet.count))])
            value /= UInt32(alphabet.count)
        }
        return text
    }
}
