import KubeModel

/// The OpenAPI v2 document kubectl 1.27 and 1.28 download (as gnostic's protobuf, not JSON)
/// before `create -f` and `apply`: only what their field-validation check reads — per kind, a
/// PATCH operation tagged with `x-kubernetes-group-version-kind` that declares the
/// `fieldValidation` query parameter. Field numbers are gnostic's openapi_v2 messages.
enum OpenAPIv2 {
    static var protobuf: [UInt8] {
        var paths = ProtobufWriter()
        for type in ResourceCatalog.all {
            let prefix = type.group.isEmpty ? "/api/\(type.version)" : "/apis/\(type.group)/\(type.version)"
            let path = type.namespaced ? "\(prefix)/namespaces/{namespace}/\(type.plural)/{name}" : "\(prefix)/\(type.plural)/{name}"
            var operation = ProtobufWriter()
            operation.string(5, "patch\(type.kind)")                                  // Operation.operation_id
            for name in ["dryRun", "fieldManager", "fieldValidation", "force"] {
                var query = ProtobufWriter()
                query.string(2, "query")                                               // QueryParameterSubSchema.in
                query.string(4, name)                                                  // .name
                query.string(6, name == "force" ? "boolean" : "string")                // .type
                var nonBody = ProtobufWriter()
                nonBody.message(3, query)                                              // NonBodyParameter.query_parameter_sub_schema
                var parameter = ProtobufWriter()
                parameter.message(2, nonBody)                                          // Parameter.non_body_parameter
                var item = ProtobufWriter()
                item.message(1, parameter)                                             // ParametersItem.parameter
                operation.message(8, item)                                             // Operation.parameters
            }
            var any = ProtobufWriter()
            any.string(2, "group: \"\(type.group)\"\nkind: \(type.kind)\nversion: \(type.version)\n")  // Any.yaml
            var extensionEntry = ProtobufWriter()
            extensionEntry.string(1, "x-kubernetes-group-version-kind")                // NamedAny.name
            extensionEntry.message(2, any)                                             // NamedAny.value
            operation.message(13, extensionEntry)                                      // Operation.vendor_extension
            var pathItem = ProtobufWriter()
            pathItem.message(8, operation)                                             // PathItem.patch
            var named = ProtobufWriter()
            named.string(1, path)                                                      // NamedPathItem.name
            named.message(2, pathItem)                                                 // NamedPathItem.value
            paths.message(2, named)                                                    // Paths.path
        }
        var info = ProtobufWriter()
        info.string(1, "Kubernetes")
        info.string(2, "v1.32.0")
        var document = ProtobufWriter()
        document.string(1, "2.0")                                                      // Document.swagger
        document.message(2, info)                                                      // Document.info
        document.message(8, paths)                                                     // Document.paths
        return document.bytes
    }
}

/// Just enough of the protobuf wire format to write nested messages of strings.
struct ProtobufWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func lengthDelimited(_ field: Int, _ payload: [UInt8]) {
        varint(UInt64(field << 3 | 2))
        varint(UInt64(payload.count))
        bytes += payload
    }

    mutating func string(_ field: Int, _ value: String) { lengthDelimited(field, Array(value.utf8)) }
    mutating func message(_ field: Int, _ value: ProtobufWriter) { lengthDelimited(field, value.bytes) }
}
