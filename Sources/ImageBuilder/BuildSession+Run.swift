import ContainerRuntime
import Foundation
import Images
import Platform

extension BuildSession {
    /// RUN: the command in a container of the stage's image on onekube's runtime; its upper
    /// directory becomes the layer. The container goes whatever happens.
    func runStep(_ instruction: DockerfileInstruction, stage: inout BuildStage) async throws {
        let command = instruction.json ?? stage.shell + [instruction.arguments]
        // Build arguments reach the command as variables and, as in the legacy builder, the cache
        // key (`|1 VERSION=2 /bin/sh -c …`), so a changed --build-arg reruns the step.
        let arguments = stage.arguments
        let prefix = arguments.isEmpty ? "" : "|\(arguments.count) " + arguments.map { "\($0.0)=\($0.1)" }.joined(separator: " ") + " "
        let key = "RUN " + prefix + Self.jsonArray(command)
        let createdBy = prefix + command.joined(separator: " ")
        try await perform(&stage, key: key, createdBy: createdBy) { next in
            try await runContainer(command: command, stage: next)
        }
    }

    private func runContainer(command: [String], stage: BuildStage) async throws -> LayerRecord {
        let containers = builder.containers
        let config = stage.containerConfig
        var environment = stage.environment
        for (name, value) in stage.arguments where !environment.contains(where: { $0.hasPrefix(name + "=") }) {
            environment.append("\(name)=\(value)")
        }
        if !environment.contains(where: { $0.hasPrefix("PATH=") }) {
            environment.append("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        }
        let workingDir = config.WorkingDir ?? ""
        let layerPaths = stage.layers.map { images.layers.path($0.chainID) } + [builder.initLayer]
        let record = try builder.createBuildContainer(ContainerConfiguration(
            image: stage.imageID, imageID: stage.imageID, layers: layerPaths, args: command, env: environment,
            workingDir: workingDir, user: config.User ?? "", hostname: ""))
        let shortID = String(record.id.prefix(12))
        say(" ---> Running in \(shortID)\n")
        do {
            let upper = containers.configuration.containersDirectory + "/" + record.id + "/upper"
            if !workingDir.isEmpty && !layerPaths.contains(where: { FileSystem.isDirectory($0 + workingDir) }) {
                // The legacy builder makes a missing WORKDIR; the runtime would fail its chdir.
                try FileSystem.createDirectory(upper + workingDir, mode: 0o755)
            }
            let (_, output) = try containers.attach(record.id, streams: [.stdout, .stderr])
            _ = try await containers.start(record.id)
            for await chunk in output {
                let text = String(decoding: chunk.bytes, as: UTF8.self)
                // moby colours build-time stderr red.
                say(chunk.stream == .stderr ? "\u{1b}[91m" + text + "\u{1b}[0m" : text)
            }
            let status = try await containers.wait(record.id, condition: .notRunning)
            guard status == 0 else {
                throw BuildFailure(message: "The command '\(command.joined(separator: " "))' returned a non-zero code: \(status)", code: status)
            }
            let layer = try await commitLayer(upper: upper, stage: stage)
            try await builder.removeBuildContainer(record.id)
            say(" ---> Removed intermediate container \(shortID)\n")
            return layer
        } catch {
            do { try await builder.removeBuildContainer(record.id) } catch {
                builder.logger.warning("could not remove a build container", metadata: ["id": "\(record.id)", "error": "\(error)"])
            }
            throw error
        }
    }
}
