extension String {
    /// Without the spaces, tabs and carriage returns at either end (config
    /// values, HTTP header values). Written here, not with Foundation's
    /// trimmingCharacters, to keep Foundation out of the library.
    public func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return String(s)
    }
}
