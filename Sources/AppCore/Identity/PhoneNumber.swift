/// A Russian phone number in E.164 form (`+79161234567`).
///
/// People type numbers in many shapes (`8 (916) 123-45-67`, `+7 916 1234567`, `79161234567`, `9161234567`);
/// ``init(parsing:)`` accepts those and nothing ambiguous. The original system stored phones as typed, so every
/// comparison in clpr goes through this type.
public struct PhoneNumber: Hashable, Sendable, CustomStringConvertible {
    /// `+7` followed by ten digits.
    public let e164: String

    /// Why a text is not a phone number, with the Russian message shown to the person.
    public enum ParseError: Error, Equatable, Sendable {
        case empty
        case invalidCharacters
        case wrongLength
        case unsupportedCountry

        public var message: String {
            switch self {
            case .empty: "Введите номер телефона"
            case .invalidCharacters: "Номер телефона может содержать только цифры, пробелы, скобки, дефисы и «+»"
            case .wrongLength: "Номер телефона должен содержать 10 цифр после +7, например +7 916 123-45-67"
            case .unsupportedCountry: "Укажите российский номер: +7 или 8 и ещё 10 цифр"
            }
        }
    }

    /// Parses a number as a person in Russia would type it.
    /// - Throws: ``ParseError`` naming what is wrong.
    public init(parsing text: String) throws(ParseError) {
        let trimmed = text.trimmingWhitespace()
        guard !trimmed.isEmpty else { throw .empty }
        var digits = ""
        var plusSeen = false
        // Unicode scalars, not Characters: a digit followed by a combining mark ("6\u{0617}") is one Character that
        // sorts between "0" and "9", and would have been kept as a "digit" (found by fuzzing).
        for (offset, scalar) in trimmed.unicodeScalars.enumerated() {
            switch scalar {
            case "0"..."9": digits.unicodeScalars.append(scalar)
            case "+":
                // Only one leading plus: "++7…" or "7+9…" are typos we refuse rather than guess.
                guard offset == 0, !plusSeen else { throw .invalidCharacters }
                plusSeen = true
            case " ", "-", "(", ")", ".", "\u{00A0}": continue
            default: throw .invalidCharacters
            }
        }
        guard !digits.isEmpty else { throw .invalidCharacters }
        let national: Substring
        switch digits.count {
        case 11 where digits.hasPrefix("7"):
            national = digits.dropFirst()
        case 11 where digits.hasPrefix("8") && !plusSeen:
            national = digits.dropFirst()  // the domestic trunk prefix: 8 916 … = +7 916 …
        case 11:
            throw .unsupportedCountry
        case 10 where !plusSeen && digits.hasPrefix("89"):
            // No Russian code starts with 89: this is "8 9xx…" (a mobile with the trunk prefix) missing a digit.
            throw .wrongLength
        case 10 where !plusSeen:
            national = Substring(digits)
        case 10:
            throw .unsupportedCountry
        default:
            throw digits.count > 11 && !digits.hasPrefix("7") && plusSeen ? .unsupportedCountry : .wrongLength
        }
        // Russian numbering plan: area and mobile codes start with 3, 4, 8 or 9.
        guard let first = national.first, "3489".contains(first) else { throw .wrongLength }
        self.e164 = "+7" + national
    }

    /// Wraps an already normalized value (from storage). Returns nil if it is not `+7` and ten digits.
    public init?(e164: String) {
        guard e164.count == 12, e164.hasPrefix("+7"), e164.dropFirst(2).allSatisfy(\.isASCIIDigit) else {
            return nil
        }
        self.e164 = e164
    }

    /// Mobile numbers in Russia start with +79; one-time codes go only to these.
    public var isMobile: Bool { e164.hasPrefix("+79") }

    /// `+7 916 123-45-67`, the form shown to people.
    public var display: String {
        let d = Array(e164.dropFirst(2))
        return "+7 \(String(d[0..<3])) \(String(d[3..<6]))-\(String(d[6..<8]))-\(String(d[8..<10]))"
    }

    /// `+7 916 ***-**-67`: enough to recognise, safe for logs.
    public var masked: String {
        let d = Array(e164.dropFirst(2))
        return "+7 \(String(d[0..<3])) ***-**-\(String(d[8..<10]))"
    }

    /// Digits without the plus (`79161234567`), the form some channels (Telegram contacts) use.
    public var digits: String { String(e164.dropFirst()) }

    public var description: String { masked }
}

extension Character {
    var isASCIIDigit: Bool { self >= "0" && self <= "9" && isASCII }
}

extension String {
    /// The string without leading and trailing whitespace and newlines (no Foundation needed).
    public func trimmingWhitespace() -> String {
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(scalars[start...end])
    }
}
