import Foundation
import Platform
import Testing
@testable import Controllers
@testable import KubeModel

@Suite("Workload controller decisions")
struct WorkloadTests {
    @Test func jobBackoffDoublesFromTenSecondsToSixMinutes() {
        let delays = (1...8).map { JobBackoff.delay(afterFailures: Int64($0), initial: .seconds(10)) }
        #expect(delays == [.seconds(10), .seconds(20), .seconds(40), .seconds(80), .seconds(160), .seconds(320), .seconds(360), .seconds(360)])
        #expect(JobBackoff.delay(afterFailures: 0, initial: .seconds(10)) == .zero)
        #expect(JobBackoff.delay(afterFailures: 1_000, initial: .seconds(10)) == .seconds(360))
    }

    @Test func daemonPodsToleratesNodeConditionsAndArePinned() throws {
        let ds = try json(#"{"metadata":{"name":"d","namespace":"default","uid":"u"},"spec":{"template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"i"}],"tolerations":[{"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute"}]}}}}"#)
        let template = DaemonSetController.podTemplate(of: ds)
        let tolerations = template[path: ["spec", "tolerations"]]?.arrayValue ?? []
        // The template's own not-ready toleration is kept, not doubled; the others are added.
        #expect(tolerations.count == 6)
        #expect(tolerations.filter { $0["key"]?.stringValue == "node.kubernetes.io/not-ready" }.count == 1)
        let pinned = DaemonSetController.pinned(template, to: "onekube-m02")
        #expect(DaemonSetController.targetNode(of: pinned) == "onekube-m02")
        var bound = pinned
        bound[path: ["spec", "nodeName"]] = .string("onekube")
        #expect(DaemonSetController.targetNode(of: bound) == "onekube")

        let cordoned = try json(#"{"metadata":{"name":"onekube-m02","labels":{}},"spec":{"unschedulable":true,"taints":[{"key":"node.kubernetes.io/unreachable","effect":"NoExecute"}]}}"#)
        #expect(SchedulingDecision.unfitPlacement(pinned, on: cordoned) == nil)
        let elsewhere = try json(#"{"metadata":{"name":"onekube","labels":{}},"spec":{}}"#)
        #expect(SchedulingDecision.unfitPlacement(pinned, on: elsewhere) != nil)
        let dedicated = try json(#"{"metadata":{"name":"onekube-m02","labels":{}},"spec":{"taints":[{"key":"dedicated","value":"db","effect":"NoSchedule"}]}}"#)
        #expect(SchedulingDecision.unfitPlacement(pinned, on: dedicated) == "node(s) had untolerated taint {dedicated: db}")
    }

    /// The book's rollout of three replicas with the default strategy (one surge, none
    /// unavailable), pass by pass.
    @Test func aRollingUpdateNeverTakesMoreThanTheNewPodsGave() {
        typealias C = RollingStep.Counts
        func step(new: C, old: [C]) -> RollingStep { RollingStep(replicas: 3, maxSurge: 1, maxUnavailable: 0, new: new, old: old) }
        // The surge pod first; nothing old goes before it is available.
        #expect(step(new: C(spec: 0, available: 0), old: [C(spec: 3, available: 3)]) == RollingStep(newSpec: 1, oldSpecs: [3]))
        // It is available: one old pod goes.
        #expect(step(new: C(spec: 1, available: 1), old: [C(spec: 3, available: 3)]) == RollingStep(newSpec: 1, oldSpecs: [2]))
        // The old set's status still counts that pod: the next surge pod, and no second old pod
        // (counted twice, it would leave two ready pods).
        #expect(step(new: C(spec: 1, available: 1), old: [C(spec: 2, available: 3)]) == RollingStep(newSpec: 2, oldSpecs: [2]))
        #expect(step(new: C(spec: 2, available: 1), old: [C(spec: 2, available: 2)]) == RollingStep(newSpec: 2, oldSpecs: [2]))
        #expect(step(new: C(spec: 2, available: 2), old: [C(spec: 2, available: 2)]) == RollingStep(newSpec: 2, oldSpecs: [1]))
        #expect(step(new: C(spec: 3, available: 3), old: [C(spec: 1, available: 1)]) == RollingStep(newSpec: 3, oldSpecs: [0]))
        // Old pods that are not available go at once, oldest set first.
        #expect(step(new: C(spec: 1, available: 0), old: [C(spec: 1, available: 0), C(spec: 3, available: 3)])
                == RollingStep(newSpec: 1, oldSpecs: [0, 3]))
    }

    @Test func templateHashIsStableAndTellsTemplatesApart() throws {
        let a = try json(#"{"spec":{"containers":[{"name":"c","image":"kubia:v1"}]}}"#)
        let b = try json(#"{"spec":{"containers":[{"name":"c","image":"kubia:v2"}]}}"#)
        #expect(TemplateHash.of(a) == TemplateHash.of(try json(#"{"spec":{"containers":[{"name":"c","image":"kubia:v1"}]}}"#)))
        #expect(TemplateHash.of(a) != TemplateHash.of(b))
        #expect(TemplateHash.of(a).count == 10)
        #expect(TemplateHash.of(a).allSatisfy { "bcdfghjklmnpqrstvwxz2456789".contains($0) })
    }

    @Test func jobsGetTheirSelectorAndCountsFromTheApiserver() throws {
        guard let jobs = ResourceCatalog.find(kind: "Job") else { Issue.record("no Job resource"); return }
        var job = try json(#"{"metadata":{"name":"pi","uid":"0b1c"},"spec":{"template":{"spec":{"containers":[{"name":"pi","image":"perl"}],"restartPolicy":"Never"}}}}"#)
        Defaulting.apply(&job, type: jobs)
        #expect(job[path: ["spec", "completions"]]?.intValue == 1)
        #expect(job[path: ["spec", "parallelism"]]?.intValue == 1)
        #expect(job[path: ["spec", "backoffLimit"]]?.intValue == 6)
        #expect(job[path: ["spec", "selector", "matchLabels"]]?.stringMap == ["batch.kubernetes.io/controller-uid": "0b1c"])
        #expect(job[path: ["spec", "template", "metadata", "labels"]]?.stringMap == [
            "batch.kubernetes.io/controller-uid": "0b1c", "batch.kubernetes.io/job-name": "pi", "controller-uid": "0b1c", "job-name": "pi"])
        // Templates get the pod spec defaults but not what admission gives pods.
        #expect(job[path: ["spec", "template", "spec", "tolerations"]] == nil)
        #expect(job[path: ["spec", "template", "spec", "serviceAccountName"]] == nil)
        #expect(Validation.validate(job, type: jobs).isEmpty)

        var parallel = try json(#"{"metadata":{"name":"q","uid":"1"},"spec":{"parallelism":3,"template":{"spec":{"containers":[{"name":"c","image":"i"}],"restartPolicy":"OnFailure"}}}}"#)
        Defaulting.apply(&parallel, type: jobs)
        #expect(parallel[path: ["spec", "completions"]] == nil)

        var always = try json(#"{"metadata":{"name":"bad","uid":"2"},"spec":{"template":{"spec":{"containers":[{"name":"c","image":"i"}]}}}}"#)
        Defaulting.apply(&always, type: jobs)
        let problems = Validation.validate(always, type: jobs).map(\.text)
        #expect(problems == [#"spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never""#], "\(problems)")
    }

    @Test("job rows as kubectl 1.32 prints them", arguments: [
        (#"{"completions":3,"parallelism":2}"#, #"{"succeeded":1,"startTime":"2026-01-01T00:00:00Z"}"#, "Running", "1/3", "60s"),
        (#"{"parallelism":4}"#, #"{}"#, "Running", "0/1 of 4", ""),
        (#"{"completions":1}"#, #"{"succeeded":1,"startTime":"2026-01-01T00:00:00Z","completionTime":"2026-01-01T00:00:07Z","conditions":[{"type":"Complete","status":"True"}]}"#, "Complete", "1/1", "7s"),
        (#"{"completions":1}"#, #"{"failed":7,"conditions":[{"type":"Failed","status":"True"}]}"#, "Failed", "0/1", ""),
    ])
    func jobRows(spec: String, status: String, expectedStatus: String, completions: String, duration: String) throws {
        let job = try json(#"{"metadata":{"name":"j","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":\#(spec),"status":\#(status)}"#)
        let now = try #require(KubeTime.parse("2026-01-01T00:01:00Z"))
        let cells = JobPrinter.cells(job, now: now)
        #expect(cells[1] == expectedStatus)
        #expect(cells[2] == completions)
        #expect(cells[3] == duration)
    }
}
