import AppCore
import AppTesting
import HTTPServer
import Testing

@testable import App

/// `GET /api/openapi.json` stays true to the router: every route documented, nothing documented that does not
/// exist.
@Suite struct OpenAPITests {
    /// `/api/v1/claims/:claim_id` → `/api/v1/claims/{claim_id}`.
    static func openAPIPath(_ pattern: String) -> String {
        pattern.split(separator: "/", omittingEmptySubsequences: false).map { part in
            part.hasPrefix(":") ? "{\(part.dropFirst())}" : String(part)
        }.joined(separator: "/")
    }

    @Test func documentMatchesTheRoutes() async throws {
        try await withTestApplication { app in
            let response = try await app.request("GET", "/api/openapi.json")
            #expect(response.status == 200)
            #expect(response.mediaType == "application/json")
            let document = try #require(response.json, "the document must be valid JSON")
            #expect(document["openapi"]?.string == "3.1.0")
            let paths = try #require(document["paths"]?.object)
            let httpMethods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
            var documented: Set<String> = []
            for (path, item) in paths {
                for method in (item.object ?? [:]).keys where httpMethods.contains(method) {
                    documented.insert("\(method.uppercased()) \(path)")
                }
            }
            // The static-file catch-all (`GET /*path`: the web app) is not part of the API.
            let routed = Set(
                app.application.routes.filter { !$0.pattern.contains("*") }.map {
                    "\($0.method.rawValue) \(Self.openAPIPath($0.pattern))"
                })
            #expect(routed.count > 20)
            #expect(routed.subtracting(documented).sorted() == [], "routes missing from the OpenAPI document")
            #expect(documented.subtracting(routed).sorted() == [], "documented operations with no route")
        }
    }

    @Test func everyOperationDocumentsTheErrorShapeAndRefsResolve() throws {
        let document = try #require(JSONValue.parse(OpenAPIDocument.json))
        let error = try #require(document["components"]?["schemas"]?["Error"]?["properties"]?["error"])
        #expect(error["required"]?.array?.compactMap(\.string) == ["code", "message"])
        for (path, item) in try #require(document["paths"]?.object) {
            for (method, operation) in try #require(item.object) {
                let responses = try #require(operation["responses"]?.object, "\(method) \(path) without responses")
                #expect(!responses.isEmpty)
                #expect(
                    responses["default"] != nil || path.hasPrefix("/healthz") || !path.hasPrefix("/api/v1"),
                    "\(method) \(path) does not document the error shape")
            }
        }
        // Every `$ref` names something that exists.
        var refs: [String] = []
        func collect(_ value: JSONValue) {
            if let object = value.object {
                if let ref = object["$ref"]?.string { refs.append(ref) }
                object.values.forEach(collect)
            } else if let array = value.array {
                array.forEach(collect)
            }
        }
        collect(document)
        #expect(!refs.isEmpty)
        for ref in refs {
            var target: JSONValue? = document
            for key in ref.dropFirst(2).split(separator: "/") { target = target?[String(key)] }
            #expect(target != nil, "\(ref) does not resolve")
        }
    }
}
