import Foundation
import TestSupport
import Testing

/// Jobs and DaemonSets through the real kubectl, their pods running on the node agents.
@Suite("Jobs and DaemonSets")
struct WorkloadIntegrationTests {
    static func pods(_ onekube: OnekubeInstance, selector: String) throws -> [String] {
        try onekube.kubectl(["get", "pods", "-l", selector, "--field-selector=status.phase!=Succeeded,status.phase!=Failed",
                             "-o", "jsonpath={range .items[*]}{.metadata.name}{\"\\n\"}{end}"])
            .stdout.split(separator: "\n").map(String.init)
    }

    @Test func jobsRunToCompletionsAtParallelism() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let job = #"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"batch"},"spec":{"completions":3,"parallelism":2,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"busybox","command":["sh","-c","sleep 1; echo counted"]}]}}}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: job).status == 0)
        var most = 0
        try waitUntil(timeout: 60, "three completions") {
            most = max(most, try Self.pods(onekube, selector: "job-name=batch").count)
            return try onekube.kubectl(["get", "job", "batch", "-o", "jsonpath={.status.succeeded}"]).stdout == "3"
        }
        #expect(most >= 1 && most <= 2, "parallelism 2 allows at most two pods at a time: \(most)")
        #expect(try onekube.kubectl(["wait", "--for=condition=complete", "job/batch", "--timeout=10s"]).status == 0)
        let table = try onekube.kubectl(["get", "jobs"]).stdout
        #expect(table.hasPrefix("NAME    STATUS     COMPLETIONS   DURATION   AGE\nbatch   Complete   3/3"), "\(table)")
        let described = try onekube.kubectl(["describe", "job", "batch"]).stdout
        #expect(described.contains("Completed") && described.contains("SuccessfulCreate"), "\(described)")
        #expect(try onekube.kubectl(["logs", "job/batch"]).stdout == "counted\n")
    }

    @Test func aJobFailsPastItsBackoffLimit() throws {
        let images = try ContainerRegistry()
        let onekube = try images.instance()
        let job = #"{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"doomed"},"spec":{"backoffLimit":0,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"main","image":"busybox","command":["false"]}]}}}}"#
        #expect(try onekube.kubectl(["create", "-f", "-"], stdin: job).status == 0)
        #expect(try onekube.kubectl(["wait", "--for=condition=failed", "job/doomed", "--timeout=60s"]).status == 0)
        let described = try onekube.kubectl(["describe", "job", "doomed"]).stdout
        #expect(described.contains("BackoffLimitExceeded") && described.contains("Job has reached the specified backoff limit"), "\(described)")
        #expect(try onekube.kubectl(["get", "job", "doomed"]).stdout.contains("Failed"))
        #expect(try onekube.kubectl(["get", "pods", "-l", "job-name=doomed", "-o", "jsonpath={.items[0].status.phase}"]).stdout == "Failed")

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
