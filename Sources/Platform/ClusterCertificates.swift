import CCrypto
import Foundation
import Glibc

/// The API server's TLS material in `<data>/pki`: a cluster CA made once (kubeconfigs trust it)
/// and a server certificate for 127.0.0.1, localhost and the `kubernetes` service names, made
/// again at each start from that CA. kubectl sends credentials only over TLS.
public struct ClusterCertificates: Sendable {
    public let directory: String
    public var caCertificatePath: String { directory + "/ca.crt" }
    public var caKeyPath: String { directory + "/ca.key" }
    public var serverCertificatePath: String { directory + "/apiserver.crt" }
    public var serverKeyPath: String { directory + "/apiserver.key" }

    public init(directory: String) {
        self.directory = directory
    }

    public func ensure(serviceIP: String) throws {
        try FileSystem.createDirectory(directory, mode: 0o700)
        let san = ["IP:127.0.0.1", "IP:\(serviceIP)", "DNS:localhost", "DNS:kubernetes", "DNS:kubernetes.default",
                   "DNS:kubernetes.default.svc", "DNS:kubernetes.default.svc.cluster.local"].joined(separator: ",")
        let existingKey = FileSystem.exists(caKeyPath) ? try FileSystem.readString(caKeyPath) : nil
        let existingCert = FileSystem.exists(caCertificatePath) ? try FileSystem.readString(caCertificatePath) : nil
        var caKey: UnsafeMutablePointer<CChar>?
        var caCert: UnsafeMutablePointer<CChar>?
        var serverKey: UnsafeMutablePointer<CChar>?
        var serverCert: UnsafeMutablePointer<CChar>?
        defer { for pem in [caKey, caCert, serverKey, serverCert] { cz_free(pem.map(UnsafeMutableRawPointer.init)) } }
        let ok: Int32
        if let existingKey, let existingCert {
            ok = cz_make_cluster_certificates(existingKey, existingCert, san, 365, &caKey, &caCert, &serverKey, &serverCert)
        } else {
            ok = cz_make_cluster_certificates(nil, nil, san, 365, &caKey, &caCert, &serverKey, &serverCert)
        }
        guard ok == 1, let caKey, let caCert, let serverKey, let serverCert else {
            throw OnekubeError(.internalError, "could not make the cluster certificates in \(directory)")
        }
        if existingKey == nil {
            try FileSystem.writeAtomically(caKeyPath, String(cString: caKey), mode: 0o600)
            try FileSystem.writeAtomically(caCertificatePath, String(cString: caCert), mode: 0o644)
        }
        try FileSystem.writeAtomically(serverKeyPath, String(cString: serverKey), mode: 0o600)
        try FileSystem.writeAtomically(serverCertificatePath, String(cString: serverCert), mode: 0o644)
    }
}
