import AppCore
import AppTesting
import Testing

/// Phone login, sessions and what the logs may (not) contain.
@Suite struct AuthTests {
    @Test(arguments: ["8 (916) 123-45-67", "+7 916 123 45 67", "89161234567", "+7(916)123-45-67", "9161234567"])
    func acceptsPhoneFormatsAndNormalizes(input: String) async throws {
        try await withTestApplication { app in
            let response = try await app.requestCode(phone: input)
            #expect(response.status == 200)
            let body = try #require(response.json)
            #expect(body["phone"]?.string == "+79161234567")
            #expect(body["display_phone"]?.string == "+7 916 123-45-67")
            #expect(body["expires_in"]?.int == 300)
            #expect(body["resend_after"]?.int != nil)
            #expect(app.lastLoginCode?.count == 6)
        }
    }

    @Test(arguments: ["123", "abc", "", "+7 916 123 45", "+1 212 555 0100", "8 (916) 123-45-67-89"])
    func rejectsInvalidPhone(input: String) async throws {
        try await withTestApplication { app in
            let response = try await app.requestCode(phone: input)
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_phone")
            #expect(response.errorField == "phone")
            #expect(response.json?["error"]?["message"]?.string?.isEmpty == false)
            #expect(app.lastLoginCode == nil)
        }
    }

    @Test func rejectsLandline() async throws {
        try await withTestApplication { app in
            let response = try await app.requestCode(phone: "+7 495 123-45-67")
            #expect(response.status == 400)
            #expect(response.errorCode == "invalid_phone")
            #expect(response.errorField == "phone")
            #expect(app.lastLoginCode == nil)
        }
    }

    @Test func wrongCodeCountsDownThenLocksEvenTheRightCode() async throws {
        try await withTestApplication { app in
            #expect(try await app.requestCode().status == 200)
            let code = try #require(app.lastLoginCode)
            let wrong = code == "000000" ? "111111" : "000000"
            for expectedLeft in [4, 3, 2, 1] {
                let response = try await app.verifyCode(wrong)
                #expect(response.status == 400)
                #expect(response.errorCode == "invalid_code")
                #expect(response.errorField == "code")
                #expect(response.json?["error"]?["attempts_left"]?.int == expectedLeft)
                #expect(response.values("Set-Cookie").isEmpty)
            }
            let fifth = try await app.verifyCode(wrong)
            #expect(fifth.status == 429)
            #expect(fifth.errorCode == "too_many_attempts")

            let right = try await app.verifyCode(code)
            #expect(right.status == 429)
            #expect(right.errorCode == "too_many_attempts")
            #expect(TestApplication.sessionCookie(in: right) == nil)
        }
    }

    @Test func malformedCodeIsRejectedWithoutUsingAnAttempt() async throws {
        try await withTestApplication { app in
            #expect(try await app.requestCode().status == 200)
            let malformed = try await app.verifyCode("12ab")
            #expect(malformed.status == 400)
            #expect(malformed.errorCode == "invalid_code")
            #expect(malformed.errorField == "code")
            let code = try #require(app.lastLoginCode)
            let wrong = code == "000000" ? "111111" : "000000"
            #expect(try await app.verifyCode(wrong).json?["error"]?["attempts_left"]?.int == 4)
        }
    }

    @Test func verifyingWithoutARequestedCodeIsNotFound() async throws {
        try await withTestApplication { app in
            let response = try await app.verifyCode("123456")
            #expect(response.status == 404)
            #expect(response.errorCode == "code_not_found")
        }
    }

    @Test func resendTooSoonIsRateLimited() async throws {
        try await withTestApplication {
            $0.loginCodePolicy = LoginCodePolicy(resendAfter: .seconds(30))
        } _: { app in
            let first = try await app.requestCode(phone: "8 916 123-45-67")
            #expect(first.status == 200)
            #expect(first.json?["resend_after"]?.int == 30)
            let firstCode = try #require(app.lastLoginCode)

            let second = try await app.requestCode()
            #expect(second.status == 429)
            #expect(second.errorCode == "resend_too_soon")
            let retryAfter = try #require(second[header: "Retry-After"].flatMap { Int($0) })
            #expect((1...30).contains(retryAfter))
            // No second code was sent: the first one still works.
            #expect(app.lastLoginCode == firstCode)
            #expect(try await app.verifyCode(firstCode).status == 200)
        }
    }

    @Test func rightCodeStartsASessionWithASafeCookie() async throws {
        try await withTestApplication { app in
            #expect(try await app.requestCode(phone: "8 (916) 123-45-67").status == 200)
            let code = try #require(app.lastLoginCode)
            let response = try await app.verifyCode(code, phone: "8 (916) 123-45-67")
            #expect(response.status == 200)
            let setCookie = try #require(response.values("Set-Cookie").first { $0.hasPrefix("clpr_session=") })
            let attributes = setCookie.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            #expect(attributes.contains("HttpOnly"))
            #expect(attributes.contains("SameSite=Lax"))
            #expect(attributes.contains("Path=/"))
            #expect(!attributes.contains("Secure"))  // plain http in tests
            let user = try #require(response.json?["user"])
            #expect(user["unified_id"]?.string?.hasPrefix("usr_") == true)
            #expect(user["phone"]?.string == "+79161234567")
            #expect(user["display_phone"]?.string == "+7 916 123-45-67")

            // A code is good for one login only.
            #expect(try await app.verifyCode(code).status == 404)
        }
    }

    @Test func expiredCodeIsGone() async throws {
        try await withTestApplication {
            $0.loginCodePolicy = LoginCodePolicy(lifetime: .milliseconds(300), resendAfter: .zero)
        } _: { app in
            #expect(try await app.requestCode().status == 200)
            let code = try #require(app.lastLoginCode)
            try await Task.sleep(for: .milliseconds(500))
            let late = try await app.verifyCode(code)
            #expect(late.status == 410)
            #expect(late.errorCode == "code_expired")
            #expect(TestApplication.sessionCookie(in: late) == nil)
            #expect(try await app.verifyCode(code).status == 404)
        }
    }

    @Test func expiredSessionIsRefused() async throws {
        try await withTestApplication {
            $0.sessionLifetime = .seconds(1)
        } _: { app in
            let cookie = try await app.login()
            #expect(try await app.json("GET", "/api/v1/me", cookie: cookie).status == 200)
            try await Task.sleep(for: .milliseconds(1200))
            let expired = try await app.json("GET", "/api/v1/me", cookie: cookie)
            #expect(expired.status == 401)
            #expect(expired.errorCode == "unauthenticated")
        }
    }

    @Test func meNeedsASession() async throws {
        try await withTestApplication { app in
            let anonymous = try await app.json("GET", "/api/v1/me")
            #expect(anonymous.status == 401)
            #expect(anonymous.errorCode == "unauthenticated")
            let forged = try await app.json(
                "GET", "/api/v1/me", cookie: "clpr_session=" + String(repeating: "A", count: 43))
            #expect(forged.status == 401)
            let garbage = try await app.json("GET", "/api/v1/me", cookie: "clpr_session=;;\"")
            #expect(garbage.status == 401)

            let cookie = try await app.login()
            let me = try await app.json("GET", "/api/v1/me", cookie: cookie)
            #expect(me.status == 200)
            let body = try #require(me.json)
            #expect(body["unified_id"]?.string?.hasPrefix("usr_") == true)
            #expect(body["phone"]?.string == "+79161234567")
            #expect(body["display_phone"]?.string == "+7 916 123-45-67")
        }
    }

    @Test func logoutEndsTheSession() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login()
            #expect(try await app.json("GET", "/api/v1/me", cookie: cookie).status == 200)
            let logout = try await app.request("POST", "/api/v1/auth/logout", cookie: cookie)
            #expect(logout.status == 204)
            let cleared = try #require(logout.values("Set-Cookie").first { $0.hasPrefix("clpr_session=") })
            #expect(cleared.hasPrefix("clpr_session=;"))
            #expect(cleared.contains("Max-Age=0"))

            let after = try await app.json("GET", "/api/v1/me", cookie: cookie)
            #expect(after.status == 401)
            #expect(after.errorCode == "unauthenticated")
            #expect(try await app.json("GET", "/api/v1/claims/drafts", cookie: cookie).status == 401)
        }
    }

    @Test func samePhoneIsTheSamePerson() async throws {
        try await withTestApplication { app in
            let first = try await app.login(phone: "+79161234567")
            let second = try await app.login(phone: "8 916 123 45 67")
            let other = try await app.login(phone: "+79031112233")
            #expect(first != second)
            let firstID = try await app.json("GET", "/api/v1/me", cookie: first).json?["unified_id"]?.string
            let secondID = try await app.json("GET", "/api/v1/me", cookie: second).json?["unified_id"]?.string
            let otherID = try await app.json("GET", "/api/v1/me", cookie: other).json?["unified_id"]?.string
            #expect(firstID != nil)
            #expect(firstID == secondID)
            #expect(otherID != nil)
            #expect(otherID != firstID)
        }
    }

    @Test func logsNeverContainTheFullPhoneOrTheSessionCookie() async throws {
        try await withTestApplication { app in
            let cookie = try await app.login(phone: "8 (916) 123-45-67")
            let value = String(cookie.dropFirst("clpr_session=".count))
            #expect(try await app.json("GET", "/api/v1/me", cookie: cookie).status == 200)
            let draft = try await app.createDraft(cookie: cookie)
            let claimID = try #require(draft["claim_id"]?.string)
            #expect(try await app.json("GET", "/api/v1/claims/\(claimID)", cookie: cookie).status == 200)
            #expect(try await app.requestCode().status == 200)  // a second code for the same phone
            let code = try #require(app.lastLoginCode)
            #expect(try await app.verifyCode(code == "000000" ? "111111" : "000000").status == 400)
            #expect(try await app.request("POST", "/api/v1/auth/logout", cookie: cookie).status == 204)

            let entries = app.logs.entries
            #expect(entries.count > 5)
            var masked = false
            for entry in entries {
                let texts = [entry.message] + Array(entry.metadata.keys) + Array(entry.metadata.values)
                for text in texts {
                    #expect(!text.contains("9161234567"), "full phone in log: \(entry.label) \(entry.message)")
                    #expect(!text.contains(value), "session cookie in log: \(entry.label) \(entry.message)")
                    if text.contains("+7 916 ***-**-67") { masked = true }
                }
            }
            #expect(masked, "the masked phone is what identifies the person in logs")
            // The one-time code is written by the development code sender only.
            let withCode = entries.filter { entry in
                ([entry.message] + Array(entry.metadata.values)).contains { $0.contains(code) }
            }
            #expect(withCode.map(\.label) == ["clpr.codes"])
        }
    }
}
