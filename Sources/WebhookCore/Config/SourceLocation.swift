/// A place in a config file, for error messages: `nanomq.conf:42:19`.
public struct SourceLocation: Equatable, Sendable, CustomStringConvertible {
    /// The file as the caller named it (or `<text>` for config given in memory).
    public var file: String
    /// 1-based line.
    public var line: Int
    /// 1-based column, counted in bytes.
    public var column: Int

    public init(file: String, line: Int, column: Int) {
        self.file = file
        self.line = line
        self.column = column
    }

    public var description: String { "\(file):\(line):\(column)" }
}
