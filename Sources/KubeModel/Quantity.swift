import Foundation
import Platform

/// Resource quantities (`500m`, `1.5`, `128Mi`, `1G`, `2e3`), in milli-units for CPU and bytes for
/// everything else.
public enum Quantity {
    static let binary: [String: Double] = ["Ki": 1024, "Mi": 1_048_576, "Gi": 1_073_741_824, "Ti": 1_099_511_627_776,
                                           "Pi": 1_125_899_906_842_624, "Ei": 1_152_921_504_606_846_976]
    static let decimal: [String: Double] = ["n": 1e-9, "u": 1e-6, "m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
                                            "P": 1e15, "E": 1e18]

    /// The value as a plain number (`500m` → 0.5, `1Ki` → 1024).
    public static func parse(_ text: String) -> Double? {
        let s = text.trimmingCharacters(in: .whitespaces)
        guard !s.isEmpty else { return nil }
        for (suffix, factor) in binary where s.hasSuffix(suffix) {
            return Double(s.dropLast(suffix.count)).map { $0 * factor }
        }
        if s.contains(where: { $0 == "e" || $0 == "E" }), let value = Double(s) { return value }
        var number = s
        var factor = 1.0
        if let last = s.last, !last.isNumber, last != "." {
            guard let f = decimal[String(last)] else { return nil }
            factor = f
            number = String(s.dropLast())
        }
        return Double(number).map { $0 * factor }
    }

    public static func milliCPU(_ json: OrderedJSON?) -> Int64 {
        guard let json else { return 0 }
        let value = json.stringValue.flatMap(parse) ?? json.intValue.map(Double.init) ?? 0
        return Int64((value * 1000).rounded(.up))
    }

    public static func bytes(_ json: OrderedJSON?) -> Int64 {
        guard let json else { return 0 }
        let value = json.stringValue.flatMap(parse) ?? json.intValue.map(Double.init) ?? 0
        return Int64(value.rounded(.up))
    }
}

/// What a pod asks of a node: the sum of its containers' requests, or its largest init
/// container's when that is more (as the scheduler computes it).
public struct PodRequests: Sendable, Equatable {
    public var milliCPU: Int64 = 0
    public var memory: Int64 = 0

    public init(milliCPU: Int64 = 0, memory: Int64 = 0) {
        self.milliCPU = milliCPU
        self.memory = memory
    }

    public init(pod: OrderedJSON) {
        func requests(_ c: OrderedJSON) -> (Int64, Int64) {
            let r = c[path: ["resources", "requests"]]
            let l = c[path: ["resources", "limits"]]
            return (Quantity.milliCPU(r?["cpu"] ?? l?["cpu"]), Quantity.bytes(r?["memory"] ?? l?["memory"]))
        }
        for c in pod[path: ["spec", "containers"]]?.arrayValue ?? [] {
            let (cpu, memory) = requests(c)
            milliCPU += cpu
            self.memory += memory
        }
        for c in pod[path: ["spec", "initContainers"]]?.arrayValue ?? [] {
            let (cpu, memory) = requests(c)
            milliCPU = max(milliCPU, cpu)
            self.memory = max(self.memory, memory)
        }
    }
}
