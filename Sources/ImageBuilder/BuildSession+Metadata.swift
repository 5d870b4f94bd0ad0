import ContainerRuntime
import Foundation
import Images
import Platform

extension BuildSession {
    // MARK: FROM

    func from(_ instruction: DockerfileInstruction) async throws {
        let words = try ShellWords(escape: escape, environment: metaArguments).words(instruction.arguments)
        var name: String?
        if words.count == 3 && words[1].lowercased() == "as" {
            name = words[2].lowercased()
        } else if words.count != 1 {
            throw OnekubeError(.invalidArgument, "Dockerfile parse error line \(instruction.line): FROM requires either one or three arguments")
        }
        let base = words[0]
        if base.lowercased() == "scratch" {
            stages.append(try BuildStage.scratch(name: name))
            say(" ---> \n")
            return
        }
        var stage: BuildStage
        if let previous = stages.last(where: { $0.name == base.lowercased() }) {
            stage = previous
            stage.name = name
        } else {
            let image = try await baseImage(base)
            stage = BuildStage(name: name, config: image.config, layers: image.layers, imageID: image.id.description,
                               configBytes: image.configBytes)
        }
        stage.arguments = []
        stages.append(stage)
        try await runTriggers(line: instruction.line)
        say(" ---> \(Self.short(stages.last?.imageID ?? stage.imageID))\n")
    }

    /// The base image's ONBUILD triggers, run as if they followed FROM (moby's
    /// dispatchTriggeredOnBuild); the new image does not inherit them.
    func runTriggers(line: Int) async throws {
        guard let triggers = stages.last?.containerConfig.OnBuild, !triggers.isEmpty else { return }
        say("# Executing \(triggers.count) build trigger\(triggers.count > 1 ? "s" : "")\n")
        if var stage = stages.popLast() {
            stage.containerConfig.OnBuild = nil
            stages.append(stage)
        }
        for trigger in triggers {
            let parsed = try Dockerfile.parse(trigger).instructions
            guard parsed.count == 1, var instruction = parsed.first else {
                throw OnekubeError(.invalidArgument, "onbuild trigger should be a single expression")
            }
            instruction.line = line
            try await dispatch(instruction)
        }
    }

    /// A local image by name, pulled first when missing (or always with `--pull`).
    func baseImage(_ name: String) async throws -> ImageRecord {
        if !options.pull, let present = try? images.resolve(name).image { return present }
        let reference = try ImageReference.parse(name)
        let output = self.output
        return try await images.pull(reference, credential: nil) { output(.pull($0)) }
    }

    // MARK: ENV, LABEL, CMD, …

    func metadataStep(_ instruction: DockerfileInstruction, stage: inout BuildStage) async throws {
        let words = ShellWords(escape: escape, environment: stage.expansion)
        var change: (inout BuildStage) throws -> Void
        var summary: String
        switch instruction.keyword {
        case "ENV":
            let pairs = try words.keyValuePairs(instruction.arguments, instruction: "ENV")
            summary = "ENV " + pairs.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            change = { stage in for (key, value) in pairs { stage.setEnvironment(key, value) } }
        case "LABEL":
            let pairs = try words.keyValuePairs(instruction.arguments, instruction: "LABEL")
            summary = "LABEL " + pairs.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            change = { stage in
                var labels = stage.containerConfig.Labels ?? [:]
                for (key, value) in pairs { labels[key] = value }
                stage.containerConfig.Labels = labels
            }
        case "MAINTAINER":
            let author = try words.word(instruction.arguments)
            summary = "MAINTAINER " + author
            change = { stage in stage.config.author = author }
        case "WORKDIR":
            let path = try words.word(instruction.arguments)
            let current = stage.containerConfig.WorkingDir ?? ""
            let resolved = path.hasPrefix("/") ? path : (current.isEmpty ? "/" : current) + "/" + path
            let cleaned = "/" + (CopySources.cleanRelative(resolved) ?? "")
            summary = "WORKDIR " + cleaned
            change = { stage in stage.containerConfig.WorkingDir = cleaned }
        case "USER":
            let user = try words.word(instruction.arguments)
            summary = "USER " + user
            change = { stage in stage.containerConfig.User = user }
        case "EXPOSE":
            let ports = try words.words(instruction.arguments).map { $0.contains("/") ? $0.lowercased() : $0 + "/tcp" }
            summary = "EXPOSE " + ports.joined(separator: " ")
            change = { stage in
                var exposed = stage.containerConfig.ExposedPorts ?? [:]
                for port in ports { exposed[port] = .object([:]) }
                stage.containerConfig.ExposedPorts = exposed
            }
        case "VOLUME":
            let volumes = try instruction.json ?? words.words(instruction.arguments)
            summary = "VOLUME " + "\(volumes)"
            change = { stage in
                var all = stage.containerConfig.Volumes ?? [:]
                for volume in volumes { all[volume] = .object([:]) }
                stage.containerConfig.Volumes = all
            }
        case "STOPSIGNAL":
            let signal = try words.word(instruction.arguments)
            summary = "STOPSIGNAL " + signal
            change = { stage in stage.containerConfig.StopSignal = signal }
        case "CMD", "ENTRYPOINT":
            let command = instruction.json ?? stage.shell + [instruction.arguments]
            let keyword = instruction.keyword
            summary = "\(keyword) \(Self.jsonArray(command))"
            change = { stage in
                if keyword == "CMD" {
                    stage.containerConfig.Cmd = command
                } else {
                    stage.containerConfig.Entrypoint = command
                    // A new ENTRYPOINT resets an inherited CMD, as in docker.
                    stage.containerConfig.Cmd = nil
                }
                stage.containerConfig.ArgsEscaped = instruction.json == nil ? true : nil
            }
        case "SHELL":
            guard let shell = instruction.json, !shell.isEmpty else {
                throw OnekubeError(.invalidArgument, "Dockerfile parse error line \(instruction.line): SHELL requires the arguments to be in JSON form")
            }
            summary = "SHELL \(Self.jsonArray(shell))"
            change = { stage in stage.containerConfig.Shell = shell }
        case "HEALTHCHECK":
            let health = try healthcheck(instruction, stage: stage)
            summary = "HEALTHCHECK \(health.serialized())"
            change = { stage in stage.containerConfig.Healthcheck = try JSONDecoder().decode(JSONValue.self, from: Data(health.serializedBytes())) }
        case "ARG":
            let declared = try argument(instruction).map { name, value in
                (name, options.buildArgs[name] ?? value ?? metaArguments[name] ?? "")
            }
            summary = "ARG " + declared.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            // The values live in the build, not in the image: they apply whether or not the step
            // comes from the cache.
            for (name, value) in declared {
                stage.arguments.removeAll { $0.0 == name }
                stage.arguments.append((name, value))
            }
            change = { _ in }
        case "ONBUILD":
            let trigger = instruction.arguments
            summary = "ONBUILD " + trigger
            change = { stage in stage.containerConfig.OnBuild = (stage.containerConfig.OnBuild ?? []) + [trigger] }
        default:
            throw OnekubeError(.invalidArgument, "Dockerfile parse error line \(instruction.line): unknown instruction: \(instruction.keyword)")
        }
        try await perform(&stage, key: summary, createdBy: "/bin/sh -c #(nop)  \(summary)") { next in
            try change(&next)
            try await commitContainer(for: next, comment: summary)
            return nil
        }
    }

    /// The legacy builder commits a metadata step from a container it creates and never starts
    /// (` ---> Running in …`, ` ---> Removed intermediate container …`): onekube does the same, so
    /// the output is docker's.
    func commitContainer(for stage: BuildStage, comment: String) async throws {
        let record = try builder.createBuildContainer(ContainerConfiguration(
            image: stage.imageID, imageID: stage.imageID, layers: stage.layers.map { images.layers.path($0.chainID) },
            args: stage.shell + ["#(nop) ", comment], env: stage.environment, workingDir: stage.containerConfig.WorkingDir ?? "",
            user: stage.containerConfig.User ?? "", hostname: ""))
        let shortID = String(record.id.prefix(12))
        say(" ---> Running in \(shortID)\n")
        try await builder.removeBuildContainer(record.id)
        say(" ---> Removed intermediate container \(shortID)\n")
    }

    static func jsonArray(_ words: [String]) -> String {
        OrderedJSON.array(words.map { .string($0) }).serialized()
    }

    /// `HEALTHCHECK [--interval=…] CMD …` or `HEALTHCHECK NONE`, stored as docker stores it.
    func healthcheck(_ instruction: DockerfileInstruction, stage: BuildStage) throws -> OrderedJSON {
        let arguments = instruction.arguments.trimmingCharacters(in: .whitespaces)
        if arguments.uppercased() == "NONE" { return .object([("Test", .array([.string("NONE")]))]) }
        guard arguments.uppercased().hasPrefix("CMD") else {
            throw OnekubeError(.invalidArgument, "Dockerfile parse error line \(instruction.line): Unknown type \"\(arguments.split(separator: " ").first ?? "")\" in HEALTHCHECK (try CMD)")
        }
        let command = arguments.dropFirst(3).trimmingCharacters(in: .whitespaces)
        var test: [String]
        if command.hasPrefix("["), let array = try? JSONSerialization.jsonObject(with: Data(command.utf8)) as? [String] {
            test = ["CMD"] + array
        } else {
            test = ["CMD-SHELL", command]
        }
        var fields: [(String, OrderedJSON)] = [("Test", .array(test.map { .string($0) }))]
        for (flag, key) in [("interval", "Interval"), ("timeout", "Timeout"), ("start-period", "StartPeriod"), ("start-interval", "StartInterval")] {
            guard let value = instruction.flags[flag] else { continue }
            guard let duration = Self.goDuration(value) else {
                throw OnekubeError(.invalidArgument, "Dockerfile parse error line \(instruction.line): invalid \(flag) \(value)")
            }
            fields.append((key, .int(duration)))
        }
        if let retries = instruction.flags["retries"] {
            guard let count = Int64(retries) else {
                throw OnekubeError(.invalidArgument, "Dockerfile parse error line \(instruction.line): invalid retries \(retries)")
            }
            fields.append(("Retries", .int(count)))
        }
        return .object(fields)
    }

    /// Go's time.ParseDuration for the units a HEALTHCHECK uses (`30s`, `1m30s`, `500ms`), in nanoseconds.
    static func goDuration(_ text: String) -> Int64? {
        let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("µs", 1e3), ("ms", 1e6), ("s", 1e9), ("m", 60e9), ("h", 3600e9)]
        var rest = Substring(text)
        var total = 0.0
        guard !rest.isEmpty else { return nil }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            guard let value = Double(number) else { return nil }
            rest = rest.dropFirst(number.count)
            guard let unit = units.first(where: { rest.hasPrefix($0.0) }) else { return nil }
            rest = rest.dropFirst(unit.0.count)
            total += value * unit.1
        }
        return Int64(total)
    }
}
