import AppCore
import AppTesting
import Foundation
import Testing

/// `integrations/n8n/clpr-claim-plan.json`, the importable workflow: it parses and has the nodes the contract
/// (docs/n8n.md) needs, wired in order.
@Suite struct N8NWorkflowTests {
    static var path: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("integrations/n8n/clpr-claim-plan.json").path
    }

    static func workflow() throws -> JSONValue {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        return try #require(JSONValue.parse(text), "the workflow is valid JSON")
    }

    static func node(_ workflow: JSONValue, type: String, operation: String? = nil) -> JSONValue? {
        workflow["nodes"]?.array?.first { node in
            node["type"]?.string == type
                && (operation == nil || node["parameters"]?["operation"]?.string == operation)
        }
    }

    @Test func workflowHasWebhookSignatureCheckSetAndPublish() throws {
        let workflow = try Self.workflow()
        let nodes = try #require(workflow["nodes"]?.array)
        #expect(Set(nodes.compactMap { $0["name"]?.string }).count == nodes.count, "node names are unique")

        let webhook = try #require(Self.node(workflow, type: "n8n-nodes-base.webhook"))
        #expect(webhook["parameters"]?["httpMethod"]?.string == "POST")
        #expect(webhook["parameters"]?["responseMode"]?.string == "onReceived", "respond immediately")
        #expect(webhook["parameters"]?["options"]?["rawBody"]?.bool == true)

        let code = nodes.filter { $0["type"]?.string == "n8n-nodes-base.code" }.compactMap {
            $0["parameters"]?["jsCode"]?.string
        }
        let verify = try #require(code.first { $0.contains("createHmac('sha256'") })
        #expect(verify.contains("x-clpr-signature") && verify.contains("x-clpr-timestamp"))
        #expect(verify.contains("timestamp + '.' + raw"))
        #expect(verify.contains("300"))
        let build = try #require(code.first { $0.contains("required_documents") })
        for type in ClaimCatalog.standard.types.map(\.code) {
            #expect(build.contains("\(type): () =>"), "a plan for \(type)")
        }

        let set = try #require(Self.node(workflow, type: "n8n-nodes-base.redis", operation: "set"))
        #expect(set["parameters"]?["key"]?.string?.contains("claim:plan:{{") == true)
        #expect(set["parameters"]?["expire"]?.bool == true)
        #expect((set["parameters"]?["ttl"]?.int ?? 0) > 0)

        let publish = try #require(Self.node(workflow, type: "n8n-nodes-base.redis", operation: "publish"))
        let channel = try #require(publish["parameters"]?["channel"]?.string)
        #expect(channel.hasPrefix("=claim:plan:{{") && channel.contains("session_token") && channel.hasSuffix("}}"))

        // Webhook → verify → build → SET → PUBLISH.
        var chain: [String] = []
        var current = webhook["name"]?.string
        while let name = current, chain.count < 10 {
            chain.append(name)
            current = workflow["connections"]?[name]?["main"]?[0]?[0]?["node"]?.string
        }
        #expect(chain.count == 5)
        #expect(chain.last == publish["name"]?.string)
        #expect(chain.contains(set["name"]?.string ?? "?"))
    }
}
