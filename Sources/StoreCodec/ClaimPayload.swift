import AppCore
import CJansson
import Foundation

/// `clpr_claims.payload` (SQLite `TEXT`, PostgreSQL `jsonb`): a JSON object with the seed's keys (`phone`,
/// `claim_id`, `wizard_plan`, `answers`, `documents_meta`) plus clpr's `status_history`. `wizard_plan` and
/// `documents_meta` are embedded JSON values, not strings; keys clpr does not know (written by older tools) survive
/// an update. One codec for both stores, so both write the same payload shape.
///
/// jansson (C) reads and writes the JSON: every claim a request loads is decoded here (a plan stream's owner
/// check, the drafts list), and `JSONSerialization` was a tenth of a stream open's CPU.
package struct ClaimPayload {
    package var phone: String?
    package var answers: [String: String]
    /// Canonical JSON text (sorted keys, no whitespace) of the embedded object, or nil.
    package var wizardPlan: String?
    /// Canonical JSON text of the embedded array.
    package var documentsMeta: String
    package var statusHistory: [StatusChange]
    package var wizardStep: Int? = nil
    package var consent: ConsentRecord? = nil
    package var telegramNotice: TelegramNotice? = nil

    // MARK: - Encoding

    /// The payload text for `claim`, keeping any unknown keys of `existing` (the stored payload, if any).
    package static func encode(_ claim: Claim, keepingUnknownKeysOf existing: String? = nil) throws -> String {
        let operation = "encode claim payload"
        let object = try existing.map { try parseObject($0, operation: operation) } ?? json_object()!
        defer { json_decref(object) }
        set(object, "phone", claim.phone.map(string) ?? json_null())
        set(object, "claim_id", string(claim.id))
        if let plan = claim.wizardPlan {
            set(object, "wizard_plan", try embedded(plan, .object, key: "wizard_plan"))
        } else {
            set(object, "wizard_plan", json_null())
        }
        let answers = json_object()!
        for (key, value) in claim.answers { set(answers, key, string(value)) }
        set(object, "answers", answers)
        set(object, "documents_meta", try embedded(claim.documentsMeta, .array, key: "documents_meta"))
        let history = json_array()!
        for change in claim.statusHistory {
            let entry = json_object()!
            set(entry, "status", string(change.status.rawValue))
            set(entry, "at", string(StoreTimestamp.format(change.at)))
            json_array_append_new(history, entry)
        }
        set(object, "status_history", history)
        if let step = claim.wizardStep {
            set(object, "wizard_step", json_integer(json_int_t(step)))
        } else {
            _ = json_object_del(object, "wizard_step")
        }
        if let consent = claim.consent {
            let entry = json_object()!
            set(entry, "submission_id", string(consent.submissionID))
            set(entry, "confirmed_at", string(consent.confirmedAt))
            set(entry, "language", string(consent.language.rawValue))
            set(entry, "receipt", string(consent.receipt))
            set(entry, "receipt_sha256", string(consent.receiptSHA256))
            set(object, "consent", entry)
        } else {
            _ = json_object_del(object, "consent")
        }
        if let notice = claim.telegramNotice {
            let entry = json_object()!
            set(entry, "submission_id", string(notice.submissionID))
            set(entry, "chat_id", json_integer(json_int_t(notice.chatID)))
            set(entry, "language", string(notice.language.rawValue))
            set(object, "telegram_notice", entry)
        } else {
            _ = json_object_del(object, "telegram_notice")
        }
        return try serialize(object, operation: operation)
    }

    /// `text` (a JSON object, as `jsonb` prints it) re-serialized canonically: sorted keys, no whitespace.
    package static func canonical(_ text: String, operation: String) throws -> String {
        let object = try parseObject(text, operation: operation)
        defer { json_decref(object) }
        return try serialize(object, operation: operation)
    }

    // MARK: - Decoding

    /// Decodes stored payload text; a missing payload reads as empty.
    /// - Parameter allowingOffset: whether `status_history[].at` may carry a zone offset (see
    ///   ``StoreTimestamp/parse(_:allowingOffset:)``); clpr always writes `Z`.
    package static func decode(_ text: String?, operation: String, allowingOffset: Bool) throws -> ClaimPayload {
        guard let text else {
            return ClaimPayload(phone: nil, answers: [:], wizardPlan: nil, documentsMeta: "[]", statusHistory: [])
        }
        let object = try parseObject(text, operation: operation)
        defer { json_decref(object) }
        func corrupt(_ what: String) -> StoreError {
            StoreError(.corrupt, operation: operation, detail: "payload.\(what)")
        }
        func member(_ key: String) -> Value? {
            guard let value = json_object_get(object, key), !isType(value, .null) else { return nil }
            return value
        }

        var answers: [String: String] = [:]
        if let raw = member("answers") {
            guard isType(raw, .object) else { throw corrupt("answers is not an object") }
            var iterator = json_object_iter(raw)
            while let item = iterator {
                let key = String(cString: json_object_iter_key(item))
                if let value = json_object_iter_value(item) {
                    answers[key] = try stringValue(value) ?? serialize(value, operation: operation)
                }
                iterator = json_object_iter_next(raw, item)
            }
        }

        var wizardPlan: String?
        if let raw = member("wizard_plan") {
            guard isType(raw, .object) else { throw corrupt("wizard_plan is not an object") }
            wizardPlan = try serialize(raw, operation: operation)
        }

        var documentsMeta = "[]"
        if let raw = member("documents_meta") { documentsMeta = try serialize(raw, operation: operation) }

        var statusHistory: [StatusChange] = []
        if let raw = member("status_history") {
            guard isType(raw, .array) else { throw corrupt("status_history is not an array") }
            for index in 0..<json_array_size(raw) {
                guard let entry = json_array_get(raw, index), isType(entry, .object),
                    let status = json_object_get(entry, "status").flatMap(stringValue),
                    let atText = json_object_get(entry, "at").flatMap(stringValue),
                    let at = StoreTimestamp.parse(atText, allowingOffset: allowingOffset)
                else { throw corrupt("status_history entry is malformed") }
                statusHistory.append(StatusChange(status: ClaimStatus(rawValue: status), at: at))
            }
        }

        var wizardStep: Int?
        if let raw = member("wizard_step") {
            guard isType(raw, .integer) else { throw corrupt("wizard_step is not an integer") }
            wizardStep = Int(clamping: json_integer_value(raw))
        }

        var consent: ConsentRecord?
        if let raw = member("consent") {
            func text(_ key: String) -> String? { json_object_get(raw, key).flatMap(stringValue) }
            guard isType(raw, .object), let submissionID = text("submission_id"),
                let confirmedAt = text("confirmed_at"),
                let language = text("language").flatMap({ UILanguage(rawValue: $0) }),
                let receipt = text("receipt"), let sha256 = text("receipt_sha256")
            else { throw corrupt("consent is malformed") }
            consent = ConsentRecord(
                submissionID: submissionID, confirmedAt: confirmedAt, language: language, receipt: receipt,
                receiptSHA256: sha256)
        }

        var telegramNotice: TelegramNotice?
        if let raw = member("telegram_notice") {
            guard isType(raw, .object), let submissionID = json_object_get(raw, "submission_id").flatMap(stringValue),
                let chat = json_object_get(raw, "chat_id"), isType(chat, .integer),
                let language = json_object_get(raw, "language").flatMap(stringValue)
                    .flatMap({ UILanguage(rawValue: $0) })
            else { throw corrupt("telegram_notice is malformed") }
            telegramNotice = TelegramNotice(
                submissionID: submissionID, chatID: Int64(json_integer_value(chat)), language: language)
        }

        return ClaimPayload(
            phone: member("phone").flatMap(stringValue), answers: answers, wizardPlan: wizardPlan,
            documentsMeta: documentsMeta, statusHistory: statusHistory, wizardStep: wizardStep, consent: consent,
            telegramNotice: telegramNotice)
    }

    // MARK: - JSON helpers

    typealias Value = Jansson.Value

    private static func isType(_ value: Value, _ kind: Jansson.Kind) -> Bool { Jansson.kind(value) == kind }

    private static func load(_ text: String) -> Value? {
        var text = text
        return text.withUTF8 { Jansson.load($0, flags: JSON_DECODE_ANY | JSON_ALLOW_NUL) }
    }

    /// A new reference to the object in `text`; the caller releases it.
    private static func parseObject(_ text: String, operation: String) throws -> Value {
        guard let value = load(text) else {
            throw StoreError(.corrupt, operation: operation, detail: "payload is not a JSON object")
        }
        guard isType(value, .object) else {
            json_decref(value)
            throw StoreError(.corrupt, operation: operation, detail: "payload is not a JSON object")
        }
        return value
    }

    /// The value in `text` (of `type`) to embed; a new reference.
    private static func embedded(_ text: String, _ type: Jansson.Kind, key: String) throws -> Value {
        guard let value = load(text), isType(value, type) else {
            throw StoreError(
                .internalFailure, operation: "encode claim payload",
                detail: "\(key) is not a JSON \(type == .object ? "object" : "array")")
        }
        return value
    }

    /// Sets `object[key]`, taking over the reference to `value`.
    private static func set(_ object: Value, _ key: String, _ value: Value) {
        // The String is passed as a NUL-terminated copy; the length covers exactly its UTF-8 bytes.
        _ = json_object_setn_new(object, key, key.utf8.count, value)
    }

    private static func string(_ text: String) -> Value { json_stringn(text, text.utf8.count)! }

    private static func stringValue(_ value: Value) -> String? { Jansson.string(value) }

    /// Canonical text: sorted keys (by bytes), no whitespace, UTF-8 as is, `/` not escaped.
    private static func serialize(_ value: Value, operation: String) throws -> String {
        guard let text = json_dumps(value, Int(JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY)) else {
            throw StoreError(.internalFailure, operation: operation, detail: "payload is not serializable")
        }
        defer { free(text) }
        return String(cString: text)
    }
}
