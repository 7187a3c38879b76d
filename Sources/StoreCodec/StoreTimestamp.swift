import FoundationEssentials

/// Timestamps as both stores write them: ISO-8601 UTC text with milliseconds (`2026-12-03T14:05:09.123Z`), fixed
/// width, so `ORDER BY` on SQLite's text is chronological (years 0000–9999) and both stores return equal dates.
/// Read back from the same text, from SQLite's own `datetime()` output (a space for `T`, no zone: UTC), and, for
/// PostgreSQL, from `timestamptz` output (`2026-12-03 14:05:09.123+00`, any fraction, any `±HH[:MM[:SS]]`
/// offset) or a legacy `timestamp` column (no offset: UTC). Also used for `payload.status_history[].at`.
///
/// Hand-written rather than a `DateFormatter`: exact (a date made from whole milliseconds round-trips to an equal
/// `Date`), allocation-light, no locale or calendar.
package enum StoreTimestamp {
    private static let millisecondsPerDay: Int64 = 86_400_000

    /// Formats `date`, rounded to the nearest millisecond.
    package static func format(_ date: Date) -> String {
        let totalMilliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (days, millisecondOfDay) = floorDivide(totalMilliseconds, millisecondsPerDay)
        let (year, month, day) = civil(fromDays: days)
        let hour = millisecondOfDay / 3_600_000
        let minute = millisecondOfDay / 60_000 % 60
        let second = millisecondOfDay / 1000 % 60
        let millisecond = millisecondOfDay % 1000
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2))"
            + ".\(pad(millisecond, 3))Z"
    }

    /// Parses `YYYY-MM-DD[T ]HH:MM:SS[.f…][Z]`, and with `allowingOffset` also a `±HH[:MM[:SS]]` zone offset
    /// (as PostgreSQL prints `timestamptz`): milliseconds are kept, no zone reads as UTC.
    package static func parse(_ text: String, allowingOffset: Bool) -> Date? {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + width] {
                guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
                value = value * 10 + Int64(byte - UInt8(ascii: "0"))
            }
            index += width
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
            expect("T "), let hour = number(2), expect(":"), let minute = number(2), expect(":"),
            let second = number(2)
        else { return nil }
        var millisecond: Int64 = 0
        if expect(".") {
            var digits = 0
            while index < bytes.count, let digit = number(1) {
                if digits < 3 { millisecond = millisecond * 10 + digit }
                digits += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { millisecond *= 10 }
        }
        var offsetSeconds: Int64 = 0
        if index < bytes.count, !expect("Z") {
            guard allowingOffset, index < bytes.count,
                bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-")
            else {
                return nil
            }
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(2) else { return nil }
            var total = hours * 3600
            if expect(":") {
                guard let minutes = number(2) else { return nil }
                total += minutes * 60
                if expect(":") {
                    guard let seconds = number(2) else { return nil }
                    total += seconds
                }
            }
            offsetSeconds = sign * total
        }
        guard index == bytes.count, (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60,
            second < 61
        else { return nil }
        let days = self.days(fromYear: year, month: month, day: day)
        let total =
            days * millisecondsPerDay + ((hour * 60 + minute) * 60 + second - offsetSeconds) * 1000 + millisecond
        return Date(timeIntervalSince1970: Double(total) / 1000)
    }

    // MARK: - Civil calendar (H. Hinnant's algorithms, proleptic Gregorian)

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
        let quotient = a >= 0 ? a / b : (a - b + 1) / b
        return (quotient, a - quotient * b)
    }

    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    private static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
