import Crypto
import Testing

@Suite struct CryptoTests {
    @Test func sha256MatchesKnownVector() {
        #expect(Crypto.sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(Crypto.sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func hmacMatchesRFC4231Case2() {
        let mac = Crypto.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Crypto.hex(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func randomTokensAreLongAndDistinct() {
        let tokens = (0..<1000).map { _ in Crypto.randomToken() }
        #expect(Set(tokens).count == 1000)
        #expect(tokens.allSatisfy { $0.count == 43 })  // 32 bytes = 256 bits
    }

    @Test func randomDigitsAreDigitsAndSpread() {
        let codes = (0..<2000).map { _ in Crypto.randomDigits(6) }
        #expect(codes.allSatisfy { $0.count == 6 && $0.allSatisfy(\.isNumber) })
        let firstDigits = Set(codes.map(\.first!))
        #expect(firstDigits.count == 10)
    }

    @Test func constantTimeEqualsComparesContentAndLength() {
        #expect(Crypto.constantTimeEquals(Array("abc".utf8), Array("abc".utf8)))
        #expect(!Crypto.constantTimeEquals(Array("abc".utf8), Array("abd".utf8)))
        #expect(!Crypto.constantTimeEquals(Array("abc".utf8), Array("abcd".utf8)))
    }

    @Test(arguments: [
        ([UInt8](), ""), ([0xFF], "_w"), ([0xFB, 0xFF], "-_8"), (Array("hello".utf8), "aGVsbG8"),
    ])
    func base64URLEncodes(bytes: [UInt8], expected: String) {
        #expect(Crypto.base64URL(bytes) == expected)
    }

    @Test func hexRoundTrips() {
        let bytes = Crypto.randomBytes(64)
        #expect(Crypto.fromHex(Crypto.hex(bytes)) == bytes)
        #expect(Crypto.fromHex("abc") == nil)
        #expect(Crypto.fromHex("zz") == nil)
    }

    @Test func base64URLTokenShapeIsChecked() {
        #expect(Crypto.isBase64URL(Crypto.randomToken(), lengths: 16...128))
        #expect(!Crypto.isBase64URL("short", lengths: 16...128))
        #expect(!Crypto.isBase64URL(String(repeating: "a", count: 129), lengths: 16...128))
        #expect(!Crypto.isBase64URL("abcdefghijklmnop=", lengths: 16...128))
        #expect(!Crypto.isBase64URL("abcdefghijklmno/", lengths: 16...128))
        #expect(!Crypto.isBase64URL("abcdefghijklmnoй", lengths: 16...128))
    }
}
