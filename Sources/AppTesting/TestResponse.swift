import AppCore
import Foundation

/// A response as received by ``TestConnection``: status, header fields in order, body bytes.
public struct TestResponse: Sendable {
    /// One header field.
    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public var status: Int
    public var headers: [Header]
    public var body: [UInt8]

    /// The first value of header `name` (case-insensitive).
    public subscript(header name: String) -> String? { values(name).first }

    /// Every value of header `name` (case-insensitive), e.g. all `Set-Cookie` fields.
    public func values(_ name: String) -> [String] {
        headers.filter { $0.name.lowercased() == name.lowercased() }.map(\.value)
    }

    /// The body as UTF-8 text.
    public var text: String { String(decoding: body, as: UTF8.self) }

    /// The body parsed as JSON, or nil if it is not JSON.
    public var json: JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(body)) }

    /// `error.code` of an error body.
    public var errorCode: String? { json?["error"]?["code"]?.string }

    /// `error.field` of an error body.
    public var errorField: String? { json?["error"]?["field"]?.string }

    /// The `Content-Type` without parameters, lowercased (`application/json`).
    public var mediaType: String? {
        self[header: "Content-Type"].map { String($0.split(separator: ";")[0]).trimmingCharacters(in: .whitespaces) }
            .map { $0.lowercased() }
    }
}
