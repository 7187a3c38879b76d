import CJansson

/// The few jansson (C JSON library) operations clpr's readers share: parse, type, string value. The plan reader
/// (``PlanPayloadReader``) and the stores' claim-payload codec use them.
package enum Jansson {
    package typealias Value = UnsafeMutablePointer<json_t>

    package enum Kind { case object, array, string, integer, real, `true`, `false`, null }

    /// A new reference to the value parsed from `bytes` (the caller releases it with `json_decref`), or nil if
    /// they are not JSON. `flags`: jansson's decoding flags (`JSON_REJECT_DUPLICATES`, …).
    package static func load(_ bytes: UnsafeBufferPointer<UInt8>, flags: Int32) -> Value? {
        var error = json_error_t()
        return bytes.withMemoryRebound(to: CChar.self) { chars in
            guard let base = chars.baseAddress else { return nil }
            return json_loadb(base, chars.count, Int(flags), &error)
        }
    }

    package static func kind(_ value: Value) -> Kind {
        switch UInt32(bitPattern: cjansson_type(value)) {
        case JSON_OBJECT.rawValue: .object
        case JSON_ARRAY.rawValue: .array
        case JSON_STRING.rawValue: .string
        case JSON_INTEGER.rawValue: .integer
        case JSON_REAL.rawValue: .real
        case JSON_TRUE.rawValue: .true
        case JSON_FALSE.rawValue: .false
        default: .null
        }
    }

    /// The string's text (jansson has checked it is valid UTF-8), or nil if it is not a string.
    package static func string(_ value: Value) -> String? {
        guard kind(value) == .string, let bytes = json_string_value(value) else { return nil }
        return String(
            decoding: UnsafeRawBufferPointer(start: bytes, count: json_string_length(value)), as: UTF8.self)
    }
}
