import Foundation
import HTTPClient
import Platform
import Yams

/// The objects of `-f`: files, directories (their .yaml, .yml and .json files, sorted), `-` for
/// stdin, multi-document YAML; each with the name kubectl shows in its messages.
struct KubectlManifests {
    struct Document {
        var object: OrderedJSON
        var source: String
    }

    static func load(_ paths: [String]) throws -> [Document] {
        var documents: [Document] = []
        for path in paths {
            if path == "-" {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                documents += try parse(String(decoding: data, as: UTF8.self), source: "STDIN")
                continue
            }
            if path.hasPrefix("http://") || path.hasPrefix("https://") {
                documents += try parse(try fetch(path), source: path)
                continue
            }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw KubectlError.message("error: the path \"\(path)\" does not exist")
            }
            let files: [String]
            if isDirectory.boolValue {
                files = (try FileManager.default.contentsOfDirectory(atPath: path)).sorted()
                    .filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") || $0.hasSuffix(".json") }
                    .map { (path as NSString).appendingPathComponent($0) }
            } else {
                files = [path]
            }
            for file in files {
                documents += try parse(try FileSystem.readString(file), source: file)
            }
        }
        return documents
    }

    /// A manifest from a URL, with kubectl's words when the server says no.
    static func fetch(_ url: String) throws -> String {
        let response: HTTPClientResponse
        do {
            response = try CurlHTTPClient.shared.sendBlocking(HTTPClientRequest(url: url, stallTimeout: 30, connectTimeout: 10))
        } catch {
            // kubectl's words when nothing answers (it reads the URL as it would a server).
            let host = URL(string: url).map { "\($0.host ?? ""):\($0.port ?? ($0.scheme == "https" ? 443 : 80))" } ?? url
            throw KubectlError.message("The connection to the server \(host) was refused - did you specify the right host or port?")
        }
        guard response.status == 200 else {
            throw KubectlError.message("error: unable to read URL \"\(url)\", server reported \(response.status) \(response.head.reason), status code=\(response.status)")
        }
        return String(decoding: response.body, as: UTF8.self)
    }

    static func parse(_ text: String, source: String) throws -> [Document] {
        var documents: [Any?] = []
        do {
            // Parsed root by root: Yams' load_all sequence ends quietly at a syntax error.
            let parser = try Parser(yaml: text)
            while let node = try parser.nextRoot() { documents.append(node.any) }
        } catch {
            throw KubectlError.message("error: error parsing \(source): error converting YAML to JSON: \(goYAMLMessage(error))")
        }
        return documents.compactMap { $0 }.flatMap { document -> [Document] in
            let object = json(document)
            // A List's items are created one by one, as kubectl does.
            if object["kind"]?.stringValue == "List" {
                return (object["items"]?.arrayValue ?? []).map { Document(object: $0, source: source) }
            }
            if case .object(let pairs) = object, pairs.isEmpty { return [] }
            return [Document(object: object, source: source)]
        }
    }

    /// A libyaml error as go-yaml words it (`yaml: line 5: mapping values are not allowed in this
    /// context`): go-yaml counts a scanner error's line from 1 but a parser error's from 0.
    static func goYAMLMessage(_ error: Error) -> String {
        let problem: String, line: Int
        switch error as? YamlError {
        case .scanner(_, let text, let mark, _)?:
            (problem, line) = (text, mark.line)
        case .parser(_, let text, let mark, _)?:
            (problem, line) = (text, mark.line - 1)
        default:
            return "yaml: \(error)"
        }
        return line > 0 ? "yaml: line \(line): \(problem)" : "yaml: \(problem)"
    }

    /// Yams' values as JSON.
    static func json(_ value: Any?) -> OrderedJSON {
        switch value {
        case nil: return .null
        case let flag as Bool: return .bool(flag)
        case let number as Int: return .int(Int64(number))
        case let number as Double: return .double(number)
        case let text as String: return .string(text)
        case let date as Date: return .string(ISO8601DateFormatter().string(from: date))
        case let list as [Any?]: return .array(list.map(json))
        case let map as [String: Any?]: return .object(map.keys.sorted().map { ($0, json(map[$0] ?? nil)) })
        case let map as [AnyHashable: Any?]:
            return .object(map.map { ("\($0.key)", json($0.value)) }.sorted { $0.0 < $1.0 })
        default: return .null
        }
    }
}
