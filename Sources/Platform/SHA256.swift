import CCrypto

/// Incremental SHA-256 over OpenSSL's libcrypto (assembly-optimised; Foundation has none on Linux).
public final class SHA256Hasher {
    private let context: OpaquePointer

    public init() {
        // EVP_MD_CTX_new only fails on allocation failure, which Swift treats as fatal anyway.
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("EVP_MD_CTX_new: out of memory") }
        self.context = context
        EVP_DigestInit_ex(context, EVP_sha256(), nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count > 0 else { return }
        EVP_DigestUpdate(context, bytes.baseAddress, bytes.count)
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public func update(_ string: String) {
        var copy = string
        copy.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// The lowercase hex digest; the hasher must not be used afterwards.
    public func finalizeHex() -> String {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        return hexString(out)
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let hasher = SHA256Hasher()
        hasher.update(bytes)
        return hasher.finalizeHex()
    }

    public static func hex(_ string: String) -> String {
        hex(Array(string.utf8))
    }
}

public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var chars = [UInt8]()
    chars.reserveCapacity(bytes.count * 2)
    for b in bytes {
        chars.append(digits[Int(b >> 4)])
        chars.append(digits[Int(b & 0x0f)])
    }
    return String(decoding: chars, as: UTF8.self)
}
