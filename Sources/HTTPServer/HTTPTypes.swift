import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// An HTTP method. Unknown methods are kept verbatim so the router can answer 405 (or 501) for them.
public struct HTTPMethod: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }

    public static let get = HTTPMethod(rawValue: "GET")
    public static let head = HTTPMethod(rawValue: "HEAD")
    public static let post = HTTPMethod(rawValue: "POST")
    public static let put = HTTPMethod(rawValue: "PUT")
    public static let patch = HTTPMethod(rawValue: "PATCH")
    public static let delete = HTTPMethod(rawValue: "DELETE")
    public static let options = HTTPMethod(rawValue: "OPTIONS")

    public var description: String { rawValue }
}

/// Header fields in arrival order, looked up case-insensitively.
public struct HTTPHeaders: Sendable, Sequence, ExpressibleByDictionaryLiteral {
    public private(set) var fields: [(name: String, value: String)]

    public init(_ fields: [(name: String, value: String)] = []) { self.fields = fields }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.fields = elements.map { (name: $0.0, value: $0.1) }
    }

    /// The first value of `name` (case-insensitive), or nil.
    public subscript(name: String) -> String? {
        let wanted = name.lowercased()
        return fields.first(where: { $0.name.lowercased() == wanted })?.value
    }

    /// Every value of `name` (case-insensitive).
    public func values(_ name: String) -> [String] {
        let wanted = name.lowercased()
        return fields.filter { $0.name.lowercased() == wanted }.map(\.value)
    }

    /// Appends a field (repeats allowed, e.g. `Set-Cookie`).
    public mutating func add(_ name: String, _ value: String) { fields.append((name: name, value: value)) }

    /// Replaces every field called `name` with one field.
    public mutating func replace(_ name: String, _ value: String) {
        let wanted = name.lowercased()
        fields.removeAll { $0.name.lowercased() == wanted }
        fields.append((name: name, value: value))
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: String)]> { fields.makeIterator() }
}

/// A request as the router sees it: the whole body has been read (within the configured limit).
public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The decoded path without the query string, e.g. `/api/v1/claims/42/draft`.
    public var path: String
    /// Query parameters (decoded; the last value wins on repeats).
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The peer's address as text (`127.0.0.1`), when known.
    public var remoteAddress: String?
    /// Values of `:name` segments of the matched route; filled in by the ``Router``.
    public var parameters: [String: String]
    /// A short random id for logs and the `X-Request-Id` response header.
    public var id: String
    /// The sink that received the body of a ``Router/post(_:form:use:)`` route (``body`` is then empty).
    public var form: (any FormSink)?

    public init(
        method: HTTPMethod, path: String, query: [String: String] = [:], headers: HTTPHeaders = [:],
        body: [UInt8] = [], remoteAddress: String? = nil, parameters: [String: String] = [:], id: String = "",
        form: (any FormSink)? = nil
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.remoteAddress = remoteAddress
        self.parameters = parameters
        self.id = id
        self.form = form
    }

    /// The value of the cookie `name` (the first one when it is sent twice, as in ``cookies``), without building
    /// the whole dictionary: every authenticated request asks for one cookie.
    public func cookie(_ name: String) -> String? {
        var found: String?
        forEachCookie { cookieName, value in
            guard cookieName == name else { return true }
            found = String(value)
            return false
        }
        return found
    }

    /// Cookie values from the `Cookie` header(s).
    public var cookies: [String: String] {
        var result: [String: String] = [:]
        forEachCookie { name, value in
            if result[String(name)] == nil { result[String(name)] = String(value) }
            return true
        }
        return result
    }

    /// Calls `body` with each cookie's name and value, in the order sent, until it returns false. A pair without
    /// `=` is skipped; the value is everything after the first `=`.
    private func forEachCookie(_ body: (Substring, Substring) -> Bool) {
        for header in headers.values("Cookie") {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop(while: { $0 == " " })
                guard let eq = trimmed.firstIndex(of: "=") else { continue }
                guard body(trimmed[..<eq], trimmed[trimmed.index(after: eq)...]) else { return }
            }
        }
    }
}

/// A response: fixed bytes, or a stream that stays open (server-sent events).
public struct HTTPResponse: Sendable {
    public enum Body: Sendable {
        case bytes([UInt8])
        /// An open-ended body written through ``ResponseStream`` (ended by closing the connection, never compressed).
        case stream(ResponseStream)
        /// A file's bytes, sent by libmicrohttpd straight from the descriptor (never read into memory).
        case file(FileBody)
    }

    public var status: Int
    public var headers: HTTPHeaders
    public var body: Body

    public init(status: Int, headers: HTTPHeaders = [:], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A response with a UTF-8 text body and the given content type.
    public static func text(_ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8")
        -> HTTPResponse
    {
        HTTPResponse(status: status, headers: ["Content-Type": contentType], body: .bytes(Array(text.utf8)))
    }
}

/// An error that knows the response it should become at the HTTP edge.
public protocol HTTPResponseError: Error {
    var status: Int { get }
    func response() -> HTTPResponse
}

/// A plain HTTP error with a JSON body `{"error":{"code":…,"message":…,"field":…}}`.
public struct HTTPError: HTTPResponseError, Equatable {
    public var status: Int
    public var code: String
    public var message: String
    public var field: String?
    public var headers: HTTPHeaders.Fields

    public init(_ status: Int, code: String, message: String, field: String? = nil, headers: [String: String] = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = HTTPHeaders.Fields(headers)
    }

    public func response() -> HTTPResponse {
        var body = "{\"error\":{\"code\":\(jsonQuote(code)),\"message\":\(jsonQuote(message))"
        if let field { body += ",\"field\":\(jsonQuote(field))" }
        body += "}}"
        var response = HTTPResponse.text(body, status: status, contentType: "application/json; charset=utf-8")
        for (name, value) in headers.pairs { response.headers.replace(name, value) }
        return response
    }

    public static func == (lhs: HTTPError, rhs: HTTPError) -> Bool {
        lhs.status == rhs.status && lhs.code == rhs.code && lhs.field == rhs.field
    }
}

extension HTTPHeaders {
    /// A sorted list of header pairs that is `Equatable` (for errors that carry headers such as `Retry-After`).
    public struct Fields: Sendable, Equatable {
        public var pairs: [(String, String)]
        public init(_ dictionary: [String: String]) { pairs = dictionary.sorted { $0.key < $1.key } }
        public static func == (lhs: Fields, rhs: Fields) -> Bool {
            lhs.pairs.map(\.0) == rhs.pairs.map(\.0) && lhs.pairs.map(\.1) == rhs.pairs.map(\.1)
        }
    }
}

/// JSON string literal for `text` (quotes and escapes, `<` too), used for small hand-built bodies.
public func jsonQuote(_ text: String) -> String { JSONText.quote(text, escapingHTML: true) }

/// An open file to send as a response body. libmicrohttpd closes the descriptor once the response is sent; a
/// body that is never sent closes it when released.
public final class FileBody: Sendable {
    let state: Mutex<Int32?>
    /// The bytes to send from the start of the file.
    public let size: UInt64

    /// - Parameters:
    ///   - descriptor: an open, blocking, readable descriptor; the body owns it from now on.
    ///   - size: how many bytes to send from offset 0.
    public init(descriptor: Int32, size: UInt64) {
        self.state = Mutex(descriptor)
        self.size = size
    }

    /// Hands the descriptor over (to libmicrohttpd); nil if it was taken already.
    func take() -> Int32? {
        state.withLock { descriptor in
            defer { descriptor = nil }; return descriptor
        }
    }

    deinit {
        if let descriptor = take() { _ = close(descriptor) }
    }
}
