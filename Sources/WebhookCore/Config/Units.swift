/// Reads the typed scalars of a config: integers, booleans, durations, sizes.
/// Each returns nil for text it does not accept; the resolver words the error.
/// And writes them back for people (messages, `webhookctl`, the reference).
public enum Units {
    static func integer(_ text: String) -> Int? {
        Int(text.trimmingSpaces())
    }

    /// `true/false/on/off/yes/no`, any case.
    static func boolean(_ text: String) -> Bool? {
        switch text.trimmingSpaces().lowercased() {
        case "true", "on", "yes": return true
        case "false", "off", "no": return false
        default: return nil
        }
    }

    /// Milliseconds. A bare number is milliseconds (`cancel_timeout = 5000`).
    static func durationMilliseconds(_ text: String) -> Int? {
        let units: [(String, Int64)] = [
            ("milliseconds", 1), ("millisecond", 1), ("ms", 1),
            ("seconds", 1000), ("second", 1000), ("s", 1000),
            ("minutes", 60_000), ("minute", 60_000), ("m", 60_000),
            ("hours", 3_600_000), ("hour", 3_600_000), ("h", 3_600_000),
            ("days", 86_400_000), ("day", 86_400_000), ("d", 86_400_000),
        ]
        return scaled(text, units: units, bare: 1).flatMap { Int(exactly: $0) }
    }

    /// Bytes, 1024-based as NanoMQ reads them (`64MB`, `10KB`, `512`).
    /// 64-bit on every target: a spool of terabytes is a size a 32-bit
    /// gateway may name too.
    static func sizeBytes(_ text: String) -> Int64? {
        let units: [(String, Int64)] = [
            ("kib", 1024), ("mib", 1_048_576), ("gib", 1_073_741_824),
            ("kb", 1024), ("mb", 1_048_576), ("gb", 1_073_741_824),
            ("k", 1024), ("m", 1_048_576), ("g", 1_073_741_824), ("b", 1),
        ]
        return scaled(text, units: units, bare: 1)
    }

    /// A decimal number (`1.5`) times its unit's factor, rounded. Read
    /// digit by digit, not with `Double(String)`, which needs the C
    /// runtime's strtod (absent from Embedded Swift) and a locale.
    private static func scaled(_ text: String, units: [(String, Int64)], bare: Int64) -> Int64? {
        let lower = text.trimmingSpaces().lowercased()
        var number = Substring(lower)
        var factor = bare
        for (suffix, scale) in units where lower.hasSuffix(suffix) {
            number = lower.dropLast(suffix.count)
            factor = scale
            break
        }
        let digits = String(number).trimmingSpaces()
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
              digits.filter({ $0 == "." }).count <= 1, digits.first != ".", digits.last != "."
        else { return nil }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard let whole = Int64(parts[0]) else { return nil }
        var (result, overflow) = whole.multipliedReportingOverflow(by: factor)
        guard !overflow, result < Int64.max / 2 else { return nil }
        if parts.count == 2 {
            // Digits past the 18th are far below one unit of any factor here.
            let fraction = parts[1].prefix(18)
            guard let numerator = Int64(fraction) else { return nil }
            var denominator: Int64 = 1
            for _ in fraction { denominator *= 10 }
            // numerator / denominator * factor, rounded half up, in integers:
            // no floating point (whose rounding would need libm) and exact.
            let (quotient, remainder) = denominator.dividingFullWidth(numerator.multipliedFullWidth(by: factor))
            result += quotient + (remainder * 2 >= denominator ? 1 : 0)
        }
        return result < Int64.max / 2 ? result : nil
    }

    // MARK: Written for people

    /// `64MB`, `1KB`, `16TB`, `300B`: the largest 1024-based unit that
    /// divides it exactly.
    public static func sizeText(_ bytes: Int64) -> String {
        for (unit, scale) in [("TB", Int64(1) << 40), ("GB", Int64(1) << 30), ("MB", Int64(1) << 20), ("KB", Int64(1) << 10)]
        where bytes >= scale && bytes % scale == 0 {
            return "\(bytes / scale)\(unit)"
        }
        return "\(bytes)B"
    }

    /// `5s`, `100ms`, `10m`, `7d`: the largest unit that divides it exactly.
    public static func durationText(_ milliseconds: Int) -> String {
        for (unit, scale) in [("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)]
        where milliseconds >= scale && milliseconds % scale == 0 {
            return "\(milliseconds / scale)\(unit)"
        }
        return "\(milliseconds)ms"
    }

    /// `1,000,000`.
    public static func integerText(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped += "," }
            grouped.append(digit)
        }
        return value < 0 ? "-" + grouped : grouped
    }

    /// `a`, `a or b`, `a, b or c`.
    public static func alternatives(_ words: [String]) -> String {
        guard words.count > 1 else { return words.first ?? "" }
        return words.dropLast().joined(separator: ", ") + " or " + words.last!
    }
}
