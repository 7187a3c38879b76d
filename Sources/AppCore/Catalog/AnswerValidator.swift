/// One problem with one input, named the way the API reports it (`answers.trip_start`).
public struct FieldError: Sendable, Equatable, Codable {
    public var field: String
    public var message: String

    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

/// A calendar day, compared without time zones (`YYYY-MM-DD`).
public struct CalendarDay: Sendable, Comparable, Hashable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int

    public init?(year: Int, month: Int, day: Int) {
        guard (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses `YYYY-MM-DD` (what `<input type=date>` sends).
    public init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2])
        else { return nil }
        self.init(year: year, month: month, day: day)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    public static func < (lhs: CalendarDay, rhs: CalendarDay) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public var description: String {
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(year)-\(pad(month))-\(pad(day))"
    }

    /// `03.12.2026`, the Russian display form.
    public var russian: String {
        func pad(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(pad(day)).\(pad(month)).\(year)"
    }
}

/// Checks wizard answers against a claim type's questions.
public struct AnswerValidator: Sendable {
    /// The most answers a draft may hold and the longest key: guards storage against junk.
    public static let maxAnswers = 100

    public let type: ClaimType
    public let today: CalendarDay

    public init(type: ClaimType, today: CalendarDay) {
        self.type = type
        self.today = today
    }

    /// Problems in `answers`. With `complete` false (autosave) missing required answers are fine; anything
    /// present must still be well-formed enough to store (known question, within length).
    public func validate(_ answers: [String: String], complete: Bool) -> [FieldError] {
        var errors: [FieldError] = []
        // Unknown keys are named (cut to 64 characters) up to a few, then counted: a request with thousands of
        // made-up keys must not get an answer larger than itself.
        let unknown = answers.keys.filter { type.question($0) == nil }.sorted()
        for key in unknown.prefix(Self.unknownKeysNamed) {
            errors.append(
                FieldError(field: "answers.\(key.prefix(64))", message: "Неизвестный вопрос «\(key.prefix(40))»"))
        }
        if unknown.count > Self.unknownKeysNamed {
            errors.append(
                FieldError(
                    field: "answers",
                    message: "Ещё неизвестных вопросов: \(unknown.count - Self.unknownKeysNamed)"))
        }
        for question in type.questions {
            let field = "answers.\(question.id)"
            let raw = answers[question.id] ?? ""
            let value = raw.trimmingWhitespace()
            if raw.count > question.maxLength {
                errors.append(FieldError(field: field, message: "Не больше \(question.maxLength) символов"))
                continue
            }
            if value.isEmpty {
                if complete && question.required {
                    errors.append(FieldError(field: field, message: Self.missingMessage(question)))
                }
                continue
            }
            if let problem = Self.controlCharacterProblem(raw, allowNewlines: question.kind == .textarea) {
                errors.append(FieldError(field: field, message: problem))
                continue
            }
            // Format checks run on submit only, so a half-typed answer can still be autosaved.
            guard complete, let message = formatProblem(question, value, answers: answers) else { continue }
            errors.append(FieldError(field: field, message: message))
        }
        return errors
    }

    /// How many unknown answer keys an error list names one by one.
    static let unknownKeysNamed = 10

    static func missingMessage(_ question: Question) -> String {
        switch question.kind {
        case .select, .yesno: "Выберите ответ: «\(question.label)»"
        case .date: "Укажите дату: «\(question.label)»"
        default: "Заполните поле «\(question.label)»"
        }
    }

    static func controlCharacterProblem(_ text: String, allowNewlines: Bool) -> String? {
        for scalar in text.unicodeScalars where scalar.value < 0x20 || scalar.value == 0x7F {
            if allowNewlines && (scalar == "\n" || scalar == "\r" || scalar == "\t") { continue }
            return "Уберите служебные символы из ответа"
        }
        return nil
    }

    func formatProblem(_ question: Question, _ value: String, answers: [String: String]) -> String? {
        switch question.kind {
        case .text, .textarea:
            return nil
        case .date:
            // Messages name the question: the error summary lists them away from their fields.
            let name = "«\(question.label)»"
            guard let day = CalendarDay(iso: value) else { return "\(name): введите дату в формате ДД.ММ.ГГГГ" }
            if day.year < 1900 { return "\(name): проверьте год" }
            if !question.allowsFuture && today < day { return "\(name): дата не может быть в будущем" }
            if let otherID = question.notBefore, let other = type.question(otherID),
                let start = answers[otherID].flatMap({ CalendarDay(iso: $0.trimmingWhitespace()) }), day < start
            {
                return "\(name) не может быть раньше, чем «\(other.label)» (\(start.russian))"
            }
            return nil
        case .number:
            guard let number = Int(value) else { return "Введите целое число" }
            return rangeProblem(question, Double(number))
        case .money:
            guard let amount = Self.parseMoney(value) else { return "Введите сумму цифрами, например 12 345,67" }
            return rangeProblem(question, amount)
        case .select, .yesno:
            let options =
                question.kind == .yesno ? [Question.Option("yes", "Да"), .init("no", "Нет")] : question.options
            return options.contains { $0.value == value } ? nil : "Выберите один из вариантов"
        case .phone:
            do {
                _ = try PhoneNumber(parsing: value)
                return nil
            } catch {
                return error.message
            }
        }
    }

    func rangeProblem(_ question: Question, _ value: Double) -> String? {
        if let min = question.min, value < Double(min) { return "Не меньше \(min)" }
        if let max = question.max, value > Double(max) { return "Не больше \(max)" }
        return nil
    }

    /// Parses `12345.67`, `12 345,67` or `12345` into rubles; nil if it is not an amount with ≤ 2 decimals.
    public static func parseMoney(_ text: String) -> Double? {
        let compact = text.filter { $0 != " " && $0 != "\u{00A0}" && $0 != "\u{202F}" }
        let parts = compact.replacing(",", with: ".").split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts[0].count <= 12,
            parts.allSatisfy({ $0.allSatisfy(\.isASCIIDigit) })
        else { return nil }
        if parts.count == 2 && !(1...2).contains(parts[1].count) { return nil }
        return Double(parts.joined(separator: "."))
    }
}
