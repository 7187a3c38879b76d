/// What the person confirmed, kept with the claim (`payload.consent`): the receipt document, its SHA-256 and
/// the time. Written once, in the same transaction that moves the claim to `in_work`.
public struct ConsentRecord: Sendable, Equatable {
    /// The submission whose plan was confirmed.
    public var submissionID: String
    /// When, as `2026-12-03T18:30:05Z` (UTC, whole seconds): the exact text that is part of the receipt.
    public var confirmedAt: String
    /// The language the confirmation page was shown in.
    public var language: UILanguage
    /// The receipt document: ``ConfirmationReceipt/document(plan:declaration:language:confirmedAt:)``.
    public var receipt: String
    /// Lowercase hex SHA-256 of ``receipt``'s UTF-8 bytes.
    public var receiptSHA256: String

    public init(
        submissionID: String, confirmedAt: String, language: UILanguage, receipt: String, receiptSHA256: String
    ) {
        self.submissionID = submissionID
        self.confirmedAt = confirmedAt
        self.language = language
        self.receipt = receipt
        self.receiptSHA256 = receiptSHA256
    }
}

/// The one canonical form of "exactly what was shown and confirmed" (docs/api.md, "Confirmation receipt").
///
/// It is a JSON object with the keys in code-unit order and no whitespace, strings escaped as ECMAScript's
/// `JSON.stringify` escapes them (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other characters below U+0020 as
/// `\u00xx` in lowercase hex, everything else as is). So a browser (`JSON.stringify` of an object built with its
/// keys in this order) and Python (`json.dumps(…, ensure_ascii=False, separators=(",", ":"), sort_keys=True)`)
/// rebuild the same bytes from what the claim page shows. It is written here rather than with the plan's
/// ``ClaimPlan/jsonText()`` or the stores' jansson dump, which escape `\b`, `\f` and other control characters
/// differently from each other and from browsers.
public enum ConfirmationReceipt {
    /// The receipt format's version (`version` in the document).
    public static let version = 1

    /// The receipt document for `plan` as the confirmation page showed it: title, summary, every answer (label and
    /// value), every document (title, required, hint), the declaration above the button, the page's language and
    /// the time of the confirmation.
    public static func document(
        plan: ClaimPlan, declaration: String, language: UILanguage, confirmedAt: String
    ) -> String {
        var out = "{"
        out += "\"claim_id\":" + quote(plan.claimID)
        out += ",\"confirmed_at\":" + quote(confirmedAt)
        out += ",\"declaration\":" + quote(declaration)
        out += ",\"documents\":["
        for (index, document) in plan.requiredDocuments.enumerated() {
            if index > 0 { out += "," }
            out += "{"
            if let hint = document.hint { out += "\"hint\":" + quote(hint) + "," }
            out += "\"required\":" + (document.required ? "true" : "false")
            out += ",\"title\":" + quote(document.title) + "}"
        }
        out += "],\"fields\":["
        for (index, field) in plan.fields.enumerated() {
            if index > 0 { out += "," }
            out += "{\"label\":" + quote(field.label) + ",\"value\":" + quote(field.value) + "}"
        }
        out += "],\"language\":" + quote(language.rawValue)
        out += ",\"submission_id\":" + quote(plan.submissionID)
        out += ",\"summary\":" + quote(plan.summary)
        out += ",\"title\":" + quote(plan.title)
        out += ",\"version\":\(version)}"
        return out
    }

    /// `text` as `JSON.stringify` writes a string.
    public static func quote(_ text: String) -> String {
        var out: [UInt8] = [UInt8(ascii: "\"")]
        out.reserveCapacity(text.utf8.count + 2)
        let hex = Array("0123456789abcdef".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += Array(#"\""#.utf8)
            case UInt8(ascii: "\\"): out += Array(#"\\"#.utf8)
            case 0x08: out += Array(#"\b"#.utf8)
            case 0x0C: out += Array(#"\f"#.utf8)
            case UInt8(ascii: "\n"): out += Array(#"\n"#.utf8)
            case UInt8(ascii: "\r"): out += Array(#"\r"#.utf8)
            case UInt8(ascii: "\t"): out += Array(#"\t"#.utf8)
            case 0..<0x20: out += Array(#"\u00"#.utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
        return String(decoding: out, as: UTF8.self)
    }
}

/// The texts of the confirmation page that are part of what a person confirms.
public enum ConfirmationWording {
    /// The declaration right above the confirm button.
    public static func declaration(_ language: UILanguage) -> String {
        switch language {
        case .ru:
            "Нажимая «Подтвердить заявление», я подтверждаю, что сведения верны и полны, и согласен на обработку "
                + "моих персональных данных для рассмотрения заявления."
        case .en:
            "By pressing “Confirm the claim” I confirm that the information is correct and complete, and I agree "
                + "to the processing of my personal data for handling this claim."
        }
    }
}

/// A request to be told in Telegram when the plan of a submission is ready (see ``Claim/telegramNotice``).
public struct TelegramNotice: Sendable, Equatable {
    public var submissionID: String
    /// The private chat with the bot (the person's Telegram user id).
    public var chatID: Int64
    /// The language of the message.
    public var language: UILanguage

    public init(submissionID: String, chatID: Int64, language: UILanguage) {
        self.submissionID = submissionID
        self.chatID = chatID
        self.language = language
    }
}
