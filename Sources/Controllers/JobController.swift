import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry
import ServiceLifecycle
import Synchronization

/// Runs Jobs to completion as the job controller does: up to `parallelism` pods at a time until
/// `completions` of them succeed (or, without completions, until one succeeds and the rest
/// end); failed pods are replaced after a back-off (10 s doubling, at most 6 min) until more than
/// `backoffLimit` failed; `activeDeadlineSeconds` ends the Job; `suspend` stops its pods;
/// `ttlSecondsAfterFinished` deletes it afterwards. Status and conditions are what
/// `kubectl get/describe/wait` read.
public final class JobController: Service {
    let registry: ObjectRegistry
    let logger: Logger
    let events: EventRecorder
    let queue = WorkQueue<ObjectKey>()
    /// The first back-off after a failure; it doubles with each further failure.
    let initialBackoff: Duration
    static let jobs = ResourceCatalog.find(kind: "Job")
    static let pods = ResourceCatalog.find(kind: "Pod")

    /// When each Job (by uid) last saw its failure count grow, and to what.
    private let failures = Mutex<[String: (count: Int64, at: ContinuousClock.Instant)]>([:])

    public init(registry: ObjectRegistry, initialBackoff: Duration = .seconds(10), logger: Logger) {
        self.registry = registry
        self.initialBackoff = initialBackoff
        self.logger = logger
        events = EventRecorder(registry: registry, component: "job-controller", logger: logger)
    }

    var store: ObjectStore { registry.store }

    public func run() async throws {
        guard let jobs = Self.jobs, let pods = Self.pods else { return }
        try await ReconcileLoop(queue: queue, store: store).run(
            watching: [jobs, pods], initial: [jobs],
            route: { event in
                if event.key.resource == jobs.storageName {
                    self.queue.add(event.key)
                } else {
                    for owner in event.object.ownerReferences where owner.controller && owner.kind == "Job" {
                        self.queue.add(ObjectKey(resource: jobs.storageName, namespace: event.key.namespace, name: owner.name))
                    }
                }
            },
            reconcile: reconcile)
    }

    static func condition(_ job: OrderedJSON, _ type: String) -> Bool {
        (job[path: ["status", "conditions"]]?.arrayValue ?? []).contains { $0["type"]?.stringValue == type && $0["status"]?.stringValue == "True" }
    }

    static func isFinished(_ job: OrderedJSON) -> Bool { condition(job, "Complete") || condition(job, "Failed") }

    func reconcile(_ key: ObjectKey) {
        guard let jobs = Self.jobs, let pods = Self.pods, let job = store.get(key)?.value, job.deletionTimestamp == nil else { return }
        if Self.isFinished(job) {
            expireIfDue(job, key: key, type: jobs)
            return
        }
        let owned = store.list(ObjectScope(resource: "pods", namespace: key.namespace)).items.map(\.value)
            .filter { pod in pod.ownerReferences.contains { $0.uid == job.uid && $0.controller } }
        func phase(_ pod: OrderedJSON) -> String { pod[path: ["status", "phase"]]?.stringValue ?? "" }
        let active = owned.filter { $0.deletionTimestamp == nil && phase($0) != "Succeeded" && phase($0) != "Failed" }
        let terminating = owned.filter { $0.deletionTimestamp != nil && phase($0) != "Succeeded" && phase($0) != "Failed" }
        let succeeded = Int64(owned.filter { phase($0) == "Succeeded" }.count)
        var failed = Int64(owned.filter { phase($0) == "Failed" }.count)
        // With restartPolicy OnFailure the kubelet restarts containers in place; each restart counts.
        if job[path: ["spec", "template", "spec", "restartPolicy"]]?.stringValue == "OnFailure" {
            failed += active.reduce(0) { sum, pod in
                sum + (pod[path: ["status", "containerStatuses"]]?.arrayValue ?? []).reduce(0) { $0 + ($1["restartCount"]?.intValue ?? 0) }
            }
        }
        let completions = job[path: ["spec", "completions"]]?.intValue
        let parallelism = job[path: ["spec", "parallelism"]]?.intValue ?? 1
        let backoffLimit = job[path: ["spec", "backoffLimit"]]?.intValue ?? 6
        let suspended = job[path: ["spec", "suspend"]]?.boolValue == true
        let now = Date()
        let startTime = job[path: ["status", "startTime"]]?.stringValue ?? (suspended ? nil : KubeTime.format(now))

        var finish: (type: String, reason: String, message: String)?
        let complete = completions.map { succeeded >= $0 } ?? (succeeded > 0 && active.isEmpty)
        if complete {
            finish = ("Complete", "", "")
        } else if failed > backoffLimit {
            finish = ("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
        } else if let deadline = job[path: ["spec", "activeDeadlineSeconds"]]?.intValue, !suspended,
                  let started = startTime.flatMap(KubeTime.parse), now.timeIntervalSince(started) >= Double(deadline) {
            finish = ("Failed", "DeadlineExceeded", "Job was active longer than specified deadline")
        } else if let deadline = job[path: ["spec", "activeDeadlineSeconds"]]?.intValue, !suspended,
                  let started = startTime.flatMap(KubeTime.parse) {
            queue.add(key, after: .seconds(max(0, Double(deadline) - now.timeIntervalSince(started))))
        }

        if let finish {
            for pod in active { delete(pod, of: job, type: pods) }
            if finish.type == "Complete" {
                events.record(job, reason: "Completed", message: "Job completed")
            } else {
                events.record(job, type: "Warning", reason: finish.reason, message: finish.message)
            }
        } else if suspended {
            for pod in active { delete(pod, of: job, type: pods) }
        } else {
            let wanted = completions.map { min(parallelism, max(0, $0 - succeeded)) } ?? (succeeded > 0 ? 0 : parallelism)
            if active.count < wanted {
                let wait = waitBeforeReplacing(job, failed: failed)
                if wait > .zero {
                    queue.add(key, after: wait)
                } else {
                    for _ in 0..<(Int(wanted) - active.count) { create(for: job, type: pods) }
                }
            } else if active.count > wanted {
                let newestFirst = active.sorted { ($0.creationTimestamp ?? "") > ($1.creationTimestamp ?? "") }
                for pod in newestFirst.prefix(active.count - Int(wanted)) { delete(pod, of: job, type: pods) }
            }
        }

        let stillActive = finish == nil && !suspended ? store.list(ObjectScope(resource: "pods", namespace: key.namespace)).items.map(\.value)
            .filter { pod in pod.ownerReferences.contains { $0.uid == job.uid && $0.controller } && pod.deletionTimestamp == nil
                && phase(pod) != "Succeeded" && phase(pod) != "Failed" } : []
        let ready = stillActive.filter(ReplicaSetController.isReady).count
        let (finished, failedCount) = (finish, failed)
        updateStatus(key, type: jobs) { status in
            let finish = finished, failed = failedCount
            let stamp = KubeTime.format(now)
            func condition(_ type: String, _ reason: String, _ message: String) -> OrderedJSON {
                var fields: [(String, OrderedJSON)] = [("type", .string(type)), ("status", .string("True")),
                                                       ("lastProbeTime", .string(stamp)), ("lastTransitionTime", .string(stamp))]
                if !reason.isEmpty { fields.append(("reason", .string(reason))) }
                if !message.isEmpty { fields.append(("message", .string(message))) }
                return .object(fields)
            }
            var conditions = (status["conditions"]?.arrayValue ?? []).filter { $0["type"]?.stringValue != "Suspended" }
            if suspended && finish == nil {
                conditions.append(condition("Suspended", "JobSuspended", "Job suspended"))
            }
            if let finish {
                // Since 1.31 the controller first records why it decided, then the end itself.
                if finish.type == "Complete" {
                    conditions.append(condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods"))
                    conditions.append(condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods"))
                } else {
                    conditions.append(condition("FailureTarget", finish.reason, finish.message))
                    conditions.append(condition("Failed", finish.reason, finish.message))
                }
            }
            var next: [(String, OrderedJSON)] = []
            if !conditions.isEmpty { next.append(("conditions", .array(conditions))) }
            if let startTime { next.append(("startTime", .string(startTime))) }
            if finish?.type == "Complete" { next.append(("completionTime", .string(stamp))) }
            if !stillActive.isEmpty { next.append(("active", .int(Int64(stillActive.count)))) }
            if succeeded > 0 { next.append(("succeeded", .int(succeeded))) }
            if failed > 0 { next.append(("failed", .int(failed))) }
            next.append(("terminating", .int(Int64(terminating.count))))
            next.append(("uncountedTerminatedPods", .object([])))
            next.append(("ready", .int(Int64(ready))))
            return .object(next)
        }
        if finish != nil, let ttl = job[path: ["spec", "ttlSecondsAfterFinished"]]?.intValue {
            queue.add(key, after: .seconds(ttl))
        }
    }

    /// How long until a replacement pod may start: the back-off since the failure count last grew.
    func waitBeforeReplacing(_ job: OrderedJSON, failed: Int64) -> Duration {
        let now = ContinuousClock.now
        let since = failures.withLock { seen -> ContinuousClock.Instant? in
            guard failed > 0 else { seen[job.uid] = nil; return nil }
            if let last = seen[job.uid], last.count == failed { return last.at }
            seen[job.uid] = (failed, now)
            return now
        }
        guard let since else { return .zero }
        let remaining = JobBackoff.delay(afterFailures: failed, initial: initialBackoff) - (now - since)
        return remaining > .zero ? remaining : .zero
    }

    /// `ttlSecondsAfterFinished`: the finished Job, and its pods with it, go once the time is up.
    func expireIfDue(_ job: OrderedJSON, key: ObjectKey, type: ResourceType) {
        failures.withLock { _ = $0.removeValue(forKey: job.uid) }
        guard let ttl = job[path: ["spec", "ttlSecondsAfterFinished"]]?.intValue else { return }
        let conditions = job[path: ["status", "conditions"]]?.arrayValue ?? []
        let finishedAt = conditions.first { ["Complete", "Failed"].contains($0["type"]?.stringValue ?? "") }?["lastTransitionTime"]?.stringValue
        guard let finished = finishedAt.flatMap(KubeTime.parse) else { return }
        let remaining = Double(ttl) - Date().timeIntervalSince(finished)
        if remaining > 0 {
            queue.add(key, after: .seconds(remaining))
            return
        }
        _ = try? registry.deleteObject(type, namespace: key.namespace, name: key.name, options: DeleteOptions(propagationPolicy: "Background"))
    }

    func updateStatus(_ key: ObjectKey, type: ResourceType, _ change: @escaping @Sendable (OrderedJSON) -> OrderedJSON) {
        _ = try? registry.replace(type, namespace: key.namespace, name: key.name, expectedRevision: nil, statusOnly: true) { value in
            var next = value
            next["status"] = change(value["status"] ?? .object([]))
            return next
        }
    }

    func create(for job: OrderedJSON, type: ResourceType) {
        guard let jobs = Self.jobs else { return }
        podControl.create(PodTemplate.pod(from: job[path: ["spec", "template"]] ?? .object([]), owner: job, ownerType: jobs), for: job, type: type)
    }

    func delete(_ pod: OrderedJSON, of job: OrderedJSON, type: ResourceType) { podControl.delete(pod, of: job, type: type) }

    var podControl: PodControl { PodControl(registry: registry, events: events, logger: logger) }
}

/// The wait before a Job's next pod after `failed` failures: the initial delay doubling with each
/// failure, at most 6 minutes.
enum JobBackoff {
    static let maximum: Duration = .seconds(360)

    static func delay(afterFailures failed: Int64, initial: Duration) -> Duration {
        guard failed > 0 else { return .zero }
        var delay = initial
        for _ in 1..<min(failed, 16) { delay = delay * 2 }
        return min(delay, maximum)
    }
}
