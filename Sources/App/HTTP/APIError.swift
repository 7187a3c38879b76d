import AppCore
import HTTPServer

/// An API error with the standard body `{"error": {"code", "message", "field"?, …extra}}`.
///
/// `message` is Russian (shown to people); `code` is a stable identifier for programs.
struct APIError: HTTPResponseError, CustomStringConvertible {
    var status: Int
    var code: String
    var message: String
    var field: String?
    /// Extra members of the error object (`attempts_left`, `fields`, `claim`).
    var extra: [String: JSONValue] = [:]
    var headers: [String: String] = [:]

    init(
        _ status: Int, _ code: String, _ message: String, field: String? = nil, extra: [String: JSONValue] = [:],
        headers: [String: String] = [:]
    ) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.extra = extra
        self.headers = headers
    }

    func response() -> HTTPResponse {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        if let field { error["field"] = .string(field) }
        for (key, value) in extra { error[key] = value }
        var response = JSONResponse.make(status: status, .object(["error": .object(error)]))
        for (name, value) in headers { response.headers.replace(name, value) }
        return response
    }

    var description: String { "APIError(\(status), \(code))" }

    static let unauthenticated = APIError(401, "unauthenticated", "Войдите, чтобы продолжить")
    static let claimNotFound = APIError(404, "claim_not_found", "Заявка не найдена")
    /// The database cannot be reached (stopped, restarting, network): 503 with `Retry-After`; the client tries
    /// again and the pool reconnects on its own.
    static let databaseUnavailable = APIError(
        503, "database_unavailable", "Сервис временно недоступен, попробуйте через несколько секунд",
        headers: ["Retry-After": "5"])

    /// ``databaseUnavailable`` for a store error saying the database cannot be reached; nil for any other error.
    @Sendable static func translatingStoreErrors(_ error: any Error) -> (any HTTPResponseError)? {
        guard let error = error as? StoreError, error.code == .unavailable else { return nil }
        return databaseUnavailable
    }

    static func unavailable(_ retryAfter: Int = 5) -> APIError {
        APIError(
            503, "service_unavailable", "Сервис временно недоступен, попробуйте через несколько секунд",
            headers: ["Retry-After": String(retryAfter)])
    }
}
