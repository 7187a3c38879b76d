import AppCore
import Crypto
import FoundationEssentials
import HTTPServer

@testable import App

/// One harness per parser of outside input. Each checks properties, not just "does not crash": a violated property
/// is a `fatalError`, which libFuzzer reports as a crash and saves as `crash-<sha1>`.
enum FuzzTarget: String, CaseIterable {
    /// `PhoneNumber(parsing:)`: what people type on the login page and what Telegram contacts carry.
    case phone
    /// Telegram Mini App `initData`: as sent (refused unless signed) and signed with the harness's bot token (so the
    /// `auth_date` and `user` parsing behind the signature check is reached too).
    case initdata
    /// Plan payloads from Redis, the in-process bus or the signed callback (`ClaimPlan.parse`).
    case plan
    /// Request headers as the app reads them: cookies (the session), `X-Forwarded-For` (the rate-limit address).
    case headers
    /// Request bodies through `JSONBody.decode` into every body type the routes read.
    case json

    func run(_ input: UnsafeBufferPointer<UInt8>) {
        let bytes = Array(input)
        switch self {
        case .phone: Self.phone(bytes)
        case .initdata: Self.initData(bytes)
        case .plan: Self.plan(bytes)
        case .headers: Self.headers(bytes)
        case .json: Self.json(bytes)
        }
    }

    static func phone(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let number = try? PhoneNumber(parsing: text) else { return }
        // Whatever is accepted is stored as E.164 and read back from storage through init(e164:).
        guard PhoneNumber(e164: number.e164) == number else {
            fatalError("parsed \(text.debugDescription) to \(number.e164.debugDescription), not E.164")
        }
        guard (try? PhoneNumber(parsing: number.e164)) == number, (try? PhoneNumber(parsing: number.display)) == number
        else { fatalError("\(number.e164) does not parse back to itself") }
        _ = number.masked
    }

    static let botToken = "123456:fuzz-bot-token"
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    static func initData(_ bytes: [UInt8]) {
        let raw = String(decoding: bytes, as: UTF8.self)
        if (try? TelegramInitData(validating: raw, botToken: botToken, maxAge: .seconds(86_400), now: now)) != nil {
            fatalError("unsigned initData accepted: \(raw.debugDescription)")
        }
        // Sign the fields as a real Mini App would, so the checks behind the signature run on fuzzed values.
        var fields: [(String, String)] = []
        for pair in raw.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let key = TelegramInitData.formDecode(parts[0]), !key.isEmpty, key != "hash",
                let value = TelegramInitData.formDecode(parts.count > 1 ? parts[1] : ""),
                !fields.contains(where: { $0.0 == key })
            else { return }
            fields.append((key, value))
        }
        let check = fields.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "\n")
        let secret = Crypto.hmacSHA256(key: Array("WebAppData".utf8), message: Array(botToken.utf8))
        let hash = Crypto.hex(Crypto.hmacSHA256(key: secret, message: Array(check.utf8)))
        let signed = (raw.isEmpty ? "" : raw + "&") + "hash=" + hash
        do {
            let data = try TelegramInitData(validating: signed, botToken: botToken, maxAge: .seconds(86_400), now: now)
            guard data.user.id > 0 else { fatalError("accepted a user id \(data.user.id)") }
            guard now.timeIntervalSince(data.authDate) <= 86_400 else { fatalError("accepted an expired auth_date") }
        } catch {
            // Refused with a reason: fine.
        }
    }

    static func plan(_ bytes: [UInt8]) {
        guard let delivery = try? ClaimPlan.parse(bytes, sessionToken: "fuzz-session-token") else { return }
        if case .plan(let plan) = delivery {
            // An accepted plan is stored and streamed: it must encode.
            guard (try? JSONEncoder().encode(plan)) != nil else { fatalError("an accepted plan does not encode") }
        }
    }

    static func headers(_ bytes: [UInt8]) {
        // Header values reach the app as libmicrohttpd hands them over: any bytes but NUL, CR and LF.
        let text = String(decoding: bytes, as: UTF8.self)
        var headers = HTTPHeaders()
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).prefix(8) {
            headers.add("Cookie", String(line))
            headers.add("X-Forwarded-For", String(line))
        }
        let request = HTTPRequest(method: .get, path: "/", headers: headers, remoteAddress: "127.0.0.1")
        for (name, value) in request.cookies where name.contains(";") || value.contains(";") {
            fatalError("cookie pair \(name.debugDescription)=\(value.debugDescription) spans a separator")
        }
        if let token = request.cookies[Authenticator.cookieName] { _ = Authenticator.isWellFormed(token) }
        let address = AuthRoutes.clientAddress(request, trustForwardedFor: true)
        guard !address.isEmpty, !address.contains(",") else { fatalError("client address \(address.debugDescription)") }
    }

    static func json(_ bytes: [UInt8]) {
        let request = HTTPRequest(
            method: .post, path: "/", headers: ["Content-Type": "application/json"], body: bytes)
        check(AuthRoutes.PhoneBody.self, request)
        check(AuthRoutes.VerifyBody.self, request)
        check(ClaimRoutes.CreateBody.self, request)
        check(ClaimRoutes.DraftBody.self, request)
        check(ClaimRoutes.SubmitBody.self, request)
        check(ClaimRoutes.DecisionBody.self, request)
        check(TelegramRoutes.LoginBody.self, request)
        check(TelegramRoutes.Update.self, request)
        _ = JSONValue(jsonText: String(decoding: bytes, as: UTF8.self))
    }

    /// Decoding either succeeds or fails with a 4xx API error (never another error, never a crash).
    static func check<T: Decodable>(_ type: T.Type, _ request: HTTPRequest) {
        do {
            _ = try JSONBody.decode(type, from: request)
        } catch let error as APIError {
            guard (400..<500).contains(error.status) else { fatalError("\(T.self): status \(error.status)") }
        } catch {
            fatalError("\(T.self): \(error)")
        }
    }
}
