import AppCore
import Foundation
import StoreCodec
import Testing

/// The pure code both stores share.
@Suite struct StoreCodecTests {
    @Test func timestampsRoundTripWithMilliseconds() {
        let date = Date(timeIntervalSince1970: 1_796_306_709.123)
        #expect(StoreTimestamp.format(date) == "2026-12-03T14:05:09.123Z")
        #expect(StoreTimestamp.parse("2026-12-03T14:05:09.123Z", allowingOffset: false) == date)
        #expect(StoreTimestamp.parse("2026-12-03 14:05:09.123456", allowingOffset: false) == date)
        #expect(StoreTimestamp.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
    }

    @Test func zoneOffsetsOnlyWhenAllowed() {
        let utc = StoreTimestamp.parse("2026-12-03 14:05:09+00", allowingOffset: true)
        #expect(utc == Date(timeIntervalSince1970: 1_796_306_709))
        #expect(StoreTimestamp.parse("2026-12-03 17:05:09+03:00", allowingOffset: true) == utc)
        #expect(StoreTimestamp.parse("2026-12-03 14:05:09+00", allowingOffset: false) == nil)
        #expect(StoreTimestamp.parse("2026-13-03 14:05:09Z", allowingOffset: true) == nil)
        #expect(StoreTimestamp.parse("2026-12-03T14:05:09Zjunk", allowingOffset: true) == nil)
    }

    @Test func payloadKeepsUnknownKeysAndEmbedsJSON() throws {
        let at = Date(timeIntervalSince1970: 1_796_306_709)
        let claim = Claim(
            id: "c1", sessionToken: "t", unifiedID: "usr_1", userID: 1, channel: .webForm, typeCode: "travel",
            phone: "+79161234567", answers: ["trip_country": "Турция"], wizardPlan: #"{"b":1,"a":[true]}"#,
            statusHistory: [StatusChange(status: .draft, at: at)], createdAt: at, updatedAt: at)
        let text = try ClaimPayload.encode(claim, keepingUnknownKeysOf: #"{"crm": {"id": 17}, "phone": "8 916"}"#)
        #expect(text.contains(#""crm":{"id":17}"#))
        #expect(text.contains(#""wizard_plan":{"a":[true],"b":1}"#))
        #expect(text.contains(#""at":"2026-12-03T14:05:09.000Z""#))
        let decoded = try ClaimPayload.decode(text, operation: "test", allowingOffset: false)
        #expect(decoded.phone == "+79161234567")
        #expect(decoded.answers == ["trip_country": "Турция"])
        #expect(decoded.wizardPlan == #"{"a":[true],"b":1}"#)
        #expect(decoded.documentsMeta == "[]")
        #expect(decoded.statusHistory == [StatusChange(status: .draft, at: at)])
        #expect(throws: StoreError.self) { try ClaimPayload.decode("[1]", operation: "test", allowingOffset: true) }
        let offset = #"{"status_history": [{"status": "draft", "at": "2026-12-03 17:05:09+03"}]}"#
        #expect(try ClaimPayload.decode(offset, operation: "test", allowingOffset: true).statusHistory.first?.at == at)
        #expect(throws: StoreError.self) { try ClaimPayload.decode(offset, operation: "test", allowingOffset: false) }
    }
}
