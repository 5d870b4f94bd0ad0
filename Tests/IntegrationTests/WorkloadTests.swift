import Foundation
import TestSupport
import Testing

/// Jobs and DaemonSets through the real kubectl. Until pods run for real, the tests play the
/// kubelet's part by writing pod status.
@Suite("Jobs and DaemonSets")
struct WorkloadIntegrationTests {
    static func finish(_ onekube: OnekubeInstance, _ pod: String, phase: String) throws {
        let patch = #"{"status":{"phase":"\#(phase)"}}"#
        #expect(try onekube.kubectl(["patch", "pod", pod, "--subresource=status", "--type=merge", "-p", patch]).status == 0)
    }

    static func pods(_ onekube: OnekubeInstance, selector: String) throws -> [String] {
        try onekube.kubectl(["get", "pods", "-l", selector, "--field-selector=status.phase!=Succeeded,status.phase!=Failed",
                             "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}"])
            .stdout.split(separator: "\n").map(String.init)
    }

    @Test func jobsRunToCompletionsAtParallelism() throws {
        let onekube = try OnekubeInstance()
        let job = #"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"batch"},"spec":{"completions":3,"parallelism":2,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"busybox","command":["true"]}]}}}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: job).status == 0)
        var finished = Set<String>()
        try waitUntil("three completions") {
            let running = try Self.pods(onekube, selector: "job-name=batch").filter { !finished.contains($0) }
            #expect(running.count <= 2, "parallelism 2 allows at most two pods at a time: \(running)")
            for pod in running {
                try Self.finish(onekube, pod, phase: "Succeeded")
                finished.insert(pod)
            }
            return try onekube.kubectl(["get", "job", "batch", "-o", "jsonpath={.status.succeeded}"]).stdout == "3"
        }
        #expect(try onekube.kubectl(["wait", "--for=condition=complete", "job/batch", "--timeout=10s"]).status == 0)
        let table = try onekube.kubectl(["get", "jobs"]).stdout
        #expect(table.hasPrefix("NAME    STATUS     COMPLETIONS   DURATION   AGE\nbatch   Complete   3/3"), "\(table)")
        let described = try onekube.kubectl(["describe", "job", "batch"]).stdout
        #expect(described.contains("Completed") && described.contains("SuccessfulCreate"), "\(described)")
        #expect(finished.count == 3)
    }

    @Test func aJobFailsPastItsBackoffLimit() throws {
        let onekube = try OnekubeInstance()
        let job = #"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"doomed"},"spec":{"backoffLimit":0,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"busybox","command":["false"]}]}}}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: job).status == 0)
        try waitUntil("the pod") { try !Self.pods(onekube, selector: "job-name=doomed").isEmpty }
        for pod in try Self.pods(onekube, selector: "job-name=doomed") { try Self.finish(onekube, pod, phase: "Failed") }
        #expect(try onekube.kubectl(["wait", "--for=condition=failed", "job/doomed", "--timeout=10s"]).status == 0)
        let described = try onekube.kubectl(["describe", "job", "doomed"]).stdout
        #expect(described.contains("BackoffLimitExceeded") && described.contains("Job has reached the specified backoff limit"), "\(described)")
        #expect(try onekube.kubectl(["get", "job", "doomed"]).stdout.contains("Failed"))

        let always = #"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"always"},"spec":{"template":{"spec":{"containers":[{"name":"main","image":"busybox"}]}}}}"#
        let refused = try onekube.kubectl(["create", "-f", "-"], stdin: always)
        #expect(refused.stderr.contains(#"The Job "always" is invalid: spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never""#), "\(refused)")
    }

    @Test func daemonSetsPutOnePodOnEveryQualifyingNode() throws {
        let onekube = try OnekubeInstance(arguments: ["--nodes", "3"])
        let ds = #"{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"agent"},"spec":{"selector":{"matchLabels":{"app":"agent"}},"template":{"metadata":{"labels":{"app":"agent"}},"spec":{"containers":[{"name":"main","image":"busybox"}]}}}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: ds).status == 0)
        func placement(_ app: String) throws -> [String] {
            try onekube.kubectl(["get", "pods", "-l", "app=\(app)", "-o", "jsonpath={range .items[*]}{.spec.nodeName}{\"\\n\"}{end}"])
                .stdout.split(separator: "\n").map(String.init).sorted()
        }
        try waitUntil("a pod per node") { try placement("agent") == ["onekube", "onekube-m02", "onekube-m03"] }
        let table = try onekube.kubectl(["get", "ds", "agent"]).stdout
        #expect(table.contains("agent   3         3         0       3            0           <none>"), "\(table)")

        // A node that joins gets one; a cordoned node keeps its daemon pod.
        #expect(try onekube.kubectl(["cordon", "onekube-m02"]).status == 0)
        #expect(try onekube.onekube(["node", "add"]).status == 0)
        try waitUntil("the new node's pod") { try placement("agent") == ["onekube", "onekube-m02", "onekube-m03", "onekube-m04"] }

        // A node selector: only labelled nodes, following the label.
        let ssd = ds.replacingOccurrences(of: "agent", with: "ssd-agent")
            .replacingOccurrences(of: #""containers""#, with: #""nodeSelector":{"disk":"ssd"},"containers""#)
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: ssd).status == 0)
        #expect(try onekube.kubectl(["label", "node", "onekube-m03", "disk=ssd"]).status == 0)
        try waitUntil("the labelled node's pod") { try placement("ssd-agent") == ["onekube-m03"] }
        #expect(try onekube.kubectl(["label", "node", "onekube-m03", "disk-"]).status == 0)
        try waitUntil("the pod gone with the label") {
            try onekube.kubectl(["get", "pods", "-l", "app=ssd-agent", "-o", "jsonpath={.items[?(@.metadata.deletionTimestamp)].metadata.name}"]).stdout.isEmpty
                && placement("ssd-agent").isEmpty
        }
        let events = try onekube.kubectl(["get", "events"]).stdout
        #expect(events.contains("SuccessfulCreate") && events.contains("SuccessfulDelete"), "\(events)")
    }
}
