import CJansson

/// Reads a plan payload with jansson (C) into ``PlanDelivery``, naming the first field that is missing, null or
/// of the wrong type the way `JSONDecoder` would (`fields[0].label`). Every plan message of every instance goes
/// through here; `JSONDecoder` took about a sixth of the server's CPU per delivered plan, jansson a fraction.
enum PlanPayloadReader {
    typealias Value = Jansson.Value

    static func read(_ payload: [UInt8]) throws(PlanValidationError) -> PlanDelivery {
        // Duplicate keys are refused: which one would count is a guess, and a guess is not validation.
        let parsed = payload.withUnsafeBufferPointer { Jansson.load($0, flags: JSON_REJECT_DUPLICATES) }
        guard let root = parsed else {
            throw PlanValidationError(code: "invalid_json", message: "plan payload is not valid JSON")
        }
        defer { json_decref(root) }
        guard Jansson.kind(root) == .object else {
            throw PlanValidationError(code: "invalid_json", message: "plan payload is not a JSON object")
        }
        guard let eventValue = json_object_get(root, "event"), let event = Jansson.string(eventValue) else {
            return .plan(try plan(root, path: ""))
        }
        guard let data = json_object_get(root, "data"), Jansson.kind(data) == .object else {
            throw PlanValidationError(code: "missing_field", message: "envelope without an object in `data`")
        }
        switch event {
        case "claim_plan_ready":
            return .plan(try plan(data, path: ""))
        case "claim_plan_error":
            guard let submissionID = json_object_get(data, "submission_id").flatMap(Jansson.string),
                !submissionID.isEmpty
            else {
                throw PlanValidationError(code: "missing_field", message: "`data.submission_id` is required")
            }
            let message = json_object_get(data, "message").flatMap(Jansson.string).map { String($0.prefix(500)) }
            return .workflowError(submissionID: submissionID, message: message ?? "workflow reported an error")
        default:
            throw PlanValidationError(code: "invalid_field", message: "unknown event `\(event.prefix(40))`")
        }
    }

    // MARK: - The plan

    private static func plan(_ object: Value, path: String) throws(PlanValidationError) -> ClaimPlan {
        // Named in failures from here on, so the waiting person's stream learns of the failure.
        let submissionID = json_object_get(object, "submission_id").flatMap(Jansson.string)
        let fields = Fields(object: object, path: path, submissionID: submissionID)
        // The order `JSONDecoder` checked them in, so the first problem named stays the same.
        let version = try fields.int("version")
        let sessionToken = try fields.string("session_token")
        let claimID = try fields.string("claim_id")
        let submission = try fields.string("submission_id")
        let typeCode = try fields.string("type_code")
        let title = try fields.string("title")
        let summary = try fields.string("summary")
        let lines = try fields.array("fields") { item, path throws(PlanValidationError) in
            let line = Fields(object: item, path: path, submissionID: submissionID)
            return ClaimPlan.Field(
                key: try line.string("key"), label: try line.string("label"), value: try line.string("value"))
        }
        let documents = try fields.array("required_documents") { item, path throws(PlanValidationError) in
            let document = Fields(object: item, path: path, submissionID: submissionID)
            return RequiredDocument(
                code: try document.string("code"), title: try document.string("title"),
                required: try document.bool("required"), hint: try document.optionalString("hint"))
        }
        let nextSteps = try fields.array("next_steps") { item, path throws(PlanValidationError) in
            guard let text = Jansson.string(item) else { throw fields.failure(at: path, found: item) }
            return text
        }
        return ClaimPlan(
            version: version, sessionToken: sessionToken, claimID: claimID, submissionID: submission,
            typeCode: typeCode, title: title, summary: summary, fields: lines, requiredDocuments: documents,
            nextSteps: nextSteps, generatedAt: try fields.optionalString("generated_at"),
            source: try fields.optionalString("source"))
    }

    /// The members of one JSON object (or, for an array item that must be an object, the failure to be one).
    private struct Fields {
        let object: Value
        let path: String
        let submissionID: String?

        func failure(at path: String, found value: Value?) -> PlanValidationError {
            switch value.map(Jansson.kind) {
            case nil:
                PlanValidationError(code: "missing_field", message: "`\(path)` is required", submissionID: submissionID)
            case .null?:
                PlanValidationError(
                    code: "invalid_field", message: "`\(path)` must not be null", submissionID: submissionID)
            default:
                PlanValidationError(
                    code: "invalid_field", message: "`\(path)` has the wrong type", submissionID: submissionID)
            }
        }

        private func member(_ key: String) throws(PlanValidationError) -> (Value?, String) {
            let memberPath = path.isEmpty ? key : path + "." + key
            guard Jansson.kind(object) == .object else { throw failure(at: path, found: object) }
            return (json_object_get(object, key), memberPath)
        }

        func string(_ key: String) throws(PlanValidationError) -> String {
            let (value, path) = try member(key)
            guard let value, let text = Jansson.string(value) else { throw failure(at: path, found: value) }
            return text
        }

        func optionalString(_ key: String) throws(PlanValidationError) -> String? {
            let (value, path) = try member(key)
            guard let value, Jansson.kind(value) != .null else { return nil }
            guard let text = Jansson.string(value) else { throw failure(at: path, found: value) }
            return text
        }

        func int(_ key: String) throws(PlanValidationError) -> Int {
            let (value, path) = try member(key)
            guard let value, Jansson.kind(value) == .integer else { throw failure(at: path, found: value) }
            return Int(json_integer_value(value))
        }

        func bool(_ key: String) throws(PlanValidationError) -> Bool {
            let (value, path) = try member(key)
            switch value.map(Jansson.kind) {
            case .true?: return true
            case .false?: return false
            default: throw failure(at: path, found: value)
            }
        }

        func array<Element>(
            _ key: String, _ element: (Value, String) throws(PlanValidationError) -> Element
        ) throws(PlanValidationError) -> [Element] {
            let (value, path) = try member(key)
            guard let value, Jansson.kind(value) == .array else { throw failure(at: path, found: value) }
            let count = json_array_size(value)
            var elements: [Element] = []
            elements.reserveCapacity(count)
            for index in 0..<count {
                let itemPath = "\(path)[\(index)]"
                guard let item = json_array_get(value, index) else { throw failure(at: itemPath, found: nil) }
                elements.append(try element(item, itemPath))
            }
            return elements
        }
    }

}
