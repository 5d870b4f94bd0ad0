import Platform

/// `--sort-by=JSONPATH` as kubectl sorts: by the first value the (relaxed) path finds in each
/// object, numbers by value, strings byte by byte, stably.
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
        // Strings byte by byte: kubectl 1.32 orders "s-10" before "s-9".
        return Array(KubectlJSONPath.goValue(a).utf8).lexicographicallyPrecedes(Array(KubectlJSONPath.goValue(b).utf8))
    }
}
