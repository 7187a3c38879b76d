/// A kind of claim a person can file, with its questions and the documents it will need.
public struct ClaimType: Sendable, Equatable {
    public var code: String
    public var title: String
    public var description: String
    public var questions: [Question]
    public var documents: [RequiredDocument]

    public init(code: String, title: String, description: String, questions: [Question], documents: [RequiredDocument])
    {
        self.code = code
        self.title = title
        self.description = description
        self.questions = questions
        self.documents = documents
    }

    public func question(_ id: String) -> Question? { questions.first { $0.id == id } }
}

/// One wizard question. Answers are strings; ``Kind`` decides what a valid one looks like.
public struct Question: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case text, textarea, date, number, money, select, phone, yesno
    }

    public struct Option: Sendable, Equatable {
        public var value: String
        public var label: String
        public init(_ value: String, _ label: String) {
            self.value = value
            self.label = label
        }
    }

    public var id: String
    public var label: String
    public var hint: String?
    public var kind: Kind
    public var required: Bool
    /// For text kinds. Default 200 (text), 4000 (textarea).
    public var maxLength: Int
    public var options: [Option]
    /// Bounds for `number` and `money`.
    public var min: Int?
    public var max: Int?
    /// For `date`: whether the date may lie in the future. Default false: events already happened.
    public var allowsFuture: Bool
    /// For `date`: the id of another date question this one may not precede (an event during a trip cannot
    /// happen before the trip started).
    public var notBefore: String?

    public init(
        id: String, label: String, hint: String? = nil, kind: Kind, required: Bool = true, maxLength: Int? = nil,
        options: [Option] = [], min: Int? = nil, max: Int? = nil, allowsFuture: Bool = false,
        notBefore: String? = nil
    ) {
        self.id = id
        self.label = label
        self.hint = hint
        self.kind = kind
        self.required = required
        self.maxLength = maxLength ?? (kind == .textarea ? 4000 : 200)
        self.options = options
        self.min = min
        self.max = max
        self.allowsFuture = allowsFuture
        self.notBefore = notBefore
    }
}

/// A document the claim will need after confirmation.
public struct RequiredDocument: Sendable, Equatable, Codable {
    public var code: String
    public var title: String
    public var required: Bool
    public var hint: String?

    public init(code: String, title: String, required: Bool = true, hint: String? = nil) {
        self.code = code
        self.title = title
        self.required = required
        self.hint = hint
    }
}
