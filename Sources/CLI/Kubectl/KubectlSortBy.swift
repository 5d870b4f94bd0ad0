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

    /// Natural order (vbom.ml/util/sortorder, which kubectl uses): runs of digits compare by
    /// value, everything else by character.
    static func naturalLess(_ a: String, _ b: String) -> Bool {
        let x = Array(a.unicodeScalars), y = Array(b.unicodeScalars)
        var i = 0, j = 0
        func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
        while i < x.count && j < y.count {
            if isDigit(x[i]) && isDigit(y[j]) {
                var i2 = i, j2 = j
                while i2 < x.count && x[i2] == "0" { i2 += 1 }
                while j2 < y.count && y[j2] == "0" { j2 += 1 }
                var iEnd = i2, jEnd = j2
                while iEnd < x.count && isDigit(x[iEnd]) { iEnd += 1 }
                while jEnd < y.count && isDigit(y[jEnd]) { jEnd += 1 }
                if iEnd - i2 != jEnd - j2 { return iEnd - i2 < jEnd - j2 }
                for k in 0..<(iEnd - i2) where x[i2 + k] != y[j2 + k] { return x[i2 + k].value < y[j2 + k].value }
                // Equal values: fewer leading zeros first.
                if i2 - i != j2 - j { return i2 - i < j2 - j }
                i = iEnd
                j = jEnd
                continue
            }
            if x[i] != y[j] { return x[i].value < y[j].value }
            i += 1
            j += 1
        }
        return x.count - i < y.count - j
    }
}
