import Foundation
import Testing
@testable import CLI

/// The kubeconfig onekube writes (merged into what is there) and how kubectl mode reads it back.
@Suite("kubeconfig: merging and resolving")
struct KubeconfigTests {
    static let existing = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: work
          cluster:
            server: https://work.example:6443
        users:
        - name: me
          user:
            token: work-token
        contexts:
        - name: work
          context:
            cluster: work
            user: me
            namespace: team
        current-context: work

        """

    func scratch() throws -> String {
        let directory = NSTemporaryDirectory() + "onekube-kubeconfig-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return directory
    }

    @Test func onekubeIsMergedInMadeCurrentAndTakenOutAgain() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/config"
        try Self.existing.write(toFile: path, atomically: true, encoding: .utf8)
        let ca = Data("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n".utf8).base64EncodedString()
        try Kubeconfig.write(server: "https://127.0.0.1:6443", certificateAuthorityData: ca, token: "t1", to: path)
        // Written twice (a restart): still one entry of each.
        try Kubeconfig.write(server: "https://127.0.0.1:7443", certificateAuthorityData: ca, token: "t2", to: path)

        let ours = try KubeconfigContext.resolve(kubeconfig: path, context: nil, namespace: nil)
        #expect(ours.server == "https://127.0.0.1:7443" && ours.token == "t2" && ours.namespace == "default")
        #expect(ours.caPath.map { (try? String(contentsOfFile: $0, encoding: .utf8))?.hasPrefix("-----BEGIN CERTIFICATE-----") == true } == true)
        let config = try Kubeconfig.load(path)
        for list in ["clusters", "users", "contexts"] {
            let names = ((config[list] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String }
            #expect(names.sorted() == [list == "users" ? "me" : "work", "onekube"].sorted(), "\(list): \(names)")
        }
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o644, "an existing file keeps its mode")

        let work = try KubeconfigContext.resolve(kubeconfig: path, context: "work", namespace: nil)
        #expect(work.server == "https://work.example:6443" && work.token == "work-token" && work.namespace == "team")
        #expect(try KubeconfigContext.resolve(kubeconfig: path, context: "work", namespace: "other").namespace == "other")
        #expect(throws: KubectlError.self) { try KubeconfigContext.resolve(kubeconfig: path, context: "nope", namespace: nil) }

        try Kubeconfig.remove(from: path)
        let after = try Kubeconfig.load(path)
        #expect((after["current-context"] as? String) == "")
        #expect(((after["clusters"] as? [[String: Any]]) ?? []).compactMap { $0["name"] as? String } == ["work"])
        #expect(throws: KubectlError.self) { try KubeconfigContext.resolve(kubeconfig: path, context: nil, namespace: nil) }
    }

    @Test func aMissingOrEmptyFileIsAnEmptyConfig() throws {
        let directory = try scratch()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        #expect(try Kubeconfig.load(directory + "/none").isEmpty)
        try "\n".write(toFile: directory + "/empty", atomically: true, encoding: .utf8)
        #expect(try Kubeconfig.load(directory + "/empty").isEmpty)
        try "- a list\n".write(toFile: directory + "/list", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try Kubeconfig.load(directory + "/list") }
        // Written into a directory that does not exist yet.
        try Kubeconfig.write(server: "https://127.0.0.1:6443", certificateAuthorityData: "", token: "t", to: directory + "/new/.kube/config")
        #expect(try KubeconfigContext.resolve(kubeconfig: directory + "/new/.kube/config", context: nil, namespace: nil).token == "t")
    }
}
