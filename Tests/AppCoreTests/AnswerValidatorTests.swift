import AppCore
import Testing

@Suite struct AnswerValidatorTests {
    let today = CalendarDay(year: 2026, month: 12, day: 3)!

    var completeTravel: [String: String] {
        [
            "policy_number": "ВЗР-123456789", "event_kind": "medical", "trip_country": "Турция",
            "trip_start": "2026-11-20", "event_date": "2026-11-25", "description": "Температура 39, врач в отеле",
            "expenses": "12 345,67", "contacted_assistance": "yes",
        ]
    }

    @Test func completeAnswersPass() {
        let validator = AnswerValidator(type: .travel, today: today)
        #expect(validator.validate(completeTravel, complete: true) == [])
    }

    @Test func missingRequiredAnswersAreNamedOnSubmitOnly() {
        let validator = AnswerValidator(type: .travel, today: today)
        var answers = completeTravel
        answers["trip_country"] = "  "
        answers["event_kind"] = nil
        let errors = validator.validate(answers, complete: true)
        #expect(errors.map(\.field).sorted() == ["answers.event_kind", "answers.trip_country"])
        #expect(validator.validate(answers, complete: false) == [])
    }

    @Test(arguments: [
        ("event_date", "2026-12-04", "«Дата события»: дата не может быть в будущем"),
        ("event_date", "2026-02-30", "«Дата события»: введите дату в формате ДД.ММ.ГГГГ"),
        ("event_date", "25.11.2026", "«Дата события»: введите дату в формате ДД.ММ.ГГГГ"),
        ("event_date", "2026-11-19", "«Дата события» не может быть раньше, чем «Дата начала поездки» (20.11.2026)"),
        ("expenses", "12,345", "Введите сумму цифрами, например 12 345,67"),
        ("expenses", "-5", "Введите сумму цифрами, например 12 345,67"),
        ("event_kind", "flood", "Выберите один из вариантов"),
        ("contacted_assistance", "да", "Выберите один из вариантов"),
    ])
    func malformedAnswersGetAClearMessage(field: String, value: String, message: String) {
        var answers = completeTravel
        answers[field] = value
        let errors = AnswerValidator(type: .travel, today: today).validate(answers, complete: true)
        #expect(errors == [FieldError(field: "answers.\(field)", message: message)])
    }

    @Test func unknownQuestionsAndOverlongAnswersAreRefusedEvenInDrafts() {
        let validator = AnswerValidator(type: .travel, today: today)
        let errors = validator.validate(
            ["hack": "1", "trip_country": String(repeating: "я", count: 101)], complete: false)
        #expect(errors.map(\.field) == ["answers.hack", "answers.trip_country"])
    }

    @Test func manyUnknownKeysAreNamedUpToTenThenCountedAndLongKeysAreCut() {
        let validator = AnswerValidator(type: .travel, today: today)
        var answers: [String: String] = [:]
        for index in 0..<5_000 { answers["k\(index)"] = "v" }
        answers[String(repeating: "z", count: 10_000)] = "v"
        let errors = validator.validate(answers, complete: false)
        #expect(errors.count == 11)
        #expect(errors.last?.field == "answers")
        #expect(errors.last?.message.hasSuffix("4991") == true)
        #expect(errors.allSatisfy { $0.field.count <= "answers.".count + 64 })
    }

    @Test func textThatLooksLikeCodeIsAcceptedAsText() {
        var answers = completeTravel
        answers["description"] = "<script>alert(1)</script> '; DROP TABLE clpr_claims; -- 😀\nвторая строка"
        #expect(AnswerValidator(type: .travel, today: today).validate(answers, complete: true) == [])
    }

    @Test func controlCharactersAreRefused() {
        var answers = completeTravel
        answers["trip_country"] = "Тур\u{0000}ция"
        let errors = AnswerValidator(type: .travel, today: today).validate(answers, complete: true)
        #expect(errors.map(\.field) == ["answers.trip_country"])
    }

    @Test func moneyParsing() {
        #expect(AnswerValidator.parseMoney("12 345,67") == 12345.67)
        #expect(AnswerValidator.parseMoney("0") == 0)
        #expect(AnswerValidator.parseMoney("100.5") == 100.5)
        #expect(AnswerValidator.parseMoney("1.234") == nil)
        #expect(AnswerValidator.parseMoney("abc") == nil)
        #expect(AnswerValidator.parseMoney("") == nil)
    }

    @Test func catalogHasThreeTypesWithQuestionsAndDocuments() {
        let catalog = ClaimCatalog.standard
        #expect(catalog.types.map(\.code) == ["travel", "property", "osago"])
        for type in catalog.types {
            #expect(type.questions.count >= 6)
            #expect(type.documents.contains { $0.required })
            #expect(Set(type.questions.map(\.id)).count == type.questions.count)
        }
    }
}
