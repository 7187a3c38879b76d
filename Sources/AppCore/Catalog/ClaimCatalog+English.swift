extension ClaimCatalog {
    /// The catalog with its person-facing texts in `language`. Russian is the catalog as written; English replaces
    /// every text ``CatalogTranslation/english`` has (by type code, question id, option value and document code)
    /// and keeps the Russian text where it has none. Codes, kinds and rules never change.
    public func localized(_ language: UILanguage) -> ClaimCatalog {
        switch language {
        case .ru: self
        case .en: ClaimCatalog(types: types.map { CatalogTranslation.english.apply(to: $0) })
        }
    }
}

/// Texts of the claim catalog in another language, keyed by codes: `type`, `type.question`,
/// `type.question.option`, `type.document`.
public struct CatalogTranslation: Sendable {
    /// (title, description) by type code; (label, hint) by `type.question`; label by `type.question.value`;
    /// (title, hint) by `type.document`.
    var types: [String: (String, String)]
    var questions: [String: (String, String?)]
    var options: [String: String]
    var documents: [String: (String, String?)]

    func apply(to type: ClaimType) -> ClaimType {
        var type = type
        let code = type.code
        if let (title, description) = types[code] {
            type.title = title
            type.description = description
        }
        type.questions = type.questions.map { question in
            var question = question
            if let (label, hint) = questions["\(code).\(question.id)"] {
                question.label = label
                question.hint = hint
            }
            question.options = question.options.map { option in
                var option = option
                if let label = options["\(code).\(question.id).\(option.value)"] { option.label = label }
                return option
            }
            return question
        }
        type.documents = type.documents.map { document in
            var document = document
            if let (title, hint) = documents["\(code).\(document.code)"] {
                document.title = title
                document.hint = hint
            }
            return document
        }
        return type
    }

    /// English texts of ``ClaimCatalog/standard``. A label is longer than 70 characters only where the Russian one
    /// is: the web app gives such a question a page of its own, and the pages must be the same in every language
    /// (the remembered wizard step is a page number).
    public static let english = CatalogTranslation(
        types: [
            "travel": ("Insured event during a trip", "Illness or injury abroad, a delayed flight, lost baggage."),
            "property": ("Damage to property", "A flooded flat, fire, theft or damage to property."),
            "osago": ("Road accident (OSAGO)", "Your car was damaged in a road accident."),
        ],
        questions: [
            "travel.policy_number": ("Policy number", "It is on the policy, for example ВЗР-123456789"),
            "travel.event_kind": ("What happened", nil),
            "travel.trip_country": ("Country where it happened", nil),
            "travel.trip_start": ("Date the trip started", nil),
            "travel.event_date": ("Date of the event", nil),
            "travel.description": ("Describe what happened", "Where and when it happened, whom you contacted"),
            "travel.expenses": ("Expenses, ₽", "If you had no expenses, enter 0"),
            "travel.contacted_assistance": ("Did you call the assistance company named in the policy?", nil),
            "property.policy_number": ("Policy number", "For example, ИМ-2026-000123"),
            "property.damage_kind": ("What happened", nil),
            "property.event_date": ("Date of the event", nil),
            "property.address": ("Address of the insured property", "City, street, building, flat"),
            "property.description": ("Describe the damage", "What was damaged and how badly"),
            "property.estimated_damage": ("Estimated damage, ₽", nil),
            "property.authorities_notified": ("Did you tell the management company, emergency service or police?", nil),
            "osago.policy_number": ("OSAGO policy number", "For example, ХХХ 0123456789"),
            "osago.event_date": ("Date of the accident", nil),
            "osago.event_place": ("Place of the accident", "City, street, nearest building or road kilometre"),
            "osago.vehicle_plate": ("Your car's registration number", "For example, А123ВС777"),
            "osago.registration": ("How the accident was recorded", nil),
            "osago.other_driver_policy": ("The other driver's OSAGO policy number", nil),
            "osago.injuries": ("Was anyone injured?", nil),
            "osago.description": ("Describe how the accident happened", nil),
        ],
        options: [
            "travel.event_kind.medical": "Illness or injury",
            "travel.event_kind.baggage": "Lost or damaged baggage",
            "travel.event_kind.delay": "Delayed or cancelled flight",
            "travel.event_kind.other": "Something else",
            "property.damage_kind.flood": "Flooding",
            "property.damage_kind.fire": "Fire",
            "property.damage_kind.theft": "Theft",
            "property.damage_kind.other": "Other damage",
            "osago.registration.europrotocol": "European accident report (europrotocol)",
            "osago.registration.police": "With the traffic police",
            "osago.registration.not_yet": "Not recorded yet",
        ],
        documents: [
            "travel.passport": ("Passport: the photo page", nil),
            "travel.travel_passport": ("International passport: the photo page and the border stamps", nil),
            "travel.policy": ("Travel insurance policy", nil),
            "travel.receipts": ("Receipts and invoices for the expenses", "If you had expenses"),
            "travel.medical_report": ("Medical report", "For an illness or injury"),
            "property.passport": ("Passport: the photo page", nil),
            "property.ownership": ("Proof of ownership", nil),
            "property.damage_photos": ("Photos of the damage", nil),
            "property.incident_act": (
                "Report of the management company, the emergency service or the police", "If you contacted them"
            ),
            "osago.passport": ("Passport: the photo page", nil),
            "osago.driver_license": ("Driving licence", nil),
            "osago.vehicle_registration": ("Vehicle registration certificate (СТС or ПТС)", nil),
            "osago.accident_notice": ("Accident notice (europrotocol)", "Or the traffic police documents"),
            "osago.damage_photos": ("Photos of the damage", nil),
        ])
}
