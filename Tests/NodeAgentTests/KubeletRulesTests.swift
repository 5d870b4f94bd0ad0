import Foundation
import Platform
import Testing
@testable import NodeAgent

@Suite("The kubelet's rules")
struct KubeletRulesTests {
    @Test func crashBackoffDoublesFromTenSecondsToFiveMinutesAndResets() {
        var backoff = CrashBackoff()
        let t0 = ContinuousClock.now
        #expect(backoff.remaining("c", since: t0, now: t0) == nil, "the first restart is immediate")
        var now = t0
        var delays: [Duration] = []
        for _ in 0..<7 {
            backoff.next("c", now: now)
            delays.append(backoff.delay("c"))
            now += .seconds(1)
        }
        #expect(delays == [.seconds(10), .seconds(20), .seconds(40), .seconds(80), .seconds(160), .seconds(300), .seconds(300)])
        #expect(backoff.remaining("c", since: now, now: now + .seconds(100)) == .seconds(200))
        // Ten minutes without a crash and it starts over.
        let later = now + .seconds(601)
        #expect(backoff.remaining("c", since: later, now: later) == nil)
        backoff.next("c", now: later)
        #expect(backoff.delay("c") == .seconds(10))
    }

    @Test func phasesFollowGetPhase() {
        let started = Date(timeIntervalSince1970: 0)
        func input(_ states: [ContainerView.State], last: ContainerView.State? = nil) -> PodStatusBuilder.Input {
            PodStatusBuilder.Input(sandboxReady: true, podIP: "10.244.0.5", hostIP: "10.88.0.1", initContainers: [],
                                   containers: states.map { ContainerView(name: "c", state: $0, lastState: last, image: "i") }, startTime: started)
        }
        let ok = ContainerView.State.terminated(exitCode: 0, reason: "Completed", message: nil, startedAt: started, finishedAt: started, containerID: nil)
        let failed = ContainerView.State.terminated(exitCode: 1, reason: "Error", message: nil, startedAt: started, finishedAt: started, containerID: nil)
        #expect(PodStatusBuilder.phase(restartPolicy: "Always", input: input([.waiting(reason: "ContainerCreating", message: nil)])) == "Pending")
        #expect(PodStatusBuilder.phase(restartPolicy: "Always", input: input([.running(startedAt: started)])) == "Running")
        #expect(PodStatusBuilder.phase(restartPolicy: "Always", input: input([.waiting(reason: "CrashLoopBackOff", message: nil)], last: failed)) == "Running")
        #expect(PodStatusBuilder.phase(restartPolicy: "Never", input: input([ok])) == "Succeeded")
        #expect(PodStatusBuilder.phase(restartPolicy: "Never", input: input([ok, failed])) == "Failed")
        #expect(PodStatusBuilder.phase(restartPolicy: "OnFailure", input: input([failed])) == "Running")
        #expect(PodStatusBuilder.phase(restartPolicy: "OnFailure", input: input([ok])) == "Succeeded")
    }

    @Test func statusConditionsKeepTheirTransitionTimes() throws {
        let earlier = "2026-01-01T00:00:00Z"
        let pod = try OrderedJSON(parsing: Array(#"{"metadata":{"name":"p"},"spec":{"restartPolicy":"Always"},"status":{"conditions":[{"type":"PodScheduled","status":"True","lastTransitionTime":"\#(earlier)"},{"type":"Initialized","status":"True","lastTransitionTime":"\#(earlier)"}]}}"#.utf8))
        let input = PodStatusBuilder.Input(sandboxReady: true, podIP: "10.244.0.5", hostIP: "10.88.0.1", initContainers: [],
                                           containers: [ContainerView(name: "c", state: .running(startedAt: Date()), ready: true, started: true, image: "i")],
                                           startTime: Date())
        let status = PodStatusBuilder.status(pod: pod, input: input)
        let conditions = status["conditions"]?.arrayValue ?? []
        #expect(conditions.map { $0["type"]?.stringValue ?? "" } == ["PodReadyToStartContainers", "Initialized", "Ready", "ContainersReady", "PodScheduled"])
        #expect(conditions[1]["lastTransitionTime"]?.stringValue == earlier)
        #expect(conditions[2]["status"]?.stringValue == "True")
        #expect(status["podIPs"]?.arrayValue?.first?["ip"]?.stringValue == "10.244.0.5")
    }

    @Test func serviceLinksAndExpansion() throws {
        let service = try OrderedJSON(parsing: Array(#"{"metadata":{"name":"kubia-http"},"spec":{"clusterIP":"10.96.21.137","ports":[{"name":"http","port":80,"protocol":"TCP"}]}}"#.utf8))
        let links = Dictionary(ContainerEnvironment.serviceLinkVariables(service), uniquingKeysWith: { a, _ in a })
        #expect(links["KUBIA_HTTP_SERVICE_HOST"] == "10.96.21.137")
        #expect(links["KUBIA_HTTP_SERVICE_PORT"] == "80")
        #expect(links["KUBIA_HTTP_SERVICE_PORT_HTTP"] == "80")
        #expect(links["KUBIA_HTTP_PORT"] == "tcp://10.96.21.137:80")
        #expect(links["KUBIA_HTTP_PORT_80_TCP_ADDR"] == "10.96.21.137")
        #expect(ContainerEnvironment.expand("$(A)-$$(A)-$(B)", with: ["A": "x"]) == "x-$(A)-$(B)")
        let container = try OrderedJSON(parsing: Array(#"{"args":["-v"]}"#.utf8))
        #expect(ContainerEnvironment.commandLine(container: container, imageEntrypoint: ["node"], imageCmd: ["app.js"], environment: []) == ["node", "-v"])
    }
}
