import ArgumentParser
import Daemon
import Foundation
import Glibc
import Platform

/// `onekube demo`: the book's chapters 1–2 unattended and offline — build the kubia image, run it
/// with the docker mode, then a ReplicationController, a LoadBalancer service, scale to three and
/// requests answered by several pods — each command shown before it runs, ending with a verdict.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Run the book's walkthrough (build, docker run, RC, LoadBalancer, scale) offline, showing each command.")

    @OptionGroup var data: DataDirectoryOption

    @Flag(help: "Leave the RC and the service in place at the end.")
    var keep = false

    func run() throws {
        guard geteuid() == 0 else {
            Console.err("onekube demo builds and runs containers, which needs root (try: sudo onekube demo)\n")
            throw ExitCode(1)
        }
        let scratch = NSTemporaryDirectory() + "onekube-demo-\(getpid())"
        try FileSystem.createDirectory(scratch, mode: 0o700)
        defer { try? FileSystem.removeTree(scratch) }
        let narrator = DemoNarrator(dataDirectory: data.resolved, scratch: scratch)
        let started = Date()
        do {
            let summary = try DemoScript(narrator: narrator, context: scratch + "/kubia", pidFile: data.configuration.pidFilePath).perform()
            if !keep { try DemoScript.cleanUp(narrator, show: true) }
            Console.out(String(format: "\nonekube demo: it works — built kubia, ran it with docker, served it from %d pods through %@ in %.1f s.\n",
                               summary.pods, summary.address, Date().timeIntervalSince(started)))
        } catch let failure as DemoFailure {
            if !keep { try? DemoScript.cleanUp(narrator, show: false) }
            Console.out("\nonekube demo: \(failure)\n")
            throw ExitCode(1)
        }
    }
}

/// The walkthrough's steps, in the book's order.
struct DemoScript {
    let narrator: DemoNarrator
    let context: String
    let pidFile: String

    struct Summary {
        var pods: Int
        var address: String
    }

    func perform() throws -> Summary {
        if case .notRunning = PidFile.status(path: pidFile) {
            try narrator.show(["start"])
        }
        try DemoImage.writeContext(context)
        // 2.1: build, run, curl, stop.
        try narrator.show(["docker", "build", "-t", "kubia", context])
        try narrator.show(["docker", "run", "--name", "kubia-container", "-p", "8080:8080", "-d", "kubia"])
        try narrator.wait("the container answers on localhost:8080", seconds: 20) { narrator.curl("localhost:8080", show: false) != nil }
        _ = narrator.curl("localhost:8080")
        try narrator.show(["docker", "stop", "kubia-container"])
        try narrator.show(["docker", "rm", "kubia-container"])

        // 2.3: the image on Kubernetes. The book pulls luksa/kubia; offline, the local image
        // (`:latest` would mean "always pull", hence IfNotPresent).
        try narrator.show(["kubectl", "run", "kubia", "--image=kubia", "--image-pull-policy=IfNotPresent", "--port=8080", "--generator=run/v1"])
        try waitForReadyPods(1)
        try narrator.show(["kubectl", "get", "pods"])
        try narrator.show(["kubectl", "expose", "rc", "kubia", "--type=LoadBalancer", "--name", "kubia-http"])
        var external = ""
        try narrator.wait("kubia-http has an EXTERNAL-IP", seconds: 10) {
            external = try narrator.json(["get", "svc", "kubia-http"])[path: ["status", "loadBalancer", "ingress"]]?
                .arrayValue?.first?["ip"]?.stringValue ?? ""
            return !external.isEmpty
        }
        try narrator.show(["kubectl", "get", "services"])
        let address = "\(external):8080"
        try narrator.wait("\(address) answers", seconds: 20) { narrator.curl(address, show: false) != nil }
        _ = narrator.curl(address)

        try narrator.show(["kubectl", "scale", "rc", "kubia", "--replicas=3"])
        let pods = try waitForReadyPods(3)
        try narrator.show(["kubectl", "get", "pods", "-o", "wide"])
        // Requests spread over the replicas once their endpoints are in.
        var answers: [String] = []
        try narrator.wait("answers from several pods", seconds: 20) {
            answers = (1...6).compactMap { _ in narrator.curl(address, show: false) }
            return Set(answers).count >= 2
        }
        Console.out("$ for i in 1 2 3 4 5 6; do curl -s \(address); done\n" + answers.joined())
        return Summary(pods: Set(answers.filter { answer in pods.contains { answer.contains($0) } }).count, address: address)
    }

    /// Waits until `count` kubia pods run and are ready; their names.
    @discardableResult
    func waitForReadyPods(_ count: Int) throws -> [String] {
        var ready: [String] = []
        try narrator.wait("\(count) kubia pod\(count == 1 ? "" : "s") ready", seconds: 60) {
            let items = try narrator.json(["get", "pods", "-l", "run=kubia"])["items"]?.arrayValue ?? []
            ready = items.compactMap { pod in
                let running = pod[path: ["status", "phase"]]?.stringValue == "Running" && pod[path: ["metadata", "deletionTimestamp"]] == nil
                let isReady = pod[path: ["status", "containerStatuses"]]?.arrayValue?.allSatisfy { $0["ready"]?.boolValue == true } ?? false
                return running && isReady ? pod[path: ["metadata", "name"]]?.stringValue : nil
            }
            return ready.count == count
        }
        return ready
    }

    /// Removes what the demo made but the image (the service, the RC and its pods, the container):
    /// the next run's build then comes from the cache.
    static func cleanUp(_ narrator: DemoNarrator, show: Bool) throws {
        let steps = [["kubectl", "delete", "svc", "kubia-http"], ["kubectl", "delete", "rc", "kubia"]]
        if !show {
            _ = try? narrator.run(["docker", "rm", "-f", "kubia-container"])
            for step in steps { _ = try? narrator.run(step) }
            return
        }
        for step in steps { try narrator.show(step) }
    }
}
