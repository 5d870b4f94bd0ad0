import Platform

/// `--sort-by=JSONPATH` as kubectl sorts: by the first value the (relaxed) path finds in each
/// object, numbers by value, strings in natural order ("kubia-9" before "kubia-10"), stably.
struct KubectlSortBy {
    let expression: String
    let path: KubectlJSONPath

    init(_ expression: String) throws {
        self.expression = KubectlJSONPath.relaxed(expression)
        do {
            path = try KubectlJSONPath(self.expression)
        } catch {
            throw KubectlError.message("error: error parsing jsonpath \(self.expression), \(error)")
        }
    }

    /// `items` ordered by the value `object(item)` has at the path.
    func sort<Item>(_ items: [Item], object: (Item) -> OrderedJSON) throws -> [Item] {
        let keyed = items.map { (item: $0, key: path.values(object($0)).first) }
        if !keyed.isEmpty && keyed.allSatisfy({ $0.key == nil }) {
            throw KubectlError.message("error: couldn't find any field with path \"\(expression)\" in the list of objects")
        }
        // Swift's sort is not stable: the index breaks ties.
        return keyed.enumerated().sorted { a, b in
            if Self.less(a.element.key, b.element.key) { return true }
            if Self.less(b.element.key, a.element.key) { return false }
            return a.offset < b.offset
        }.map(\.element.item)
    }

    static func less(_ a: OrderedJSON?, _ b: OrderedJSON?) -> Bool {
        guard let a else { return b != nil }
        guard let b else { return false }
        if let x = KubectlJSONPath.number(a), let y = KubectlJSONPath.number(b) { return x < y }
        if case .bool(let x) = a, case .bool(let y) = b { return !x && y }
        return naturalLess(KubectlJSONPath.goValue(a), KubectlJSONPath.goValue(b))
    }

    /// Natural order (vbom.ml/util/sortorder's NaturalLess, which kubectl uses): runs of digits
    /// compare by value (then fewer leading zeros first), digits sort before other characters,
    /// everything else bytewise; a proper prefix sorts first.
    static func naturalLess(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        var i = 0, j = 0
        func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
        while i < x.count && j < y.count {
            let (d1, d2) = (isDigit(x[i]), isDigit(y[j]))
            if d1 != d2 { return d1 }
            if !d1 {
                if x[i] != y[j] { return x[i] < y[j] }
                i += 1
                j += 1
                continue
            }
            while i < x.count && x[i] == 0x30 { i += 1 }
            while j < y.count && y[j] == 0x30 { j += 1 }
            let (start1, start2) = (i, j)
            while i < x.count && isDigit(x[i]) { i += 1 }
            while j < y.count && isDigit(y[j]) { j += 1 }
            if i - start1 != j - start2 { return i - start1 < j - start2 }
            if x[start1..<i] != y[start2..<j] { return x[start1..<i].lexicographicallyPrecedes(y[start2..<j]) }
            if start1 != start2 { return start1 < start2 }
        }
        return x.count < y.count
    }
}
