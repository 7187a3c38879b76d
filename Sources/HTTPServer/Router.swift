import Logging

/// Handles one request. Runs as an async task off libmicrohttpd's threads.
public typealias HTTPHandler = @Sendable (HTTPRequest) async throws -> HTTPResponse

/// Maps method + path patterns (`/api/v1/claims/:claim_id/draft`) to handlers.
///
/// Matching is by segments: a `:name` segment matches any one non-empty segment and is passed in
/// ``HTTPRequest/parameters``; a trailing `*rest` matches the remainder (possibly empty). A path that matches
/// with another method answers 405 with `Allow`; no match answers 404. Thrown ``HTTPResponseError``s become
/// their responses; any other error is offered to ``translate`` (e.g. "database unreachable" → 503), and what
/// none of them takes becomes a generic 500 (the error is logged by the server, not shown).
public struct Router: Sendable {
    public struct Route: Sendable {
        public var method: HTTPMethod
        public var pattern: String
        let segments: [Segment]
        let handler: HTTPHandler
        /// Set for routes whose body is streamed through a ``FormSink`` instead of buffered.
        public var form: FormBody?
        /// How many segments must equal the path's text (more means more specific). Counted once here: every
        /// request is matched against every route, twice (before the body and before the handler).
        let literalCount: Int
        let isCatchAll: Bool

        init(method: HTTPMethod, pattern: String, segments: [Segment], handler: @escaping HTTPHandler, form: FormBody?)
        {
            self.method = method
            self.pattern = pattern
            self.segments = segments
            self.handler = handler
            self.form = form
            literalCount = segments.count { if case .literal = $0 { true } else { false } }
            isCatchAll = if case .rest? = segments.last { true } else { false }
        }
    }

    enum Segment: Sendable, Equatable {
        case literal(String)
        case parameter(String)
        case rest(String)
    }

    public private(set) var routes: [Route] = []

    /// Checks run before every matched handler, in order; a throw answers instead of the handler
    /// (e.g. refusing cross-origin writes).
    public var before: [@Sendable (HTTPRequest) throws -> Void] = []
    /// Adjustments applied to every response, errors included (e.g. security headers).
    public var after: [@Sendable (HTTPRequest, inout HTTPResponse) -> Void] = []
    /// Turn errors that are not ``HTTPResponseError``s into answers, in order; the first non-nil one answers
    /// (logged as a warning with the error). Errors none of them takes answer 500.
    public var translate: [@Sendable (any Error) -> (any HTTPResponseError)?] = []

    public init() {}

    /// Registers `handler` for `method` and `pattern`.
    public mutating func on(
        _ method: HTTPMethod, _ pattern: String, form: FormBody? = nil, use handler: @escaping HTTPHandler
    ) {
        let segments: [Segment] = pattern.split(separator: "/", omittingEmptySubsequences: true).map { part in
            if part.hasPrefix(":") { return .parameter(String(part.dropFirst())) }
            if part.hasPrefix("*") { return .rest(String(part.dropFirst())) }
            return .literal(String(part))
        }
        routes.append(Route(method: method, pattern: pattern, segments: segments, handler: handler, form: form))
    }

    /// Registers a `POST` whose body (`multipart/form-data`) is parsed while it arrives and handed to
    /// the sink `form` makes, up to `form.maxBodySize`; `handler` then finds the sink in ``HTTPRequest/form``.
    /// Any other body type is answered 415 before it is read. (Without a server, as in router-level tests, the
    /// handler sees `form == nil`.)
    public mutating func post(_ pattern: String, form: FormBody, use handler: @escaping HTTPHandler) {
        on(.post, pattern, form: form, use: handler)
    }

    /// The pattern of the route `method` and `path` reach (for logs and metrics of requests refused before their
    /// handler runs) and its ``FormBody`` if that route streams its body.
    func earlyLookup(method: HTTPMethod, path: String) -> (pattern: String?, form: FormBody?) {
        guard case .found(let route, _) = match(method: method, path: path) else { return (nil, nil) }
        return (route.pattern, route.form)
    }

    public mutating func get(_ pattern: String, use handler: @escaping HTTPHandler) { on(.get, pattern, use: handler) }
    public mutating func post(_ pattern: String, use handler: @escaping HTTPHandler) {
        on(.post, pattern, use: handler)
    }
    public mutating func put(_ pattern: String, use handler: @escaping HTTPHandler) { on(.put, pattern, use: handler) }
    public mutating func delete(_ pattern: String, use handler: @escaping HTTPHandler) {
        on(.delete, pattern, use: handler)
    }

    /// The outcome of matching a request against the routes.
    public enum Match {
        case found(Route, parameters: [String: String])
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    /// Routes without a `*rest` segment are tried first: a path that names a real route answers from it (its
    /// handler, or 405 listing its methods) even when a catch-all such as `GET /*path` would also bind. A
    /// catch-all only decides paths nothing else binds, and never turns them into 405s.
    ///
    /// Among the routes that bind, only those with the most literal segments count: `/api/v1/claims/wizard` is the
    /// `POST` route's path, so `GET` there is a 405 listing `POST`, not `GET /api/v1/claims/:claim_id` with
    /// "wizard" as the id.
    public func match(method: HTTPMethod, path: String) -> Match {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true)
        for catchAll in [false, true] {
            // Which routes bind is decided without building their parameters: only the one chosen gets them.
            var bound: [Int] = []
            var mostLiterals = -1
            for (index, route) in routes.enumerated() where route.isCatchAll == catchAll {
                guard Self.binds(route.segments, to: parts) else { continue }
                if route.literalCount > mostLiterals {
                    mostLiterals = route.literalCount
                    bound.removeAll(keepingCapacity: true)
                }
                if route.literalCount == mostLiterals { bound.append(index) }
            }
            var allowed: [HTTPMethod] = []
            for index in bound {
                let route = routes[index]
                if route.method == method || (method == .head && route.method == .get) {
                    return .found(route, parameters: Self.parameters(route.segments, from: parts))
                }
                if !catchAll && !allowed.contains(route.method) { allowed.append(route.method) }
            }
            if !allowed.isEmpty { return .methodNotAllowed(allowed: allowed) }
        }
        return .notFound
    }

    /// Whether `segments` bind the path's `parts` (see ``parameters(_:from:)`` for what they bind to).
    static func binds(_ segments: [Segment], to parts: [Substring]) -> Bool {
        var index = 0
        for segment in segments {
            switch segment {
            case .literal(let text):
                guard index < parts.count, parts[index] == text else { return false }
            case .parameter:
                guard index < parts.count, !parts[index].isEmpty else { return false }
            case .rest:
                return true
            }
            index += 1
        }
        return index == parts.count
    }

    /// The parameters `segments` bind in `parts`; call only when ``binds(_:to:)`` is true.
    static func parameters(_ segments: [Segment], from parts: [Substring]) -> [String: String] {
        var parameters: [String: String] = [:]
        for (index, segment) in segments.enumerated() {
            switch segment {
            case .literal:
                continue
            case .parameter(let name):
                parameters[name] = String(parts[index])
            case .rest(let name):
                parameters[name] = parts[index...].joined(separator: "/")
                return parameters
            }
        }
        return parameters
    }

    /// Routes the request and turns errors into responses; an unexpected error is logged in full and answered
    /// with a generic 500 that reveals nothing.
    public func respond(to request: HTTPRequest, logger: Logger) async -> HTTPResponse {
        await route(request, logger: logger).response
    }

    /// ``respond(to:logger:)`` plus the matched route's pattern (nil when nothing matched), for the access log.
    func route(_ request: HTTPRequest, logger: Logger) async -> (response: HTTPResponse, pattern: String?) {
        var (response, pattern) = await dispatch(request, logger: logger)
        for adjust in after { adjust(request, &response) }
        return (response, pattern)
    }

    func dispatch(_ request: HTTPRequest, logger: Logger) async -> (response: HTTPResponse, pattern: String?) {
        switch match(method: request.method, path: request.path) {
        case .notFound:
            return (HTTPError(404, code: "not_found", message: "Такой страницы нет").response(), nil)
        case .methodNotAllowed(let allowed):
            var response = HTTPError(405, code: "method_not_allowed", message: "Этот метод здесь не поддерживается")
                .response()
            response.headers.replace("Allow", allowed.map(\.rawValue).joined(separator: ", "))
            return (response, nil)
        case .found(let route, let parameters):
            var request = request
            request.parameters = parameters
            do {
                for check in before { try check(request) }
                return (try await route.handler(request), route.pattern)
            } catch let error as any HTTPResponseError {
                return (error.response(), route.pattern)
            } catch {
                if let answer = translate.lazy.compactMap({ $0(error) }).first {
                    logger.warning(
                        "request failed", metadata: ["request.id": request.id, "error": String(reflecting: error)])
                    return (answer.response(), route.pattern)
                }
                logger.error(
                    "unhandled error", metadata: ["request.id": request.id, "error": String(reflecting: error)])
                return (
                    HTTPError(500, code: "internal_error", message: "Внутренняя ошибка сервера. Попробуйте ещё раз")
                        .response(), route.pattern
                )
            }
        }
    }
}
