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
            // JSONDecoder refuses a number it cannot represent (1e400, 2^64, 1.5 for an integer) as if the whole text
            // were not JSON. Name the field when that number was the only problem.
            if let field = unrepresentableNumberField(T.self, in: request.body) {
                throw APIError(
                    400, "invalid_field", "Поле «\(field)» должно быть целым числом в допустимом диапазоне",
                    field: field)
            }
            throw APIError(400, "invalid_json", "Тело запроса не является корректным JSON-объектом")
        }
    }

    /// The path of the first number in `body` that is not an integer fitting in 64 bits, if replacing every such
    /// number with `0` makes `body` decode as `T` (or fail for another, field-specific reason); nil otherwise.
    static func unrepresentableNumberField<T: Decodable>(_ type: T.Type, in body: [UInt8]) -> String? {
        let suspicious = JSONNumberScanner.numbers(in: body).filter { !fitsInt64($0.text) }
        guard let first = suspicious.first else { return nil }
        var patched: [UInt8] = []
        patched.reserveCapacity(body.count)
        var position = 0
        for number in suspicious {
            patched += body[position..<number.range.lowerBound]
            patched.append(UInt8(ascii: "0"))
            position = number.range.upperBound
        }
        patched += body[position...]
        do {
            _ = try JSONDecoder().decode(T.self, from: Data(patched))
        } catch DecodingError.dataCorrupted(let context) where context.codingPath.isEmpty {
            return nil  // still not JSON: the number was not the only problem
        } catch {
            // A field-specific problem remains, but the number came first in the text.
        }
        return first.path
    }

    /// Whether a JSON number token is an integer JSONDecoder can hand to `Int`/`Int64` (`100`, `1e2`, `100.0`).
    static func fitsInt64(_ text: String) -> Bool {
        if Int64(text) != nil { return true }
        guard let value = Double(text), value.isFinite, value == value.rounded() else { return false }
        return value >= -9_223_372_036_854_775_808 && value < 9_223_372_036_854_775_808
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

/// The number tokens of a JSON text with the path of each (`revision`, `answers.x`, `items[2]`, as
/// ``JSONBody/path(_:)`` writes it). Lenient and iterative (no recursion, so 10,000 levels of nesting are fine): it
/// does not validate, and on text that is not JSON it reports whatever looked like numbers.
enum JSONNumberScanner {
    struct Number: Equatable {
        var range: Range<Int>
        var text: String
        var path: String
    }

    private enum Frame {
        case object(key: String?, expectingKey: Bool)
        case array(index: Int)
    }

    static func numbers(in bytes: [UInt8]) -> [Number] {
        var found: [Number] = []
        var stack: [Frame] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                let start = index + 1
                index = start
                while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
                    index += bytes[index] == UInt8(ascii: "\\") ? 2 : 1
                }
                if case .object(_, true) = stack.last {
                    let end = min(index, bytes.count)
                    let key = String(decoding: bytes[min(start, end)..<end], as: UTF8.self)
                    stack[stack.count - 1] = .object(key: key, expectingKey: false)
                }
                index += 1
            case UInt8(ascii: "{"):
                stack.append(.object(key: nil, expectingKey: true))
                index += 1
            case UInt8(ascii: "["):
                stack.append(.array(index: 0))
                index += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if !stack.isEmpty { stack.removeLast() }
                index += 1
            case UInt8(ascii: ","):
                switch stack.last {
                case .array(let position): stack[stack.count - 1] = .array(index: position + 1)
                case .object(let key, _): stack[stack.count - 1] = .object(key: key, expectingKey: true)
                case nil: break
                }
                index += 1
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = index
                while index < bytes.count, isNumberByte(bytes[index]) { index += 1 }
                found.append(
                    Number(
                        range: start..<index, text: String(decoding: bytes[start..<index], as: UTF8.self),
                        path: path(of: stack)))
            default:
                index += 1
            }
        }
        return found
    }

    private static func isNumberByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
            UInt8(ascii: "e"), UInt8(ascii: "E"):
            true
        default: false
        }
    }

    private static func path(of stack: [Frame]) -> String {
        var out = ""
        for frame in stack {
            switch frame {
            case .object(let key, _):
                guard let key else { continue }
                out += (out.isEmpty ? "" : ".") + key
            case .array(let position):
                out += "[\(position)]"
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
