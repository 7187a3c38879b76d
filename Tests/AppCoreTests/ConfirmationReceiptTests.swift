import AppCore
import Testing

@Suite struct ConfirmationReceiptTests {
    static let plan = ClaimPlan(
        sessionToken: "tok", claimID: "c-1", submissionID: "sub_1", typeCode: "travel", title: "Заявление",
        summary: "Итог", fields: [.init(key: "a", label: "Вопрос", value: "Ответ\nвторая строка")],
        requiredDocuments: [
            RequiredDocument(code: "p", title: "Паспорт"),
            RequiredDocument(code: "r", title: "Чеки", required: false, hint: "Если были"),
        ],
        nextSteps: ["Шаг"])

    @Test func documentIsTheCanonicalJSONOfWhatWasShown() {
        let text = ConfirmationReceipt.document(
            plan: Self.plan, declaration: "Я подтверждаю", language: .ru, confirmedAt: "2026-12-03T18:30:05Z")
        #expect(
            text
                == #"{"claim_id":"c-1","confirmed_at":"2026-12-03T18:30:05Z","declaration":"Я подтверждаю","#
                + #""documents":[{"required":true,"title":"Паспорт"},{"hint":"Если были","required":false,"#
                + #""title":"Чеки"}],"fields":[{"label":"Вопрос","value":"Ответ\nвторая строка"}],"language":"ru","#
                + #""submission_id":"sub_1","summary":"Итог","title":"Заявление","version":1}"#)
    }

    /// The escapes of ECMAScript's JSON.stringify (and Python's json.dumps with ensure_ascii=False).
    @Test(arguments: [
        ("a\"b\\c", #""a\"b\\c""#),
        ("\u{08}\u{0C}\n\r\t", #""\b\f\n\r\t""#),
        ("\u{00}\u{01}\u{1F}", #""\u0000\u0001\u001f""#),
        ("/ < > & \u{7F} \u{2028} ё ₽ \u{00A0}", "\"/ < > & \u{7F} \u{2028} ё ₽ \u{00A0}\""),
    ])
    func stringsAreEscapedAsBrowsersDo(text: String, expected: String) {
        #expect(ConfirmationReceipt.quote(text) == expected)
    }

    @Test(
        arguments: [
            (nil, nil, UILanguage.ru), ("en", nil, .en), ("xx", "en-US", .en), (nil, "en-GB,en;q=0.9", .en),
            (nil, "de-DE, en;q=0.8, ru;q=0.9", .ru), (nil, "ru;q=0, en;q=0.1", .en), (nil, "*", .ru),
            (nil, "fr, de", .ru), ("ru", "en", .ru), (nil, "EN_us", .en),
        ] as [(String?, String?, UILanguage)])
    func languageIsNegotiated(parameter: String?, header: String?, expected: UILanguage) {
        #expect(UILanguage.negotiate(parameter: parameter, acceptLanguage: header) == expected)
    }

    @Test func englishCatalogKeepsCodesAndRulesAndTranslatesEveryText() {
        let russian = ClaimCatalog.standard
        let english = russian.localized(.en)
        #expect(english.types.map(\.code) == russian.types.map(\.code))
        for (ru, en) in zip(russian.types, english.types) {
            #expect(en.title != ru.title)
            #expect(en.questions.map(\.id) == ru.questions.map(\.id))
            #expect(en.questions.map(\.kind) == ru.questions.map(\.kind))
            #expect(en.questions.map(\.required) == ru.questions.map(\.required))
            for (q, e) in zip(ru.questions, en.questions) {
                #expect(e.label != q.label, "untranslated label \(ru.code).\(q.id)")
                // The web app's pages (a long label gets its own) must not depend on the language.
                #expect((e.label.count > 70) == (q.label.count > 70), "label length \(ru.code).\(q.id)")
                #expect((e.hint == nil) == (q.hint == nil), "hint \(ru.code).\(q.id)")
                #expect(e.options.map(\.value) == q.options.map(\.value))
                for (o, eo) in zip(q.options, e.options) {
                    #expect(eo.label != o.label, "\(ru.code).\(q.id).\(o.value)")
                }
            }
            for (d, ed) in zip(ru.documents, en.documents) {
                #expect(ed.title != d.title, "\(ru.code).\(d.code)")
                #expect((ed.hint == nil) == (d.hint == nil), "\(ru.code).\(d.code)")
                #expect(ed.required == d.required)
            }
        }
        #expect(russian.localized(.ru).types == russian.types)
    }
}
