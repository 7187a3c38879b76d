import AppCore
import Foundation

/// `clpr_claims.payload` (SQLite `TEXT`, PostgreSQL `jsonb`): a JSON object with the seed's keys (`phone`,
/// `claim_id`, `wizard_plan`, `answers`, `documents_meta`) plus clpr's `status_history`. `wizard_plan` and
/// `documents_meta` are embedded JSON values, not strings; keys clpr does not know (written by older tools) survive
/// an update. One codec for both stores, so both write the same payload shape.
package struct ClaimPayload {
    package var phone: String?
    package var answers: [String: String]
    /// Canonical JSON text (sorted keys, no whitespace) of the embedded object, or nil.
    package var wizardPlan: String?
    /// Canonical JSON text of the embedded array.
    package var documentsMeta: String
    package var statusHistory: [StatusChange]

    private static let writingOptions: JSONSerialization.WritingOptions = [
        .sortedKeys, .withoutEscapingSlashes, .fragmentsAllowed,
    ]

    // MARK: - Encoding

    /// The payload text for `claim`, keeping any unknown keys of `existing` (the stored payload, if any).
    package static func encode(_ claim: Claim, keepingUnknownKeysOf existing: String? = nil) throws -> String {
        var object = try existing.map { try parseObject($0, operation: "encode claim payload") } ?? [:]
        object["phone"] = claim.phone ?? NSNull()
        object["claim_id"] = claim.id
        object["wizard_plan"] = try claim.wizardPlan.map { try embeddedObject($0, key: "wizard_plan") } ?? NSNull()
        object["answers"] = claim.answers
        object["documents_meta"] = try embeddedArray(claim.documentsMeta, key: "documents_meta")
        object["status_history"] = claim.statusHistory.map {
            ["status": $0.status.rawValue, "at": StoreTimestamp.format($0.at)]
        }
        return try serialize(object, operation: "encode claim payload")
    }

    /// `text` (a JSON object, as `jsonb` prints it) re-serialized canonically: sorted keys, no whitespace.
    package static func canonical(_ text: String, operation: String) throws -> String {
        try serialize(parseObject(text, operation: operation), operation: operation)
    }

    // MARK: - Decoding

    /// Decodes stored payload text; a missing payload reads as empty.
    /// - Parameter allowingOffset: whether `status_history[].at` may carry a zone offset (see
    ///   ``StoreTimestamp/parse(_:allowingOffset:)``); clpr always writes `Z`.
    package static func decode(_ text: String?, operation: String, allowingOffset: Bool) throws -> ClaimPayload {
        let object = try text.map { try parseObject($0, operation: operation) } ?? [:]
        func corrupt(_ what: String) -> StoreError {
            StoreError(.corrupt, operation: operation, detail: "payload.\(what)")
        }

        var answers: [String: String] = [:]
        if let raw = object["answers"], !(raw is NSNull) {
            guard let dictionary = raw as? [String: Any] else { throw corrupt("answers is not an object") }
            for (key, value) in dictionary {
                answers[key] = try (value as? String) ?? serialize(value, operation: operation)
            }
        }

        var wizardPlan: String?
        if let raw = object["wizard_plan"], !(raw is NSNull) {
            guard raw is [String: Any] else { throw corrupt("wizard_plan is not an object") }
            wizardPlan = try serialize(raw, operation: operation)
        }

        var documentsMeta = "[]"
        if let raw = object["documents_meta"], !(raw is NSNull) {
            documentsMeta = try serialize(raw, operation: operation)
        }

        var statusHistory: [StatusChange] = []
        if let raw = object["status_history"], !(raw is NSNull) {
            guard let entries = raw as? [[String: Any]] else { throw corrupt("status_history is not an array") }
            for entry in entries {
                guard let status = entry["status"] as? String, let atText = entry["at"] as? String,
                    let at = StoreTimestamp.parse(atText, allowingOffset: allowingOffset)
                else { throw corrupt("status_history entry is malformed") }
                statusHistory.append(StatusChange(status: ClaimStatus(rawValue: status), at: at))
            }
        }

        let phone = object["phone"] as? String
        return ClaimPayload(
            phone: phone, answers: answers, wizardPlan: wizardPlan, documentsMeta: documentsMeta,
            statusHistory: statusHistory)
    }

    // MARK: - JSON helpers

    private static func parseObject(_ text: String, operation: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw StoreError(.corrupt, operation: operation, detail: "payload is not a JSON object")
        }
        return object
    }

    private static func embeddedObject(_ text: String, key: String) throws -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw StoreError(
                .internalFailure, operation: "encode claim payload", detail: "\(key) is not a JSON object")
        }
        return object
    }

    private static func embeddedArray(_ text: String, key: String) throws -> [Any] {
        guard let array = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [Any] else {
            throw StoreError(
                .internalFailure, operation: "encode claim payload", detail: "\(key) is not a JSON array")
        }
        return array
    }

    private static func serialize(_ value: Any, operation: String) throws -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: value, options: writingOptions) else {
            throw StoreError(.internalFailure, operation: operation, detail: "payload is not serializable")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
