import Foundation
import KubeModel
import Logging
import ObjectStore
import Platform
import Registry

/// What a fresh cluster has: the four standard namespaces, the `kubernetes` service with
/// endpoints that lead to the API server, and `kube-dns` (answered by the daemon's cluster DNS).
/// Idempotent; run at every start.
public enum ClusterBootstrap {
    public static func ensureDefaults(registry: ObjectRegistry, apiHost: String, apiPort: Int, logger: Logger) throws {
        guard let namespaces = ResourceCatalog.find(kind: "Namespace"), let services = ResourceCatalog.find(kind: "Service"),
              let endpoints = ResourceCatalog.find(kind: "Endpoints"), let slices = ResourceCatalog.find(kind: "EndpointSlice") else { return }
        for name in ["default", "kube-system", "kube-public", "kube-node-lease"] where registry.get(namespaces, namespace: nil, name: name) == nil {
            _ = try registry.createObject(.object([("metadata", .object([("name", .string(name))]))]), type: namespaces)
        }
        registry.allocator.restore(from: registry.store.list(ObjectScope(resource: services.storageName)).items.map(\.value))
        if registry.get(services, namespace: "default", name: "kubernetes") == nil {
            _ = try registry.createObject(.object([
                ("metadata", .object([("name", .string("kubernetes")), ("namespace", .string("default")),
                                      ("labels", .stringMap(["component": "apiserver", "provider": "kubernetes"]))])),
                ("spec", .object([("clusterIP", .string(registry.allocator.apiServerServiceIP)),
                                  ("ports", .array([.object([("name", .string("https")), ("port", .int(443)), ("protocol", .string("TCP")),
                                                             ("targetPort", .int(Int64(apiPort)))])]))])),
            ]), type: services)
        }
        if registry.get(services, namespace: "kube-system", name: "kube-dns") == nil {
            func port(_ name: String, _ number: Int64, _ proto: String) -> OrderedJSON {
                .object([("name", .string(name)), ("port", .int(number)), ("protocol", .string(proto)), ("targetPort", .int(number))])
            }
            _ = try registry.createObject(.object([
                ("metadata", .object([("name", .string("kube-dns")), ("namespace", .string("kube-system")),
                                      ("labels", .stringMap(["k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true",
                                                             "kubernetes.io/name": "CoreDNS"]))])),
                ("spec", .object([("clusterIP", .string(registry.allocator.clusterDNSServiceIP)),
                                  ("selector", .stringMap(["k8s-app": "kube-dns"])),
                                  ("ports", .array([port("dns", 53, "UDP"), port("dns-tcp", 53, "TCP"), port("metrics", 9153, "TCP")]))])),
            ]), type: services)
        }
        // The endpoints follow the API port, which may change between starts.
        let subsets: OrderedJSON = .array([.object([
            ("addresses", .array([.object([("ip", .string(apiHost))])])),
            ("ports", .array([.object([("name", .string("https")), ("port", .int(Int64(apiPort))), ("protocol", .string("TCP"))])])),
        ])])
        if registry.get(endpoints, namespace: "default", name: "kubernetes") == nil {
            _ = try registry.createObject(.object([
                ("metadata", .object([("name", .string("kubernetes")), ("namespace", .string("default")),
                                      ("labels", .stringMap(["endpointslice.kubernetes.io/skip-mirror": "true"]))])),
                ("subsets", subsets),
            ]), type: endpoints)
        } else {
            _ = try registry.replace(endpoints, namespace: "default", name: "kubernetes", expectedRevision: nil, statusOnly: false) { value in
                var next = value
                next["subsets"] = subsets
                return next
            }
        }
        let slice: OrderedJSON = .object([
            ("metadata", .object([("name", .string("kubernetes")), ("namespace", .string("default")),
                                  ("labels", .stringMap(["kubernetes.io/service-name": "kubernetes"]))])),
            ("addressType", .string("IPv4")),
            ("endpoints", .array([.object([("addresses", .array([.string(apiHost)])),
                                           ("conditions", .object([("ready", .bool(true))]))])])),
            ("ports", .array([.object([("name", .string("https")), ("port", .int(Int64(apiPort))), ("protocol", .string("TCP"))])])),
        ])
        if registry.get(slices, namespace: "default", name: "kubernetes") == nil {
            _ = try registry.createObject(slice, type: slices)
        } else {
            _ = try registry.replace(slices, namespace: "default", name: "kubernetes", expectedRevision: nil, statusOnly: false) { value in
                var next = value
                next["endpoints"] = slice["endpoints"]
                next["ports"] = slice["ports"]
                return next
            }
        }
        logger.debug("cluster defaults in place")
    }
}
