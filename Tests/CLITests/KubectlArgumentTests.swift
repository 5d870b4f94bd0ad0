import ArgumentParser
import Testing
@testable import CLI

/// kubectl mode reads the book's command lines (and their kubectl spellings) as kubectl does.
@Suite("kubectl mode: argument parsing")
struct KubectlArgumentTests {
    func parse<Command: ParsableCommand>(_ arguments: [String], as type: Command.Type) throws -> Command {
        let parsed = try KubectlCommand.parseAsRoot(arguments)
        return try #require(parsed as? Command, "\(arguments) parsed as \(Swift.type(of: parsed))")
    }

    @Test func theBooksCommands() throws {
        let run = try parse(["run", "kubia", "--image=luksa/kubia", "--port=8080", "--generator=run/v1"], as: KubectlRunCommand.self)
        #expect(run.name == "kubia" && run.image == "luksa/kubia" && run.port == 8080 && run.generator == "run/v1")
        let expose = try parse(["expose", "rc", "kubia", "--type=LoadBalancer", "--name", "kubia-http"], as: KubectlExposeCommand.self)
        #expect(expose.target == ["rc", "kubia"] && expose.type == "LoadBalancer" && expose.name == "kubia-http")
        let scale = try parse(["scale", "rc", "kubia", "--replicas=3"], as: KubectlScaleCommand.self)
        #expect(scale.target == ["rc", "kubia"] && scale.replicas == 3)
        let get = try parse(["get", "pods", "-o", "wide", "-n", "kube-system", "-l", "app=kubia", "--show-labels", "-L", "env,tier"], as: KubectlGetCommand.self)
        #expect(get.arguments == ["pods"] && get.output == "wide" && get.global.namespace == "kube-system" && get.selector == "app=kubia")
        #expect(get.showLabels && get.labelColumns == ["env,tier"])
        let all = try parse(["get", "pods", "-A", "-w", "--sort-by=.metadata.name", "--field-selector", "status.phase=Running"], as: KubectlGetCommand.self)
        #expect(all.allNamespaces && all.watch && all.sortBy == ".metadata.name" && all.fieldSelector == "status.phase=Running")
        let logs = try parse(["logs", "kubia-4jfyf", "-f", "-p", "-c", "kubia", "--tail", "10", "--since=5m"], as: KubectlLogsCommand.self)
        #expect(logs.pod == "kubia-4jfyf" && logs.follow && logs.previous && logs.container == "kubia" && logs.tail == 10 && logs.since == "5m")
        let describe = try parse(["describe", "pod", "kubia-4jfyf"], as: KubectlDescribeCommand.self)
        #expect(describe.target == ["pod", "kubia-4jfyf"])
        let exec = try parse(["exec", "-it", "kubia-4jfyf", "--", "sh"], as: KubectlExecCommand.self)
        #expect(exec.stdin && exec.tty && exec.words == ["kubia-4jfyf", "sh"])
        let forward = try parse(["port-forward", "kubia-manual", "8888:8080", "9090", "--address", "127.0.0.1"], as: KubectlPortForwardCommand.self)
        #expect(forward.target == "kubia-manual" && forward.ports == ["8888:8080", "9090"] && forward.address == ["127.0.0.1"])
    }

    @Test func manifestsAndChanges() throws {
        let create = try parse(["create", "-f", "kubia-rc.yaml", "-f", "dir/"], as: KubectlCreateCommand.self)
        #expect(create.filename == ["kubia-rc.yaml", "dir/"])
        let apply = try parse(["apply", "--filename", "-"], as: KubectlApplyCommand.self)
        #expect(apply.filename == ["-"])
        let delete = try parse(["delete", "-f", "a.yaml", "--grace-period=0", "--cascade=orphan", "--ignore-not-found"], as: KubectlDeleteCommand.self)
        #expect(delete.filename == ["a.yaml"] && delete.gracePeriod == 0 && delete.cascade == "orphan" && delete.ignoreNotFound && delete.target.isEmpty)
        let label = try parse(["label", "node", "onekube-m02", "ssd=true", "--overwrite"], as: KubectlLabelCommand.self)
        #expect(label.arguments == ["node", "onekube-m02", "ssd=true"] && label.overwrite)
        let patch = try parse(["patch", "deploy", "kubia", "--type=json", "-p", "[]"], as: KubectlPatchCommand.self)
        #expect(patch.type == "json" && patch.patch == "[]")
        let dryRun = try parse(["run", "x", "--image=busybox", "--dry-run=client", "-o", "yaml", "--", "sleep", "10"], as: KubectlRunCommand.self)
        #expect(dryRun.creation.dryRun == "client" && dryRun.creation.output == "yaml")
        #expect(throws: (any Error).self) { try KubectlCommand.parseAsRoot(["scale", "rc", "kubia", "--replicas=three"]) }
        #expect(throws: (any Error).self) { try KubectlCommand.parseAsRoot(["nosuchcommand"]) }
    }

    @Test func globalFlagsMayComeFirst() {
        #expect(KubectlArguments.movingGlobalOptions(["-n", "kube-system", "get", "pods"]) == ["get", "pods", "-n", "kube-system"])
        #expect(KubectlArguments.movingGlobalOptions(["--kubeconfig=/k", "--context", "c", "exec", "p", "--", "ls", "-n"])
                == ["exec", "p", "--kubeconfig=/k", "--context", "c", "--", "ls", "-n"])
        #expect(KubectlArguments.movingGlobalOptions(["-nkube-system", "get", "pods"]) == ["get", "pods", "-nkube-system"])
        #expect(KubectlArguments.movingGlobalOptions(["get", "pods", "-n", "x"]) == ["get", "pods", "-n", "x"])
    }
}
