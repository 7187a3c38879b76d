import AppCore
import Testing

@Suite struct PhoneNumberTests {
    @Test(arguments: [
        ("8 (916) 123-45-67", "+79161234567"),
        ("+7 916 1234567", "+79161234567"),
        ("79161234567", "+79161234567"),
        ("9161234567", "+79161234567"),
        ("+7 (916) 123-45-67", "+79161234567"),
        ("8-916-123-45-67", "+79161234567"),
        ("  +7 916 123 45 67  ", "+79161234567"),
        ("+7 800 555-35-35", "+78005553535"),
        ("8 495 123 45 67", "+74951234567"),
    ])
    func normalizesCommonRussianFormats(input: String, expected: String) throws {
        #expect(try PhoneNumber(parsing: input).e164 == expected)
    }

    @Test(arguments: [
        ("", PhoneNumber.ParseError.empty),
        ("   ", .empty),
        ("916123", .wrongLength),
        ("8916123456", .wrongLength),
        ("891612345678", .wrongLength),
        ("+7 916 12a-45-67", .invalidCharacters),
        // Found by the phone fuzzer (Fuzz/): a combining mark on a digit made one Character that compared as a digit,
        // and "+7916\u{0617}1234567" was accepted as E.164.
        ("8 (916\u{0617}123-45-67", .invalidCharacters),
        ("916 123 45 6\u{0301}7", .invalidCharacters),
        ("+7 916 123 45 6\u{20E3}7", .invalidCharacters),
        ("phone", .invalidCharacters),
        ("++79161234567", .invalidCharacters),
        ("7+9161234567", .invalidCharacters),
        ("+8 916 123-45-67", .unsupportedCountry),
        ("+375291234567", .unsupportedCountry),
        ("+7 116 123-45-67", .wrongLength),
    ])
    func rejectsWhatIsNotARussianNumber(input: String, expected: PhoneNumber.ParseError) {
        #expect(throws: expected) { try PhoneNumber(parsing: input) }
    }

    @Test func displaysAndMasksForPeopleAndLogs() throws {
        let phone = try PhoneNumber(parsing: "89161234567")
        #expect(phone.display == "+7 916 123-45-67")
        #expect(phone.masked == "+7 916 ***-**-67")
        #expect(!phone.masked.contains("1234567"))
        #expect(phone.digits == "79161234567")
        #expect(phone.isMobile)
        #expect(try !PhoneNumber(parsing: "+7 800 555-35-35").isMobile)
        #expect("\(phone)" == phone.masked)
    }

    @Test func everyErrorHasARussianMessage() {
        for error in [PhoneNumber.ParseError.empty, .invalidCharacters, .wrongLength, .unsupportedCountry] {
            #expect(!error.message.isEmpty)
        }
    }

    @Test func storedValuesAreCheckedWhenWrapped() {
        #expect(PhoneNumber(e164: "+79161234567") != nil)
        #expect(PhoneNumber(e164: "89161234567") == nil)
        #expect(PhoneNumber(e164: "+7916123456x") == nil)
    }
}
