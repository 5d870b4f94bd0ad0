import Foundation

/// The kubectl builds installed beside the resolved `kubectl` (kubectl.1.27 … kubectl.1.33).
public enum KubectlBuilds {
    public static var all: [String] {
        guard let kubectl = try? Run.resolve("kubectl"),
              let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: kubectl) else {
            return builds(in: (try? Run.resolve("kubectl")).map { ($0 as NSString).deletingLastPathComponent } ?? "/usr/bin")
        }
        let target = resolved.hasPrefix("/") ? resolved : ((kubectl as NSString).deletingLastPathComponent as NSString).appendingPathComponent(resolved)
        return builds(in: (target as NSString).deletingLastPathComponent)
    }

    static func builds(in directory: String) -> [String] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasPrefix("kubectl.1.") }
        return names.sorted { (Int($0.dropFirst("kubectl.1.".count)) ?? 0) < (Int($1.dropFirst("kubectl.1.".count)) ?? 0) }
            .map { directory + "/" + $0 }
    }
}
