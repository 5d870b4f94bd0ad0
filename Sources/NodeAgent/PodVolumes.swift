import Foundation
import KubeModel
import Platform

/// A pod's volumes as host directories under `<data>/pods/<uid>/volumes`: emptyDir, hostPath,
/// and configMap / secret files (keys, `items` with paths, `defaultMode`), written before the
/// containers start and removed with the pod.
public struct PodVolumes: Sendable {
    public let directory: String

    public init(podsDirectory: String, uid: String) {
        directory = "\(podsDirectory)/\(uid)"
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public let message: String
        public var description: String { message }
    }

    /// Makes every volume ready; returns each volume's host path by name.
    public func prepare(pod: OrderedJSON, configMap: (String) -> OrderedJSON?, secret: (String) -> OrderedJSON?) throws(Failure) -> [String: String] {
        var paths: [String: String] = [:]
        for volume in pod[path: ["spec", "volumes"]]?.arrayValue ?? [] {
            guard let name = volume["name"]?.stringValue else { continue }
            if let host = volume[path: ["hostPath", "path"]]?.stringValue {
                let type = volume[path: ["hostPath", "type"]]?.stringValue ?? ""
                var isDirectory: ObjCBool = false
                let exists = FileManager.default.fileExists(atPath: host, isDirectory: &isDirectory)
                switch type {
                case "DirectoryOrCreate" where !exists: try make(host)
                case "Directory" where !isDirectory.boolValue, "File" where !exists || isDirectory.boolValue:
                    throw Failure(message: "hostPath type check failed: \(host) is not a \(type == "File" ? "file" : "directory")")
                default: break
                }
                paths[name] = host
            } else if volume["emptyDir"] != nil {
                let path = "\(directory)/volumes/kubernetes.io~empty-dir/\(name)"
                try make(path)
                paths[name] = path
            } else if let source = volume["configMap"] {
                let object = source["name"]?.stringValue.flatMap(configMap)
                if object == nil && source["optional"]?.boolValue != true {
                    throw Failure(message: "configmap \"\(source["name"]?.stringValue ?? "")\" not found")
                }
                let data = (object?["data"]?.objectValue ?? []).map { ($0.0, Array(($0.1.stringValue ?? "").utf8)) }
                paths[name] = try project(data, source: source, into: "\(directory)/volumes/kubernetes.io~configmap/\(name)")
            } else if let source = volume["secret"] {
                let object = source["secretName"]?.stringValue.flatMap(secret)
                if object == nil && source["optional"]?.boolValue != true {
                    throw Failure(message: "secret \"\(source["secretName"]?.stringValue ?? "")\" not found")
                }
                let data = (object?["data"]?.objectValue ?? []).map { ($0.0, [UInt8](Data(base64Encoded: $0.1.stringValue ?? "") ?? Data())) }
                paths[name] = try project(data, source: source, into: "\(directory)/volumes/kubernetes.io~secret/\(name)")
            } else {
                // Kinds onekube has no backing for (PVCs, CSI …) get an empty directory.
                let path = "\(directory)/volumes/kubernetes.io~empty-dir/\(name)"
                try make(path)
                paths[name] = path
            }
        }
        return paths
    }

    /// The mounts of one container: volume paths (with `subPath`) at their mount paths.
    public static func mounts(container: OrderedJSON, volumes: [String: String]) -> [VolumeMount] {
        (container["volumeMounts"]?.arrayValue ?? []).compactMap { mount in
            guard let name = mount["name"]?.stringValue, let source = volumes[name],
                  let destination = mount["mountPath"]?.stringValue else { return nil }
            let sub = mount["subPath"]?.stringValue ?? ""
            return VolumeMount(source: sub.isEmpty ? source : "\(source)/\(sub)", destination: destination,
                               readOnly: mount["readOnly"]?.boolValue ?? false)
        }
    }

    func project(_ data: [(String, [UInt8])], source: OrderedJSON, into path: String) throws(Failure) -> String {
        try make(path)
        let mode = source["defaultMode"]?.intValue ?? 0o644
        let items = source["items"]?.arrayValue
        let files: [(String, [UInt8], Int64)]
        if let items {
            files = items.compactMap { item in
                guard let key = item["key"]?.stringValue, let entry = data.first(where: { $0.0 == key }) else { return nil }
                return (item["path"]?.stringValue ?? key, entry.1, item["mode"]?.intValue ?? mode)
            }
        } else {
            files = data.map { ($0.0, $0.1, mode) }
        }
        for (relative, bytes, fileMode) in files {
            // Keys are validated names, but a path from `items` must stay inside the volume.
            guard !relative.split(separator: "/").contains(".."), !relative.hasPrefix("/") else {
                throw Failure(message: "invalid path \(relative) in volume")
            }
            let file = "\(path)/\(relative)"
            try make((file as NSString).deletingLastPathComponent)
            guard FileManager.default.createFile(atPath: file, contents: Data(bytes), attributes: [.posixPermissions: Int(fileMode)]) else {
                throw Failure(message: "write \(file) failed")
            }
        }
        return path
    }

    func make(_ path: String) throws(Failure) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw Failure(message: "mkdir \(path): \(error.localizedDescription)")
        }
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }
}
