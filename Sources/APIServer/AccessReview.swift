import HTTPServer
import KubeModel
import KubeProtobuf
import Platform

/// `kubectl auth can-i`: a SelfSubjectAccessReview. onekube has one user, the admin the
/// kubeconfig names, who may do everything, as `cluster-admin` may.
enum AccessReview {
    static let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"

    static func review(_ request: HTTPServerRequest) throws -> HTTPServerResponse {
        guard request.method == .POST else { throw APIError.methodNotAllowed() }
        // kubectl's typed client may send protobuf; the answer does not depend on the question,
        // so a body that is not JSON is answered without echoing its spec.
        let spec = (try? OrderedJSON(parsing: request.bodyBytes))?["spec"] ?? .object([])
        let review = OrderedJSON.object([
            ("kind", .string("SelfSubjectAccessReview")), ("apiVersion", .string("authorization.k8s.io/v1")),
            ("metadata", .object([("creationTimestamp", .null)])), ("spec", spec),
            ("status", .object([("allowed", .bool(true)), ("reason", .string("onekube's single user is the cluster admin"))])),
        ])
        return KubernetesAPI.json(review, status: .created)
    }
}
