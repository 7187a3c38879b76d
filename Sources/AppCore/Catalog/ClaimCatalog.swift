/// The claim types clpr offers, in the order people see them.
public struct ClaimCatalog: Sendable {
    public var types: [ClaimType]

    public init(types: [ClaimType]) { self.types = types }

    public func type(_ code: String) -> ClaimType? { types.first { $0.code == code } }

    /// The built-in catalog: travel insurance, property damage, OSAGO car accident.
    public static let standard = ClaimCatalog(types: [.travel, .property, .osago])
}

extension ClaimType {
    /// A medical or baggage event during a trip abroad (ВЗР).
    public static let travel = ClaimType(
        code: "travel",
        title: "Страховой случай в поездке",
        description: "Болезнь или травма за границей, задержка рейса, потеря багажа.",
        questions: [
            Question(
                id: "policy_number", label: "Номер полиса", hint: "Указан в полисе, например ВЗР-123456789",
                kind: .text, maxLength: 40),
            Question(
                id: "event_kind", label: "Что случилось", kind: .select,
                options: [
                    .init("medical", "Болезнь или травма"), .init("baggage", "Потеря или повреждение багажа"),
                    .init("delay", "Задержка или отмена рейса"), .init("other", "Другое"),
                ]),
            Question(id: "trip_country", label: "Страна, где это произошло", kind: .text, maxLength: 100),
            Question(id: "trip_start", label: "Дата начала поездки", kind: .date),
            Question(id: "event_date", label: "Дата события", kind: .date, notBefore: "trip_start"),
            Question(
                id: "description", label: "Опишите, что произошло",
                hint: "Где и когда это случилось, к кому Вы обращались", kind: .textarea),
            Question(
                id: "expenses", label: "Сумма расходов, ₽", hint: "Если расходов не было, укажите 0",
                kind: .money, min: 0, max: 100_000_000),
            Question(id: "contacted_assistance", label: "Вы звонили в сервисную компанию из полиса?", kind: .yesno),
        ],
        documents: [
            RequiredDocument(code: "passport", title: "Паспорт: страница с фото"),
            RequiredDocument(
                code: "travel_passport", title: "Загранпаспорт: страница с фото и отметки о пересечении границы"),
            RequiredDocument(code: "policy", title: "Полис страхования путешественников"),
            RequiredDocument(
                code: "receipts", title: "Чеки и счета за расходы", required: false,
                hint: "Если были расходы"),
            RequiredDocument(
                code: "medical_report", title: "Медицинское заключение", required: false,
                hint: "Для болезни или травмы"),
        ])

    /// Damage to a flat or house: flooding, fire, theft.
    public static let property = ClaimType(
        code: "property",
        title: "Ущерб имуществу",
        description: "Залив квартиры, пожар, кража или повреждение имущества.",
        questions: [
            Question(
                id: "policy_number", label: "Номер полиса", hint: "Например, ИМ-2026-000123", kind: .text,
                maxLength: 40),
            Question(
                id: "damage_kind", label: "Что случилось", kind: .select,
                options: [
                    .init("flood", "Залив"), .init("fire", "Пожар"), .init("theft", "Кража"),
                    .init("other", "Другое повреждение"),
                ]),
            Question(id: "event_date", label: "Дата события", kind: .date),
            Question(
                id: "address", label: "Адрес застрахованного имущества",
                hint: "Город, улица, дом, квартира", kind: .text, maxLength: 300),
            Question(
                id: "description", label: "Опишите повреждения", hint: "Что пострадало и насколько",
                kind: .textarea),
            Question(
                id: "estimated_damage", label: "Примерная сумма ущерба, ₽", kind: .money, min: 0,
                max: 1_000_000_000),
            Question(
                id: "authorities_notified", label: "Вы сообщили в управляющую компанию, МЧС или полицию?",
                kind: .yesno),
        ],
        documents: [
            RequiredDocument(code: "passport", title: "Паспорт: страница с фото"),
            RequiredDocument(code: "ownership", title: "Документ о праве собственности"),
            RequiredDocument(code: "damage_photos", title: "Фотографии повреждений"),
            RequiredDocument(
                code: "incident_act", title: "Акт управляющей компании, справка МЧС или полиции",
                required: false, hint: "Если Вы обращались"),
        ])

    /// A road accident under compulsory motor third-party liability (ОСАГО).
    public static let osago = ClaimType(
        code: "osago",
        title: "ДТП по ОСАГО",
        description: "Ваш автомобиль повреждён в дорожно-транспортном происшествии.",
        questions: [
            Question(
                id: "policy_number", label: "Номер полиса ОСАГО", hint: "Например, ХХХ 0123456789", kind: .text,
                maxLength: 40),
            Question(id: "event_date", label: "Дата ДТП", kind: .date),
            Question(
                id: "event_place", label: "Место ДТП", hint: "Город, улица, ближайший дом или километр трассы",
                kind: .text, maxLength: 300),
            Question(
                id: "vehicle_plate", label: "Госномер Вашего автомобиля", hint: "Например, А123ВС777",
                kind: .text, maxLength: 12),
            Question(
                id: "registration", label: "Как оформлено ДТП", kind: .select,
                options: [
                    .init("europrotocol", "Европротокол"), .init("police", "С сотрудниками ГИБДД"),
                    .init("not_yet", "Ещё не оформлено"),
                ]),
            Question(
                id: "other_driver_policy", label: "Номер полиса ОСАГО второго участника", kind: .text,
                required: false, maxLength: 40),
            Question(id: "injuries", label: "Есть пострадавшие?", kind: .yesno),
            Question(id: "description", label: "Опишите, как произошло ДТП", kind: .textarea),
        ],
        documents: [
            RequiredDocument(code: "passport", title: "Паспорт: страница с фото"),
            RequiredDocument(code: "driver_license", title: "Водительское удостоверение"),
            RequiredDocument(code: "vehicle_registration", title: "СТС или ПТС автомобиля"),
            RequiredDocument(
                code: "accident_notice", title: "Извещение о ДТП (европротокол)",
                hint: "Или документы ГИБДД"),
            RequiredDocument(code: "damage_photos", title: "Фотографии повреждений", required: false),
        ])
}
