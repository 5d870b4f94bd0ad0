import ArgumentParser
import Foundation
import Platform

/// `docker port CONTAINER [PRIVATE_PORT[/PROTO]]`: the published ports from the container's
/// inspect answer, one `8080/tcp -> 0.0.0.0:8080` line each (or the host address alone for one
/// port), in the CLI's natural order.
struct DockerPort: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "port", abstract: "List port mappings or a specific mapping for the container")

    @OptionGroup var global: DockerGlobalOptions
    @Argument(help: "CONTAINER") var container: String
    @Argument(help: "PRIVATE_PORT[/PROTO]") var port: String?

    func run() throws {
        try dockerRun {
            let response = try global.client.request("GET", "/containers/\(DockerClient.pathEncode(container))/json")
            guard response.isSuccess else { throw DockerClient.daemonError(response) }
            let ports = try response.json()[path: ["NetworkSettings", "Ports"]]?.objectValue ?? []
            var lines: [String] = []
            if let port {
                let parts = port.split(separator: "/", maxSplits: 1).map(String.init)
                let number = parts.first ?? ""
                guard UInt16(number) != nil else {
                    throw DockerCLIError(message: "Error: invalid port (\(number)): strconv.ParseUint: parsing \(GoQuote.quote(number)): \(number.isEmpty || number.contains { !$0.isNumber } ? "invalid syntax" : "value out of range")")
                }
                let key = number + "/" + (parts.count > 1 ? parts[1] : "tcp")
                let frontends = ports.first { $0.0 == key }?.1.arrayValue ?? []
                guard !frontends.isEmpty else { throw DockerCLIError(message: "Error: No public port '\(port)' published for \(container)") }
                lines = frontends.map(Self.hostPort)
            } else {
                lines = ports.flatMap { key, frontends in (frontends.arrayValue ?? []).map { "\(key) -> \(Self.hostPort($0))" } }
            }
            lines.sort(by: Self.naturalLess)
            if !lines.isEmpty { Console.out(lines.joined(separator: "\n") + "\n") }
        }
    }

    /// Go's net.JoinHostPort: an IPv6 host in brackets.
    static func hostPort(_ binding: OrderedJSON) -> String {
        let host = binding["HostIp"]?.stringValue ?? "", port = binding["HostPort"]?.stringValue ?? ""
        return (host.contains(":") ? "[\(host)]" : host) + ":" + port
    }

    /// sortorder.NaturalLess: runs of digits compare as numbers, the rest byte by byte.
    static func naturalLess(_ a: String, _ b: String) -> Bool {
        var left = Array(a.utf8)[...], right = Array(b.utf8)[...]
        func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
        while let x = left.first, let y = right.first {
            // A digit sorts before anything else.
            if isDigit(x) != isDigit(y) { return isDigit(x) }
            if isDigit(x) {
                let leftDigits = left.prefix(while: isDigit), rightDigits = right.prefix(while: isDigit)
                let leftValue = leftDigits.drop { $0 == 48 }, rightValue = rightDigits.drop { $0 == 48 }
                if leftValue.count != rightValue.count { return leftValue.count < rightValue.count }
                if !leftValue.elementsEqual(rightValue) { return leftValue.lexicographicallyPrecedes(rightValue) }
                if leftDigits.count != rightDigits.count { return leftDigits.count < rightDigits.count }
                left = left.dropFirst(leftDigits.count)
                right = right.dropFirst(rightDigits.count)
            } else {
                if x != y { return x < y }
                left = left.dropFirst()
                right = right.dropFirst()
            }
        }
        return left.isEmpty && !right.isEmpty
    }
}
