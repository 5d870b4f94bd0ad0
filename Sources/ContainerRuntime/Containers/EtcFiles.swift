/// The /etc/hostname, /etc/hosts and /etc/resolv.conf a container gets.
public enum EtcFiles {
    /// Docker's defaults, the `--add-host` entries (`name:address`), then the container's own.
    public static func hosts(hostname: String, address: String?, extraHosts: [String] = [], gateway: String? = nil) -> String {
        var text = """
            127.0.0.1\tlocalhost
            ::1\tlocalhost ip6-localhost ip6-loopback
            fe00::\tip6-localnet
            ff00::\tip6-mcastprefix
            ff02::1\tip6-allnodes
            ff02::2\tip6-allrouters

            """
        for entry in extraHosts {
            guard let colon = entry.firstIndex(of: ":") else { continue }
            let target = String(entry[entry.index(after: colon)...])
            text += "\(target == "host-gateway" ? gateway ?? target : target)\t\(entry[..<colon])\n"
        }
        if let address { text += "\(address)\t\(hostname)\n" }
        return text
    }

    /// The host's resolver configuration without loopback name servers (unreachable from a
    /// container's network namespace); Google's public servers when none is left, as Docker does.
    public static func resolvConf(host: String) -> String {
        var lines: [String] = []
        var servers = 0
        for line in host.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if fields.first == "nameserver", fields.count >= 2 {
                let server = String(fields[1])
                if server.hasPrefix("127.") || server == "::1" { continue }
                servers += 1
            }
            lines.append(line)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        if servers == 0 { lines += ["nameserver 8.8.8.8", "nameserver 8.8.4.4"] }
        return lines.joined(separator: "\n") + "\n"
    }
}
