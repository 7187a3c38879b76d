/// Computes a claim plan from the answers, standing in for the n8n workflow in the embedded default.
///
/// Pure: the app module schedules it and publishes its output on the plan bus exactly as n8n would.
public struct BuiltInPlanner: Sendable {
    public let catalog: ClaimCatalog

    public init(catalog: ClaimCatalog) { self.catalog = catalog }

    /// The plan for `claim`'s current answers under `submissionID`, or nil for an unknown claim type.
    public func plan(for claim: Claim, submissionID: String, generatedAt: String) -> ClaimPlan? {
        guard let type = catalog.type(claim.typeCode) else { return nil }
        let answers = claim.answers
        let fields = type.questions.compactMap { question -> ClaimPlan.Field? in
            guard let value = answers[question.id]?.trimmingWhitespace(), !value.isEmpty else { return nil }
            return ClaimPlan.Field(key: question.id, label: question.label, value: Self.display(value, for: question))
        }
        let documents = type.documents.map { document -> RequiredDocument in
            var document = document
            if Self.becomesRequired(document.code, answers: answers) { document.required = true }
            return document
        }
        return ClaimPlan(
            sessionToken: claim.sessionToken, claimID: claim.id, submissionID: submissionID, typeCode: type.code,
            title: Self.formalTitle(type), summary: Self.summary(type, answers: answers, documents: documents),
            fields: fields, requiredDocuments: documents, nextSteps: Self.nextSteps(type), generatedAt: generatedAt,
            source: "builtin")
    }

    /// Answers that make an optional document necessary.
    static func becomesRequired(_ code: String, answers: [String: String]) -> Bool {
        switch code {
        case "medical_report": answers["event_kind"] == "medical"
        case "receipts": (answers["expenses"].flatMap(AnswerValidator.parseMoney) ?? 0) > 0
        case "incident_act": answers["authorities_notified"] == "yes"
        case "damage_photos": answers["registration"] == "europrotocol"
        default: false
        }
    }

    static func formalTitle(_ type: ClaimType) -> String {
        switch type.code {
        case "travel": "Заявление о страховом случае в поездке"
        case "property": "Заявление о повреждении имущества"
        case "osago": "Заявление о прямом возмещении убытков по ОСАГО"
        default: "Заявление: \(type.title)"
        }
    }

    static func summary(_ type: ClaimType, answers: [String: String], documents: [RequiredDocument]) -> String {
        let needed = documents.filter(\.required).count
        var text = "Мы подготовили заявление «\(formalTitle(type))» по Вашим ответам."
        if let day = answers["event_date"].flatMap(CalendarDay.init(iso:)) {
            text += " Дата события: \(day.russian)."
        }
        text += " Проверьте данные и подтвердите заявление. После подтверждения понадобится загрузить документы"
        text += " (обязательных: \(needed))."
        return text
    }

    static func nextSteps(_ type: ClaimType) -> [String] {
        // What happens after the person confirms: the plan's steps are shown once the claim is accepted.
        var steps = [
            "Загрузите документы из списка.",
            "Специалист проверит заявление в течение 2 рабочих дней и свяжется с Вами.",
        ]
        if type.code == "osago" { steps.insert("Не ремонтируйте автомобиль до осмотра.", at: 1) }
        if type.code == "property" { steps.insert("Сохраните повреждённое имущество до осмотра.", at: 1) }
        return steps
    }

    /// The answer as a person reads it: option labels, `03.12.2026`, `12 345,67 ₽`, `+7 916 123-45-67`.
    public static func display(_ value: String, for question: Question) -> String {
        switch question.kind {
        case .select: return question.options.first { $0.value == value }?.label ?? value
        case .yesno: return value == "yes" ? "Да" : value == "no" ? "Нет" : value
        case .date: return CalendarDay(iso: value)?.russian ?? value
        case .money: return AnswerValidator.parseMoney(value).map(formatRubles) ?? value
        case .phone: return (try? PhoneNumber(parsing: value))?.display ?? value
        case .text, .textarea, .number: return value
        }
    }

    /// `12 345,67 ₽` (thin groups with no-break spaces, comma decimals, kopecks only when present).
    public static func formatRubles(_ amount: Double) -> String {
        let kopecks = Int64((amount * 100).rounded())
        let rubles = String(kopecks / 100)
        var grouped = ""
        for (index, digit) in rubles.enumerated() {
            if index > 0 && (rubles.count - index) % 3 == 0 { grouped += "\u{00A0}" }
            grouped.append(digit)
        }
        let rest = kopecks % 100
        if rest != 0 { grouped += "," + (rest < 10 ? "0\(rest)" : "\(rest)") }
        return grouped + "\u{00A0}₽"
    }
}
