/// The key reference in docs/config.md, written from the settings table:
/// `webhookctl reference` prints it, and a test fails when the page and
/// the table differ.
public enum SettingsReference {
    /// The Markdown table: key, type, range, default, what it does.
    public static func table() -> String {
        var lines = ["| key | type | range | default | what it does |", "|---|---|---|---|---|"]
        for setting in Setting.all {
            lines.append("| `\(setting.key)` | \(type(setting)) | \(range(setting)) | \(defaultValue(setting)) | \(setting.doc) |")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func type(_ setting: Setting) -> String {
        if let text = setting.typeText { return text }
        switch setting.kind {
        case .flag: return "bool"
        case .integer: return "integer"
        case .duration: return "duration"
        case .size: return "size"
        case .choice(let words, _): return words.map { "`\($0)`" }.joined(separator: ", ")
        case .text: return "string"
        }
    }

    static func range(_ setting: Setting) -> String {
        if let text = setting.rangeText { return text }
        switch setting.kind {
        case .integer(let range, _):
            return "\(Units.integerText(range.lowerBound))-\(Units.integerText(range.upperBound))"
        case .duration(let range, _):
            return "\(duration(range.lowerBound))-\(duration(range.upperBound))"
        case .size(let range, _):
            return range.lowerBound <= 1 ? "up to \(Units.sizeText(range.upperBound))"
                : "\(Units.sizeText(range.lowerBound))-\(Units.sizeText(range.upperBound))"
        case .flag, .choice, .text:
            return ""
        }
    }

    static func defaultValue(_ setting: Setting) -> String {
        if let text = setting.defaultText { return text }
        switch setting.kind {
        case .flag(let value): return value.map { "`\($0)`" } ?? ""
        case .integer(_, let value): return Units.integerText(value)
        case .duration(_, let value): return duration(value)
        case .size(_, let value): return Units.sizeText(value)
        case .choice(_, let value): return "`\(value)`"
        case .text: return ""
        }
    }

    private static func duration(_ milliseconds: Int) -> String {
        milliseconds == 0 ? "0" : Units.durationText(milliseconds)
    }
}
