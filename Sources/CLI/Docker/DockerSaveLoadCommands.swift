import ArgumentParser
import Foundation
import Glibc
import Platform

/// `docker save`: `GET /images/get`, the tar written to `-o` (atomically) or to stdout.
struct DockerSave: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "save", abstract: "Save one or more images to a tar archive (streamed to STDOUT by default)")

    @OptionGroup var global: DockerGlobalOptions
    @Option(name: [.short, .customLong("output")], help: "Write to a file, instead of STDOUT") var output: String?
    @Argument(help: "IMAGE") var images: [String]

    func run() throws {
        try dockerRun {
            if output == nil && isatty(1) == 1 {
                throw DockerCLIError(message: "cowardly refusing to save to a terminal. Use the -o flag or redirect")
            }
            let target = output.map { $0 + ".tmp-\(getpid())" }
            let fd = target.map { open($0, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) } ?? 1
            guard fd >= 0 else { throw DockerCLIError(message: "failed to save image: \(SystemError("open", path: output ?? "-"))") }
            defer { if fd != 1 { close(fd) } }
            var status = 0
            var errorBody: [UInt8] = []
            do {
                let head = try global.client.perform("GET", "/images/get", query: images.map { ("names", $0) },
                                                     onHead: { status = $0.status }) { chunk in
                    if (200..<300).contains(status) {
                        try FileSystem.writeAll(fd, chunk, path: output ?? "stdout")
                    } else {
                        errorBody.append(contentsOf: chunk)
                    }
                }
                guard (200..<300).contains(head.status) else { throw DockerClient.daemonError(.init(head: head, body: errorBody)) }
                if let target, let output {
                    guard rename(target, output) == 0 else { throw DockerCLIError(message: "failed to save image: \(SystemError("rename", path: output))") }
                }
            } catch {
                if let target { unlink(target) }
                throw error
            }
        }
    }
}

/// `docker load`: the archive from `-i` or stdin to `POST /images/load`.
struct DockerLoad: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "load", abstract: "Load an image from a tar archive or STDIN")

    @OptionGroup var global: DockerGlobalOptions
    @Option(name: [.short, .customLong("input")], help: "Read from tar archive file, instead of STDIN") var input: String?
    @Flag(name: [.short, .customLong("quiet")], help: "Suppress the load output") var quiet = false

    func run() throws {
        try dockerRun {
            let archive: [UInt8]
            if let input {
                do { archive = try FileSystem.readFile(input) } catch {
                    throw DockerCLIError(message: "open \(input): no such file or directory")
                }
            } else {
                if isatty(0) == 1 { throw DockerCLIError(message: "requested load from stdin, but stdin is empty") }
                archive = Array(FileHandle.standardInput.readDataToEndOfFile())
            }
            var query: [(String, String)] = []
            if quiet || !Console.stdoutIsTerminal { query.append(("quiet", "1")) }
            let renderer = JSONMessageRenderer()
            var status = 0
            var errorBody: [UInt8] = []
            let head = try global.client.perform("POST", "/images/load", query: query, body: archive, contentType: "application/x-tar",
                                                 onHead: { status = $0.status }) { chunk in
                if (200..<300).contains(status) { _ = renderer.feed(chunk) } else { errorBody.append(contentsOf: chunk) }
            }
            guard (200..<300).contains(head.status) else { throw DockerClient.daemonError(.init(head: head, body: errorBody)) }
            renderer.finish()
            if let failure = renderer.failure { throw failure }
        }
    }
}
