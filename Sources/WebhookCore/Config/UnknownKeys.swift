/// The unknown-key check: every key under `webhook` that `Setting.all`
/// does not know (a block's keys and a rule's included) is a warning that
/// names it and, when one is close, the key it probably meant.
///
/// Warnings, never errors: NanoMQ ignores keys it does not know, and a
/// config that starts NanoMQ should start the library. `webhookctl check
/// --strict` turns them into a failure.
enum UnknownKeys {
    /// The keys of one rule in `events = [ ... ]`.
    static let ruleKeys = ["event", "topic", "endpoints"]

    /// The names directly under `webhook`: keys and blocks, aliases included.
    static let topLevel: [String] = {
        var names: [String] = []
        for setting in Setting.all {
            let name = setting.block ?? setting.key
            if !names.contains(name) { names.append(name) }
        }
        for (alias, _) in Setting.blockAliases { names.append(alias) }
        return names
    }()

    /// A block's keys (`tls` for `ssl`).
    static func keys(ofBlock block: String) -> [String] {
        let name = Setting.blockAliases.first { $0.0 == block }?.1 ?? block
        return Setting.all.filter { $0.block == name }.map { $0.name }
    }

    /// One warning per unknown key of `section`, in the order they appear:
    /// "FILE:LINE:COL: webhook.retry.max_atempts: unknown key, ignored (did
    /// you mean max_attempts?)". `ruleKey` names the rule at an index.
    static func warnings(in section: ConfigObject, prefix: String, ruleKey: (Int) -> String) -> [String] {
        var warnings: [String] = []
        check(section, known: topLevel, path: prefix, into: &warnings)
        for name in section.keys {
            let known = keys(ofBlock: name)
            guard !known.isEmpty, case .object(let block) = section[name]!.value else { continue }
            check(block, known: known, path: "\(prefix).\(name)", into: &warnings)
        }
        if let node = section["events"], case .array(let rules) = node.value {
            for (index, element) in rules.enumerated() {
                guard case .object(let rule) = element.value else { continue }
                check(rule, known: ruleKeys, path: ruleKey(index), into: &warnings)
            }
        }
        return warnings
    }

    private static func check(_ object: ConfigObject, known: [String], path: String, into warnings: inout [String]) {
        for key in object.keys where !known.contains(key) {
            var message = "\(object[key]!.location): \(path).\(key): unknown key, ignored"
            if let near = nearest(to: key, in: known) { message += " (did you mean \(near)?)" }
            warnings.append(Quoting.escapingControls(message))
        }
    }

    /// The known key closest to `key` by edit distance, when it is close
    /// enough to be a typo: at most 2 edits, and fewer than half the key.
    static func nearest(to key: String, in known: [String]) -> String? {
        let typed = Array(key.lowercased().utf8)
        var best: (key: String, distance: Int)?
        for candidate in known {
            let distance = editDistance(typed, Array(candidate.utf8))
            if distance <= 2, distance * 2 < max(typed.count, 2), distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.key
    }

    /// Levenshtein distance, with a swap of two neighbours counting as one
    /// edit (the commonest typo: `max_attmepts`).
    static func editDistance(_ a: [UInt8], _ b: [UInt8]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var before = [Int](repeating: 0, count: b.count + 1)
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                if i > 1, j > 1, a[i - 1] == b[j - 2], a[i - 2] == b[j - 1] {
                    current[j] = min(current[j], before[j - 2] + 1)
                }
            }
            (before, previous, current) = (previous, current, before)
        }
        return previous[b.count]
    }
}
