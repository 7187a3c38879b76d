import AppCore
import Foundation

/// A store under test, as the ports see it.
public typealias AnyStore = any IdentityStore & ClaimStore

/// A date on a whole millisecond (what the SQL stores keep), `offset` seconds after a fixed instant.
public func testDate(_ offset: Int64 = 0) -> Date {
    Date(timeIntervalSince1970: Double(1_796_306_709_123 + offset * 1000) / 1000)
}

/// A draft of `user` with a fresh id (a lowercase UUID) and session token.
public func makeClaim(
    for user: User, channel: Channel = .webForm, status: ClaimStatus = .draft, updatedAt: Date = testDate(),
    phone: String? = "+79990000001", answers: [String: String] = ["q1": "a1"]
) -> Claim {
    Claim(
        id: UUID().uuidString.lowercased(), sessionToken: "tok_" + UUID().uuidString.lowercased(),
        unifiedID: user.unifiedID, userID: user.id, channel: channel, typeCode: "osago", status: status,
        phone: phone, answers: answers, statusHistory: [StatusChange(status: status, at: testDate())],
        createdAt: testDate(), updatedAt: updatedAt, expiresAt: testDate(86_400))
}

/// The error a test closure throws on purpose.
public struct DeliberateFailure: Error, Equatable {
    public var tag: Int

    public init(tag: Int) { self.tag = tag }
}
