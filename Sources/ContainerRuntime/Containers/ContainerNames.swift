/// Container IDs and names as Docker makes and checks them.
public enum ContainerNames {
    /// 64 lowercase hex characters; never all digits (a short ID must not look like a number).
    public static func newID() -> String {
        while true {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255) }
            let id = bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            if !id.prefix(12).allSatisfy(\.isNumber) { return id }
        }
    }

    /// `[a-zA-Z0-9][a-zA-Z0-9_.-]+`, as the Engine API requires.
    public static func isValid(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count >= 2 else { return false }
        func alnum(_ b: UInt8) -> Bool { (48...57).contains(b) || (65...90).contains(b) || (97...122).contains(b) }
        guard alnum(bytes[0]) else { return false }
        return bytes.dropFirst().allSatisfy { alnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }

    static let adjectives = [
        "admiring", "affectionate", "agitated", "amazing", "angry", "awesome", "blissful", "bold", "brave", "charming",
        "clever", "compassionate", "competent", "condescending", "confident", "cool", "cranky", "crazy", "dazzling",
        "determined", "distracted", "dreamy", "eager", "ecstatic", "elastic", "elated", "elegant", "eloquent", "epic",
        "fervent", "festive", "flamboyant", "focused", "friendly", "frosty", "gallant", "gifted", "goofy", "gracious",
        "happy", "hardcore", "heuristic", "hopeful", "hungry", "infallible", "inspiring", "jolly", "jovial", "keen",
        "kind", "laughing", "loving", "lucid", "magical", "modest", "musing", "mystifying", "naughty", "nervous", "nice",
        "nifty", "nostalgic", "objective", "optimistic", "peaceful", "pedantic", "pensive", "practical", "priceless",
        "quirky", "quizzical", "relaxed", "reverent", "romantic", "serene", "sharp", "silly", "sleepy", "stoic",
        "strange", "stupefied", "suspicious", "sweet", "tender", "thirsty", "trusting", "upbeat", "vibrant",
        "vigilant", "vigorous", "wizardly", "wonderful", "xenodochial", "youthful", "zealous", "zen",
    ]

    static let surnames = [
        "albattani", "allen", "archimedes", "babbage", "banach", "bardeen", "bartik", "bassi", "bell", "bhabha",
        "black", "bohr", "booth", "borg", "bose", "brahmagupta", "brown", "carson", "cerf", "chandrasekhar", "curie",
        "darwin", "davinci", "dijkstra", "easley", "einstein", "elion", "engelbart", "euclid", "euler", "faraday",
        "fermat", "fermi", "feynman", "franklin", "galileo", "gauss", "goldberg", "goodall", "hamilton", "hawking",
        "heisenberg", "hertz", "hodgkin", "hopper", "hypatia", "jackson", "jang", "johnson", "kalam", "kepler",
        "khorana", "knuth", "kowalevski", "lamarr", "lamport", "leakey", "lovelace", "lumiere", "mahavira", "mayer",
        "mccarthy", "mcclintock", "meitner", "mendel", "merkle", "mirzakhani", "montalcini", "moore", "morse",
        "napier", "nash", "newton", "nobel", "noether", "pare", "pascal", "pasteur", "payne", "perlman", "pike",
        "poincare", "ptolemy", "raman", "ritchie", "rosalind", "sammet", "shannon", "shockley", "sinoussi", "stonebraker",
        "swanson", "tesla", "thompson", "torvalds", "turing", "varahamihira", "visvesvaraya", "wescoff", "wilbur",
        "williams", "wing", "wozniak", "wright", "yalow", "yonath",
    ]

    public static func random() -> String {
        "\(adjectives.randomElement() ?? "eager")_\(surnames.randomElement() ?? "turing")"
    }
}
