import FoundationEssentials
import Logging

/// The claim plan: what the workflow (n8n or the built-in planner) computes from the wizard answers and publishes
/// on `claim:plan:{session_token}`. Its JSON shape is defined here once and documented in `docs/claim-plan.md`.
public struct ClaimPlan: Codable, Sendable, Equatable {
    /// One line of the plan's summary table.
    public struct Field: Codable, Sendable, Equatable {
        public var key: String
        public var label: String
        public var value: String

        public init(key: String, label: String, value: String) {
            self.key = key
            self.label = label
            self.value = value
        }
    }

    /// The schema version; this server understands 1.
    public var version: Int
    public var sessionToken: String
    public var claimID: String
    public var submissionID: String
    public var typeCode: String
    /// The formal claim's title (`Заявление о страховом случае в поездке`).
    public var title: String
    /// A few sentences in plain Russian for the person.
    public var summary: String
    public var fields: [Field]
    public var requiredDocuments: [RequiredDocument]
    public var nextSteps: [String]
    /// ISO 8601; informational.
    public var generatedAt: String?
    /// Who made it (`builtin`, `n8n`); informational.
    public var source: String?

    enum CodingKeys: String, CodingKey {
        case version
        case sessionToken = "session_token"
        case claimID = "claim_id"
        case submissionID = "submission_id"
        case typeCode = "type_code"
        case title, summary, fields
        case requiredDocuments = "required_documents"
        case nextSteps = "next_steps"
        case generatedAt = "generated_at"
        case source
    }

    public init(
        version: Int = 1, sessionToken: String, claimID: String, submissionID: String, typeCode: String,
        title: String, summary: String, fields: [Field], requiredDocuments: [RequiredDocument], nextSteps: [String],
        generatedAt: String? = nil, source: String? = nil
    ) {
        self.version = version
        self.sessionToken = sessionToken
        self.claimID = claimID
        self.submissionID = submissionID
        self.typeCode = typeCode
        self.title = title
        self.summary = summary
        self.fields = fields
        self.requiredDocuments = requiredDocuments
        self.nextSteps = nextSteps
        self.generatedAt = generatedAt
        self.source = source
    }

    /// Canonical JSON text (keys sorted, no whitespace, absent optionals left out): what is stored and sent to
    /// browsers. Written by hand because it runs for every plan received and `JSONEncoder` with sorted keys cost
    /// more than the rest of the intake together; `ClaimPlanTests` checks it against `JSONEncoder`'s output.
    public func jsonText() -> String {
        var out = JSONObjectWriter()
        out.field("claim_id", string: claimID)
        out.field("fields") { out in
            out.array(fields) { out, field in
                out.object { out in
                    out.field("key", string: field.key)
                    out.field("label", string: field.label)
                    out.field("value", string: field.value)
                }
            }
        }
        if let generatedAt { out.field("generated_at", string: generatedAt) }
        out.field("next_steps") { out in out.array(nextSteps) { out, step in out.string(step) } }
        out.field("required_documents") { out in
            out.array(requiredDocuments) { out, document in
                out.object { out in
                    out.field("code", string: document.code)
                    if let hint = document.hint { out.field("hint", string: hint) }
                    out.field("required") { out in out.raw(document.required ? "true" : "false") }
                    out.field("title", string: document.title)
                }
            }
        }
        out.field("session_token", string: sessionToken)
        if let source { out.field("source", string: source) }
        out.field("submission_id", string: submissionID)
        out.field("summary", string: summary)
        out.field("title", string: title)
        out.field("type_code", string: typeCode)
        out.field("version") { out in out.raw(String(version)) }
        return out.finish()
    }
}

/// Appends JSON to a byte buffer; the caller writes keys in sorted order.
struct JSONObjectWriter {
    private var bytes: [UInt8]
    /// One flag per open object or array: whether the next value needs a comma before it.
    private var needsComma = [false]

    init(capacity: Int = 2048) {
        bytes = []
        bytes.reserveCapacity(capacity)
        bytes.append(UInt8(ascii: "{"))
    }

    private mutating func separate() {
        if needsComma[needsComma.count - 1] { bytes.append(UInt8(ascii: ",")) }
        needsComma[needsComma.count - 1] = true
    }

    mutating func field(_ key: StaticString, _ value: (inout JSONObjectWriter) -> Void) {
        separate()
        // Keys are fixed ASCII identifiers: no escaping needed.
        bytes.append(UInt8(ascii: "\""))
        key.withUTF8Buffer { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: [UInt8(ascii: "\""), UInt8(ascii: ":")])
        needsComma.append(false)
        value(&self)
        needsComma.removeLast()
    }

    mutating func field(_ key: StaticString, string value: String) { field(key) { $0.string(value) } }

    mutating func string(_ value: String) {
        separate()
        JSONText.appendQuoted(value, to: &bytes)
    }

    mutating func raw(_ literal: String) {
        separate()
        bytes += literal.utf8
    }

    mutating func object(_ body: (inout JSONObjectWriter) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "{"))
        needsComma.append(false)
        body(&self)
        needsComma.removeLast()
        bytes.append(UInt8(ascii: "}"))
    }

    mutating func array<Element>(_ elements: [Element], _ body: (inout JSONObjectWriter, Element) -> Void) {
        separate()
        bytes.append(UInt8(ascii: "["))
        needsComma.append(false)
        for element in elements { body(&self, element) }
        needsComma.removeLast()
        bytes.append(UInt8(ascii: "]"))
    }

    mutating func finish() -> String {
        bytes.append(UInt8(ascii: "}"))
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Why a published payload is not a usable plan.
public struct PlanValidationError: Error, Sendable, Equatable {
    public var code: String
    public var message: String
    /// The submission the payload claimed to be for, when that much could be read: the failure is then
    /// reported to that submission's stream.
    public var submissionID: String?

    public init(code: String, message: String, submissionID: String? = nil) {
        self.code = code
        self.message = message
        self.submissionID = submissionID
    }
}

/// What a payload on a plan channel turned out to be.
public enum PlanDelivery: Sendable, Equatable {
    case plan(ClaimPlan)
    /// The workflow reported that it could not make a plan for this submission.
    case workflowError(submissionID: String, message: String)
}

extension ClaimPlan {
    /// The largest payload accepted. Default plans are 1–5 KB; anything near this is a mistake.
    public static let maxPayloadBytes = 256 * 1024

    /// Reads a payload published for `sessionToken`: the bare plan, or `{"event": "claim_plan_ready",
    /// "data": plan}`, or `{"event": "claim_plan_error", "data": {"submission_id", "message"}}`.
    /// - Throws: ``PlanValidationError`` naming the first problem.
    public static func parse(_ payload: [UInt8], sessionToken: String) throws(PlanValidationError) -> PlanDelivery {
        guard payload.count <= maxPayloadBytes else {
            throw PlanValidationError(code: "too_large", message: "plan payload is \(payload.count) bytes")
        }
        let delivery = try PlanPayloadReader.read(payload)
        if case .plan(let plan) = delivery { try plan.check(sessionToken: sessionToken) }
        return delivery
    }

    /// Whether `text` has at most `limit` characters; counts them only when its UTF-8 length could exceed it.
    static func fits(_ text: String, _ limit: Int) -> Bool { text.utf8.count <= limit || text.count <= limit }

    /// The rules beyond types: version, matching token, non-empty texts, sane sizes.
    func check(sessionToken expected: String) throws(PlanValidationError) {
        func fail(_ code: String, _ message: String) -> PlanValidationError {
            PlanValidationError(code: code, message: message, submissionID: submissionID)
        }
        guard version == 1 else { throw fail("unsupported_version", "`version` must be 1") }
        guard sessionToken == expected else {
            throw fail("token_mismatch", "`session_token` differs from the channel's token")
        }
        for (name, value, limit) in [
            ("submission_id", submissionID, 100), ("claim_id", claimID, 100), ("type_code", typeCode, 50),
            ("title", title, 300), ("summary", summary, 5000),
        ] {
            guard value.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) else {
                throw fail("invalid_field", "`\(name)` is empty")
            }
            guard Self.fits(value, limit) else { throw fail("invalid_field", "`\(name)` is longer than \(limit)") }
        }
        guard fields.count <= 200 else { throw fail("invalid_field", "`fields` has more than 200 items") }
        for (index, field) in fields.enumerated() where field.label.isEmpty || !Self.fits(field.value, 5000) {
            throw fail("invalid_field", "`fields[\(index)]` needs a label and a value of at most 5000 characters")
        }
        guard requiredDocuments.count <= 50 else {
            throw fail("invalid_field", "`required_documents` has more than 50 items")
        }
        for (index, document) in requiredDocuments.enumerated() where document.code.isEmpty || document.title.isEmpty {
            throw fail("invalid_field", "`required_documents[\(index)]` needs `code` and `title`")
        }
        guard nextSteps.count <= 20 else { throw fail("invalid_field", "`next_steps` has more than 20 items") }
    }
}

/// Any JSON value; used where the shape is checked by hand.
public enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value):
            if value == value.rounded(), abs(value) < 1e15 {
                try container.encode(Int64(value))
            } else {
                try container.encode(value)
            }
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}
