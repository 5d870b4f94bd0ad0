import ArgumentParser
import Foundation
import Glibc
import Images
import Platform

/// `docker push NAME[:TAG]`: `POST /images/{full name}/push?tag=`, the progress rendered as docker does.
struct DockerPush: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "push", abstract: "Upload an image to a registry")

    @OptionGroup var global: DockerGlobalOptions
    @Flag(name: [.short, .customLong("quiet")], help: "Suppress verbose output") var quiet = false
    @Argument(help: "NAME[:TAG]") var image: String

    func run() throws {
        try dockerRun {
            let reference = try ImageReference.dockerArgument(image, quiet: quiet)
            let renderer = JSONMessageRenderer(quiet: quiet)
            var status = 0
            var errorBody: [UInt8] = []
            let head = try global.client.perform(
                "POST", "/images/\(DockerClient.pathEncode(reference.name))/push",
                query: [("tag", reference.tag ?? ImageReference.defaultTag)],
                headers: [("X-Registry-Auth", DockerClient.registryAuthHeader(domain: reference.domain))],
                onHead: { status = $0.status }
            ) { chunk in
                if (200..<300).contains(status) { _ = renderer.feed(chunk) } else { errorBody.append(contentsOf: chunk) }
            }
            guard (200..<300).contains(head.status) else { throw DockerClient.daemonError(.init(head: head, body: errorBody)) }
            renderer.finish()
            if let failure = renderer.failure { throw failure }
            if quiet { Console.out(ImageReference.parse(reference).familiarString + "\n") }
        }
    }
}

/// `docker login [-u USER] [-p PASSWORD | --password-stdin] [SERVER]`: the daemon checks the
/// credential (`POST /auth`), then it goes into the docker config file, as the docker CLI keeps it.
struct DockerLogin: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "login", abstract: "Authenticate to a registry")

    @OptionGroup var global: DockerGlobalOptions
    @Option(name: [.short, .customLong("username")], help: "Username") var username: String?
    @Option(name: [.short, .customLong("password")], help: "Password or Personal Access Token (PAT)") var password: String?
    @Flag(name: .customLong("password-stdin"), help: "Take the Password or Personal Access Token (PAT) from stdin") var passwordStdin = false
    @Argument(help: "SERVER") var server: String?

    func run() throws {
        try dockerRun {
            let key = Self.configKey(server)
            guard let username, !username.isEmpty else {
                throw DockerCLIError(message: "Error: Cannot perform an interactive login from a non TTY device")
            }
            var secret = password ?? ""
            if passwordStdin {
                if password != nil { throw DockerCLIError(message: "--password and --password-stdin are mutually exclusive") }
                secret = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
                    .trimmingCharacters(in: CharacterSet(charactersIn: "\r\n"))
            } else if password != nil {
                Console.err("WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n")
            }
            guard !secret.isEmpty else { throw DockerCLIError(message: "Error: Password Required") }
            let body = OrderedJSON.object([
                ("username", .string(username)), ("password", .string(secret)), ("serveraddress", .string(key)),
            ]).serializedBytes()
            let response = try global.client.request("POST", "/auth", body: body)
            guard response.isSuccess else { throw DockerClient.daemonError(response) }
            let path = DockerConfigFile.defaultPath()
            do {
                try DockerConfigFile.store(RegistryCredential(username: username, password: secret), key: key, path: path)
            } catch {
                throw DockerCLIError(message: "Error saving credentials: \(error)")
            }
            Console.err("""
                WARNING! Your credentials are stored unencrypted in '\(path)'.
                Configure a credential helper to remove this warning. See
                https://docs.docker.com/go/credential-store/


                """)
            let status = (try? response.json())?["Status"]?.stringValue ?? ""
            if !status.isEmpty { Console.out(status + "\n") }
        }
    }

    /// Docker Hub's credentials live under its historical key; other registries under the name given.
    static func configKey(_ server: String?) -> String {
        guard let server, !server.isEmpty else { return DockerConfigFile.dockerHubKey }
        var host = Substring(server)
        if let range = host.range(of: "://") { host = host[range.upperBound...] }
        if let slash = host.firstIndex(of: "/") { host = host[..<slash] }
        if host == "docker.io" || host == "index.docker.io" || host == "registry-1.docker.io" { return DockerConfigFile.dockerHubKey }
        return String(host)
    }
}

/// `docker logout [SERVER]`: purely local, as with docker.
struct DockerLogout: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "logout", abstract: "Log out from a registry")

    @OptionGroup var global: DockerGlobalOptions
    @Argument(help: "SERVER") var server: String?

    func run() throws {
        try dockerRun {
            let key = DockerLogin.configKey(server)
            let domain = key == DockerConfigFile.dockerHubKey ? ImageReference.defaultDomain : key
            let removed: Bool
            do {
                removed = try DockerConfigFile.remove(keys: [key] + DockerConfigFile.keys(forDomain: domain), path: DockerConfigFile.defaultPath())
            } catch {
                throw DockerCLIError(message: "\(error)")
            }
            Console.out(removed ? "Removing login credentials for \(key)\n" : "Not logged in to \(key)\n")
        }
    }
}
