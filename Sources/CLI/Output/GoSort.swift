/// Go's sort.Sort (pattern-defeating quicksort, Go 1.19 and later), step for step: kubectl sorts
/// with it, and it is not stable, so equal elements end where Go puts them only if the same
/// swaps happen. kubectl describe's events (second-resolution times, many equal) need that.
enum GoSort {
    static func sort<T>(_ items: inout [T], less: @escaping (T, T) -> Bool) {
        let n = items.count
        guard n > 1 else { return }
        var sorter = Sorter(items: items, less: less)
        sorter.pdqsort(0, n, limit: bitLength(UInt(n)))
        items = sorter.items
    }

    static func bitLength(_ value: UInt) -> Int { value == 0 ? 0 : UInt.bitWidth - value.leadingZeroBitCount }

    enum Hint { case unknown, increasing, decreasing }

    struct Sorter<T> {
        var items: [T]
        let less: (T, T) -> Bool

        func lessAt(_ i: Int, _ j: Int) -> Bool { less(items[i], items[j]) }
        mutating func swap(_ i: Int, _ j: Int) { items.swapAt(i, j) }

        mutating func insertionSort(_ a: Int, _ b: Int) {
            var i = a + 1
            while i < b {
                var j = i
                while j > a && lessAt(j, j - 1) {
                    swap(j, j - 1)
                    j -= 1
                }
                i += 1
            }
        }

        mutating func siftDown(_ lo: Int, _ hi: Int, _ first: Int) {
            var root = lo
            while true {
                var child = 2 * root + 1
                if child >= hi { return }
                if child + 1 < hi && lessAt(first + child, first + child + 1) { child += 1 }
                if !lessAt(first + root, first + child) { return }
                swap(first + root, first + child)
                root = child
            }
        }

        mutating func heapSort(_ a: Int, _ b: Int) {
            let first = a, hi = b - a
            var i = (hi - 1) / 2
            while i >= 0 {
                siftDown(i, hi, first)
                i -= 1
            }
            i = hi - 1
            while i >= 0 {
                swap(first, first + i)
                siftDown(0, i, first)
                i -= 1
            }
        }

        mutating func pdqsort(_ start: Int, _ end: Int, limit startLimit: Int) {
            var a = start, b = end, limit = startLimit
            var wasBalanced = true, wasPartitioned = true
            while true {
                let length = b - a
                if length <= 12 {
                    insertionSort(a, b)
                    return
                }
                if limit == 0 {
                    heapSort(a, b)
                    return
                }
                if !wasBalanced {
                    breakPatterns(a, b)
                    limit -= 1
                }
                var (pivot, hint) = choosePivot(a, b)
                if hint == .decreasing {
                    reverseRange(a, b)
                    pivot = (b - 1) - (pivot - a)
                    hint = .increasing
                }
                if wasBalanced && wasPartitioned && hint == .increasing {
                    if partialInsertionSort(a, b) { return }
                }
                if a > 0 && !lessAt(a - 1, pivot) {
                    a = partitionEqual(a, b, pivot)
                    continue
                }
                let (mid, alreadyPartitioned) = partition(a, b, pivot)
                wasPartitioned = alreadyPartitioned
                let leftLength = mid - a, rightLength = b - mid
                let balanceThreshold = length / 8
                if leftLength < rightLength {
                    wasBalanced = leftLength >= balanceThreshold
                    pdqsort(a, mid, limit: limit)
                    a = mid + 1
                } else {
                    wasBalanced = rightLength >= balanceThreshold
                    pdqsort(mid + 1, b, limit: limit)
                    b = mid
                }
            }
        }

        mutating func partition(_ a: Int, _ b: Int, _ pivot: Int) -> (Int, Bool) {
            swap(a, pivot)
            var i = a + 1, j = b - 1
            while i <= j && lessAt(i, a) { i += 1 }
            while i <= j && !lessAt(j, a) { j -= 1 }
            if i > j {
                swap(j, a)
                return (j, true)
            }
            swap(i, j)
            i += 1
            j -= 1
            while true {
                while i <= j && lessAt(i, a) { i += 1 }
                while i <= j && !lessAt(j, a) { j -= 1 }
                if i > j { break }
                swap(i, j)
                i += 1
                j -= 1
            }
            swap(j, a)
            return (j, false)
        }

        mutating func partitionEqual(_ a: Int, _ b: Int, _ pivot: Int) -> Int {
            swap(a, pivot)
            var i = a + 1, j = b - 1
            while true {
                while i <= j && !lessAt(a, i) { i += 1 }
                while i <= j && lessAt(a, j) { j -= 1 }
                if i > j { break }
                swap(i, j)
                i += 1
                j -= 1
            }
            return i
        }

        mutating func partialInsertionSort(_ a: Int, _ b: Int) -> Bool {
            let maxSteps = 5, shortestShifting = 50
            var i = a + 1
            for _ in 0..<maxSteps {
                while i < b && !lessAt(i, i - 1) { i += 1 }
                if i == b { return true }
                if b - a < shortestShifting { return false }
                swap(i, i - 1)
                if i - a >= 2 {
                    var j = i - 1
                    while j >= 1 {
                        if !lessAt(j, j - 1) { break }
                        swap(j, j - 1)
                        j -= 1
                    }
                }
                if b - i >= 2 {
                    var j = i + 1
                    while j < b {
                        if !lessAt(j, j - 1) { break }
                        swap(j, j - 1)
                        j += 1
                    }
                }
            }
            return false
        }

        mutating func breakPatterns(_ a: Int, _ b: Int) {
            let length = b - a
            guard length >= 8 else { return }
            var random = UInt64(length)
            let modulus = UInt(1) << UInt(GoSort.bitLength(UInt(length)))
            let index = a + (length / 4) * 2 - 1
            for i in 0..<3 {
                random ^= random << 13
                random ^= random >> 17
                random ^= random << 5
                var other = Int(UInt(truncatingIfNeeded: random) & (modulus - 1))
                if other >= length { other -= length }
                swap(index + i, a + other)
            }
        }

        func choosePivot(_ a: Int, _ b: Int) -> (Int, Hint) {
            let shortestNinther = 50, maxSwaps = 4 * 3
            let l = b - a
            var swaps = 0
            var i = a + l / 4 * 1, j = a + l / 4 * 2, k = a + l / 4 * 3
            if l >= 8 {
                if l >= shortestNinther {
                    i = median(i - 1, i, i + 1, &swaps)
                    j = median(j - 1, j, j + 1, &swaps)
                    k = median(k - 1, k, k + 1, &swaps)
                }
                j = median(i, j, k, &swaps)
            }
            switch swaps {
            case 0: return (j, .increasing)
            case maxSwaps: return (j, .decreasing)
            default: return (j, .unknown)
            }
        }

        func order2(_ a: Int, _ b: Int, _ swaps: inout Int) -> (Int, Int) {
            if lessAt(b, a) {
                swaps += 1
                return (b, a)
            }
            return (a, b)
        }

        func median(_ a: Int, _ b: Int, _ c: Int, _ swaps: inout Int) -> Int {
            let (low, high) = order2(a, b, &swaps)
            let (middle, _) = order2(high, c, &swaps)
            let (_, result) = order2(low, middle, &swaps)
            return result
        }

        mutating func reverseRange(_ a: Int, _ b: Int) {
            var i = a, j = b - 1
            while i < j {
                swap(i, j)
                i += 1
                j -= 1
            }
        }
    }
}
