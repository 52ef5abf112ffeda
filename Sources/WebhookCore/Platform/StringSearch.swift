// The few string operations the library needs that Foundation (and, in
// Embedded Swift, the standard library) does not give it: written here to
// keep Foundation out of a broker plugin.

extension String {
    /// Without the spaces, tabs and carriage returns at either end (config
    /// values, HTTP header values).
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return String(s)
    }

    /// Whether `other` occurs in this string, byte for byte in UTF-8
    /// (`String.contains(_: StringProtocol)` is Foundation's, and absent in
    /// Embedded Swift).
    public func containsText(_ other: String) -> Bool {
        let haystack = Array(utf8), needle = Array(other.utf8)
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<start + needle.count].elementsEqual(needle) { return true }
        }
        return false
    }
}
