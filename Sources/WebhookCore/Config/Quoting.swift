/// How text from a config file appears in a message.
///
/// Messages go to a broker's log one line each, and into a C caller's error
/// buffer, where a NUL ends them. So a message never holds a control
/// character or a byte that is not UTF-8: each is written `\xNN`, as C
/// and Python write bytes. A CR LF in a URL stays on the message's line, a
/// NUL in a value no longer cuts the reason off, and a stray `\xff` is shown
/// for what it is rather than as U+FFFD.
public enum Quoting {
    /// `text` in double quotes, `"` and `\` escaped, control characters as `\xNN`.
    public static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: append(scalar, to: &out)
            }
        }
        return out + "\""
    }

    /// Control characters as `\xNN`, the rest as it is: the last pass over
    /// every message built from config text (a file name, a key).
    public static func escapingControls(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = ""
        for scalar in text.unicodeScalars { append(scalar, to: &out) }
        return out
    }

    /// Raw bytes as text: UTF-8 as it is, except control characters; every
    /// byte that is not part of a valid UTF-8 sequence as `\xNN`.
    public static func escaping<Bytes: Collection>(bytes: Bytes) -> String where Bytes.Element == UInt8 {
        let bytes = Array(bytes)
        var out = ""
        var index = 0
        while index < bytes.count {
            let length = validSequenceLength(bytes, at: index)
            if length == 0 {
                out += hex(bytes[index])
                index += 1
            } else {
                for scalar in String(decoding: bytes[index..<index + length], as: UTF8.self).unicodeScalars {
                    append(scalar, to: &out)
                }
                index += length
            }
        }
        return out
    }

    /// Where the first byte that is not valid UTF-8 is, or nil when all are.
    public static func firstInvalidUTF8<Bytes: Collection>(_ bytes: Bytes) -> Int? where Bytes.Element == UInt8 {
        let bytes = Array(bytes)
        var index = 0
        while index < bytes.count {
            let length = validSequenceLength(bytes, at: index)
            if length == 0 { return index }
            index += length
        }
        return nil
    }

    // MARK: Internals

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    private static func append(_ scalar: Unicode.Scalar, to out: inout String) {
        if scalar.value < 0x80 && isControl(scalar) {
            out += hex(UInt8(scalar.value))
        } else if isControl(scalar) {
            // A C1 control, two bytes in UTF-8.
            for byte in String(scalar).utf8 { out += hex(byte) }
        } else {
            out.unicodeScalars.append(scalar)
        }
    }

    private static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: [UInt8(ascii: "\\"), UInt8(ascii: "x"), digits[Int(byte >> 4)], digits[Int(byte & 0xF)]], as: UTF8.self)
    }

    /// The length of the valid UTF-8 sequence at `index` (RFC 3629: no
    /// overlong forms, no surrogates, nothing past U+10FFFF), or 0.
    private static func validSequenceLength(_ bytes: [UInt8], at index: Int) -> Int {
        let lead = bytes[index]
        let length: Int
        var low: UInt8 = 0x80, high: UInt8 = 0xBF
        switch lead {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0: length = 3; low = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: length = 3
        case 0xED: length = 3; high = 0x9F
        case 0xF0: length = 4; low = 0x90
        case 0xF1...0xF3: length = 4
        case 0xF4: length = 4; high = 0x8F
        default: return 0
        }
        guard index + length <= bytes.count else { return 0 }
        guard (low...high).contains(bytes[index + 1]) else { return 0 }
        for k in 2..<max(2, length) where !(0x80...0xBF).contains(bytes[index + k]) { return 0 }
        return length
    }
}
