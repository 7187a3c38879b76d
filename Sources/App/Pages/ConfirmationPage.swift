import AppCore
import Crypto
import HTTPServer

/// `GET /api/v1/claims/{claim_id}/confirmation?render=…`: the check-answers document shown in the sandboxed
/// iframe. Rendered by the server from stored data only, every value HTML-escaped, under a CSP that allows just
/// this response's own nonce-tagged style and script.
struct ConfirmationPage: Sendable {
    let claims: ClaimRoutes
    let authenticator: Authenticator

    func register(in router: inout Router) {
        router.get("/api/v1/claims/:claim_id/confirmation", use: render)
    }

    @Sendable func render(_ request: HTTPRequest) async throws -> HTTPResponse {
        let session = try await authenticator.require(request)
        guard let render = request.query["render"], Self.isNonce(render) else {
            throw APIError(
                400, "invalid_field", "Параметр render должен быть 16–64 шестнадцатеричных символа", field: "render")
        }
        let claim = try await claims.ownedClaim(request.parameters["claim_id"], session: session)
        guard claim.submissionID == nil || claim.isSubmissionCurrent || claim.isConfirmed else {
            throw APIError(409, "stale_submission", "Ответы изменились: отправьте заявку ещё раз")
        }
        guard let submissionID = claim.submissionID,
            case .ready(let planJSON)? = try await claims.store.planRecord(
                sessionToken: claim.sessionToken, submissionID: submissionID)?.outcome,
            case .plan(let plan) = try ClaimPlan.parse(Array(planJSON.utf8), sessionToken: claim.sessionToken)
        else {
            throw APIError(409, "plan_not_ready", "План заявки ещё не готов")
        }
        let nonce = Crypto.randomToken(bytes: 18)
        let language = ClaimRoutes.language(of: request)
        let html = Self.document(
            plan: plan, claim: claim, render: render, nonce: nonce, confirmed: claim.isConfirmed, language: language)
        var response = HTTPResponse.text(html, contentType: "text/html; charset=utf-8")
        response.headers.replace(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'nonce-\(nonce)'; script-src 'nonce-\(nonce)'; img-src 'none'; "
                + "base-uri 'none'; form-action 'none'; frame-ancestors 'self'")
        response.headers.replace("Cache-Control", "no-store")
        response.headers.replace("Content-Language", language.rawValue)
        return response
    }

    static func isNonce(_ text: String) -> Bool {
        (16...64).contains(text.utf8.count)
            && text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
    }

    /// The page's own texts (the plan's texts are the workflow's, in Russian).
    struct Wording {
        var answers, documents, required, optional, declarationHeading, confirm, cancel, confirmed: String

        static func of(_ language: UILanguage) -> Wording {
            switch language {
            case .ru:
                Wording(
                    answers: "Ваши ответы", documents: "Документы, которые понадобятся", required: "обязательно",
                    optional: "если есть", declarationHeading: "Заявление", confirm: "Подтвердить заявление",
                    cancel: "Вернуться и изменить", confirmed: "Заявление подтверждено.")
            case .en:
                Wording(
                    answers: "Your answers", documents: "Documents you will need", required: "required",
                    optional: "if you have it", declarationHeading: "Declaration", confirm: "Confirm the claim",
                    cancel: "Go back and change", confirmed: "The claim is confirmed.")
            }
        }
    }

    static func document(
        plan: ClaimPlan, claim: Claim, render: String, nonce: String, confirmed: Bool, language: UILanguage = .ru
    ) -> String {
        let words = Wording.of(language)
        // The plan's texts come from the workflow in Russian: marked so, for screen readers, on an English page.
        let content = language == .ru ? "" : " lang=\"ru\""
        var rows = ""
        for field in plan.fields {
            rows +=
                "<div class=\"row\"\(content)><dt>\(escape(field.label))</dt><dd>\(escape(field.value))</dd></div>\n"
        }
        var documents = ""
        for document in plan.requiredDocuments {
            let mark = document.required ? words.required : words.optional
            documents += "<li><span\(content)>\(escape(document.title))</span> <span class=\"tag\">\(mark)</span>"
            if let hint = document.hint { documents += "<br><span class=\"hint\"\(content)>\(escape(hint))</span>" }
            documents += "</li>\n"
        }
        let actions =
            confirmed
            ? "<p class=\"done\">\(words.confirmed)</p>"
            : """
            <h2>\(words.declarationHeading)</h2>
            <p class="declaration" id="declaration">\(escape(ConfirmationWording.declaration(language)))</p>
            <div class="actions">
            <button type="button" id="confirm" class="primary">\(words.confirm)</button>
            <button type="button" id="cancel" class="secondary">\(words.cancel)</button>
            </div>
            """
        return """
            <!doctype html>
            <html lang="\(language.rawValue)">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(escape(plan.title))</title>
            <style nonce="\(nonce)">
            body{font:17px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:#0b0c0c;margin:0;padding:16px;background:#fff}
            h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
            .summary{background:#f3f2f1;padding:12px 16px;border-left:5px solid #1d70b8}
            dl{margin:0;border-top:1px solid #b1b4b6}.row{display:flex;flex-wrap:wrap;border-bottom:1px solid #b1b4b6;padding:8px 0}
            dt{font-weight:700;flex:1 1 12rem;margin-right:1rem}dd{margin:0;flex:2 1 14rem;white-space:pre-wrap;overflow-wrap:anywhere}
            .tag{font-size:.85rem;color:#505a5f}.hint{font-size:.9rem;color:#505a5f}
            .actions{display:flex;flex-wrap:wrap;gap:12px;margin-top:1rem}
            button{font:inherit;font-weight:700;min-height:44px;padding:8px 16px;border-radius:0;cursor:pointer}
            .primary{background:#00703c;color:#fff;border:2px solid #00703c;box-shadow:0 2px 0 #002d18}
            .secondary{background:#f3f2f1;color:#0b0c0c;border:2px solid #f3f2f1;box-shadow:0 2px 0 #929191}
            button:focus{outline:3px solid #fd0;outline-offset:0;box-shadow:inset 0 0 0 2px #0b0c0c}
            .declaration{font-weight:700}.done{font-weight:700;color:#00703c}
            </style>
            </head>
            <body>
            <main>
            <h1\(content)>\(escape(plan.title))</h1>
            <p class="summary"\(content)>\(escape(plan.summary))</p>
            <h2>\(words.answers)</h2>
            <dl>
            \(rows)</dl>
            <h2>\(words.documents)</h2>
            <ul>
            \(documents)</ul>
            \(actions)
            </main>
            <script nonce="\(nonce)">
            (function () {
              var render = \(jsonQuote(render));
              function send(type, extra) {
                var message = { type: type, render: render, submission_id: \(jsonQuote(plan.submissionID)) };
                if (extra) { for (var key in extra) { message[key] = extra[key]; } }
                parent.postMessage(message, "*");
              }
              // A sandboxed frame cannot be measured by its parent: report the height so it can show the whole
              // document without a scroll area inside the page.
              function reportHeight() { send("clpr:height", { height: document.documentElement.scrollHeight }); }
              window.addEventListener("load", reportHeight);
              window.addEventListener("resize", reportHeight);
              var confirm = document.getElementById("confirm");
              var cancel = document.getElementById("cancel");
              if (confirm) confirm.addEventListener("click", function () { confirm.disabled = true; send("clpr:confirm"); });
              if (cancel) cancel.addEventListener("click", function () { send("clpr:cancel"); });
            })();
            </script>
            </body>
            </html>
            """
    }

    /// Escapes text for HTML element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}
