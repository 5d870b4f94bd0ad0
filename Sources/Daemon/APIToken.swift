import Foundation
import Glibc
import Platform

/// The Kubernetes API's bearer token: made at first start from /dev/urandom, kept 0600 in the
/// data directory, written into the kubeconfig.
public enum APIToken {
    public static func loadOrCreate(path: String) throws -> String {
        if FileSystem.exists(path) {
            let token = try FileSystem.readString(path).trimmingCharacters(in: .whitespacesAndNewlines)
            if token.count >= 32 { return token }
        }
        let fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path: "/dev/urandom") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 32)
        guard read(fd, &bytes, bytes.count) == bytes.count else { throw SystemError("read", path: "/dev/urandom") }
        let token = hexString(bytes)
        try FileSystem.writeAtomically(path, token + "\n", mode: 0o600)
        return token
    }
}
