import AppCore
import FoundationEssentials
import HTTPServer

/// Decoding request bodies into `Decodable` types with errors that name the field, and encoding responses.
enum JSONBody {
    /// Decodes the request body as `T`.
    /// - Throws: ``APIError`` 415 for a non-JSON content type, 400 `invalid_json` for unparseable bodies,
    ///   400 `missing_field` / `invalid_field` naming the field.
    static func decode<T: Decodable>(_ type: T.Type, from request: HTTPRequest) throws -> T {
        let contentType = (request.headers["Content-Type"] ?? "").lowercased()
        guard contentType.hasPrefix("application/json") else {
            throw APIError(415, "unsupported_media_type", "Ожидается тело запроса в формате JSON (application/json)")
        }
        guard !request.body.isEmpty else {
            throw APIError(400, "invalid_json", "Пустое тело запроса: ожидается JSON-объект")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(request.body))
        } catch DecodingError.keyNotFound(let key, let context) {
            let field = path(context.codingPath + [key])
            throw APIError(400, "missing_field", "Не хватает поля «\(field)»", field: field)
        } catch DecodingError.typeMismatch(_, let context) where !context.codingPath.isEmpty {
            let field = path(context.codingPath)
            throw APIError(400, "invalid_field", "Поле «\(field)» имеет неверный тип", field: field)
        } catch DecodingError.valueNotFound(_, let context) where !context.codingPath.isEmpty {
            let field = path(context.codingPath)
            throw APIError(400, "invalid_field", "Поле «\(field)» не может быть пустым (null)", field: field)
        } catch DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty {
            let field = path(context.codingPath)
            throw APIError(400, "invalid_field", "Поле «\(field)» имеет неверное значение", field: field)
        } catch {
            throw APIError(400, "invalid_json", "Тело запроса не является корректным JSON-объектом")
        }
    }

    static func path(_ keys: [any CodingKey]) -> String {
        var out = ""
        for key in keys {
            if let index = key.intValue {
                out += "[\(index)]"
            } else {
                out += (out.isEmpty ? "" : ".") + key.stringValue
            }
        }
        return out
    }
}

/// JSON responses.
enum JSONResponse {
    static func make(status: Int = 200, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(
            status: status,
            headers: ["Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store"],
            body: .bytes(CompactJSON.bytes(value)))
    }
}

/// Compact JSON with sorted keys and unescaped slashes: responses, and outgoing bodies (stable, so the same
/// submission always signs the same bytes).
enum CompactJSON {
    static func bytes(_ value: JSONValue) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map(Array.init) ?? Array("{}".utf8)
    }

    static func encode(_ value: JSONValue) -> String { String(decoding: bytes(value), as: UTF8.self) }
}

extension JSONValue {
    /// Parses JSON text already known to be valid (stored plans); `.null` if it is not.
    init(jsonText: String) {
        self = (try? JSONDecoder().decode(JSONValue.self, from: Data(jsonText.utf8))) ?? .null
    }

    static func optional(_ text: String?) -> JSONValue { text.map(JSONValue.string) ?? .null }
}
