/// Names people's files arrive with, made safe to store and show.
public enum DocumentFileName {
    /// The longest name kept, in characters (the extension is kept when cutting).
    public static let maxLength = 120

    /// `raw` without any path (everything up to the last `/` or `\`), control and invisible formatting characters
    /// (newlines, bidirectional overrides), leading dots and surrounding spaces, cut to ``maxLength`` characters.
    /// An empty result becomes `fallback`.
    public static func sanitize(_ raw: String, fallback: String = "document") -> String {
        let lastComponent = raw.split(omittingEmptySubsequences: false) { $0 == "/" || $0 == "\\" }.last ?? ""
        var scalars = String.UnicodeScalarView()
        for scalar in lastComponent.unicodeScalars {
            switch scalar.properties.generalCategory {
            case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
                continue
            default:
                scalars.append(scalar)
            }
        }
        var name = trimmed(String(scalars))
        while name.hasPrefix(".") { name.removeFirst() }
        name = trimmed(name)
        if name.count > maxLength {
            if let dot = name.lastIndex(of: "."), name.distance(from: dot, to: name.endIndex) <= 10 {
                let ext = String(name[dot...])
                name = String(name.prefix(maxLength - ext.count)) + ext
            } else {
                name = String(name.prefix(maxLength))
            }
        }
        return name.isEmpty ? fallback : name
    }

    private static func trimmed(_ text: String) -> String {
        String(text.drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }

    /// `Content-Disposition: attachment` for `name`: an ASCII `filename` (other characters as `_`, quotes and
    /// backslashes dropped) plus RFC 5987 `filename*` with the UTF-8 name percent-encoded.
    public static func contentDisposition(_ name: String) -> String {
        let safe = sanitize(name)
        var ascii = ""
        for scalar in safe.unicodeScalars {
            if scalar == "\"" || scalar == "\\" || scalar == ";" { continue }
            ascii.unicodeScalars.append(scalar.isASCII && scalar.value >= 0x20 && scalar.value < 0x7F ? scalar : "_")
        }
        var encoded = ""
        for byte in safe.utf8 {
            let unreserved =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || [UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~")].contains(byte)
            if unreserved {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = String(byte, radix: 16, uppercase: true)
                encoded += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return "attachment; filename=\"\(ascii.isEmpty ? "document" : ascii)\"; filename*=UTF-8''\(encoded)"
    }
}
