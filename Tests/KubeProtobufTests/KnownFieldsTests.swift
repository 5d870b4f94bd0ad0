import Platform
import Testing
@testable import KubeProtobuf

@Suite("Fields a kind declares")
struct KnownFieldsTests {
    @Test func unknownFieldsAreFoundWithTheirPathsAndDropped() throws {
        let pod = try OrderedJSON(parsing: Array(#"""
            {"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","lables":{"a":"b"},"labels":{"x":"y"}},
             "spec":{"contianers":[],"containers":[{"name":"c","image":"i","imagePolicy":"Always",
                     "resources":{"limits":{"memory":"1Gi"}},"ports":[{"containerPort":80,"hostPortt":1}]}],
                     "volumes":[{"name":"v","configMap":{"name":"cm","itmes":[]}}]},
             "status":{}}
            """#.utf8))
        let result = try #require(KnownFields.check(pod, apiVersion: "v1", kind: "Pod"))
        #expect(result.unknown == ["metadata.lables", "spec.contianers", "spec.containers[0].imagePolicy",
                                   "spec.containers[0].ports[0].hostPortt", "spec.volumes[0].configMap.itmes"])
        #expect(result.object[path: ["metadata", "lables"]] == nil)
        #expect(result.object[path: ["metadata", "labels"]]?.stringMap == ["x": "y"])
        // Quantities and other value types are not looked into; inline members (the volume
        // source's configMap) are the parent's.
        #expect(result.object[path: ["spec", "containers"]]?.arrayValue?.first?[path: ["resources", "limits", "memory"]]?.stringValue == "1Gi")
        #expect(result.object[path: ["spec", "volumes"]]?.arrayValue?.first?[path: ["configMap", "name"]]?.stringValue == "cm")
    }

    @Test func aCleanObjectPassesUntouched() throws {
        let deployment = try OrderedJSON(parsing: Array(#"""
            {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","creationTimestamp":null},
             "spec":{"replicas":2,"selector":{"matchLabels":{"app":"d"}},"strategy":{"rollingUpdate":{"maxSurge":"25%","maxUnavailable":1}},
                     "template":{"metadata":{"labels":{"app":"d"}},"spec":{"containers":[{"name":"c","image":"i",
                       "livenessProbe":{"httpGet":{"path":"/","port":"http"}},"env":[{"name":"X","valueFrom":{"fieldRef":{"fieldPath":"status.podIP"}}}]}]}}}}
            """#.utf8))
        let result = try #require(KnownFields.check(deployment, apiVersion: "apps/v1", kind: "Deployment"))
        #expect(result.unknown.isEmpty, "\(result.unknown)")
        #expect(result.object == deployment)
        #expect(KnownFields.check(deployment, apiVersion: "example.com/v1", kind: "Widget") == nil)
    }
}
