import AppCore
import FoundationEssentials

extension JSONValue {
    /// Compact JSON bytes with sorted keys and unescaped slashes.
    var jsonBytes: [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map(Array.init) ?? Array("null".utf8)
    }
}
