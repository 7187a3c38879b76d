import COpenSSL

/// Hashing, HMAC and secure randomness from OpenSSL's libcrypto: the only cryptography clpr uses.
public enum Crypto {
    /// SHA-256 of `bytes`.
    public static func sha256<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Int(SHA256_DIGEST_LENGTH))
        let input = Array(bytes)
        input.withUnsafeBufferPointer { buffer in
            digest.withUnsafeMutableBufferPointer { out in
                _ = SHA256(buffer.baseAddress, buffer.count, out.baseAddress)
            }
        }
        return digest
    }

    /// Lowercase hex SHA-256 of the UTF-8 of `text`.
    public static func sha256Hex(_ text: String) -> String { hex(sha256(Array(text.utf8))) }

    /// HMAC-SHA256 of `message` under `key`.
    public static func hmacSHA256<Key: Collection<UInt8>, Message: Collection<UInt8>>(key: Key, message: Message)
        -> [UInt8]
    {
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let keyBytes = Array(key)
        let messageBytes = Array(message)
        keyBytes.withUnsafeBufferPointer { k in
            messageBytes.withUnsafeBufferPointer { m in
                digest.withUnsafeMutableBufferPointer { out in
                    // HMAC() returns NULL only on allocation failure; an empty digest then fails every comparison.
                    _ = HMAC(
                        EVP_sha256(), k.baseAddress, Int32(k.count), m.baseAddress, m.count, out.baseAddress, &length)
                }
            }
        }
        return Array(digest.prefix(Int(length)))
    }

    /// `count` bytes from OpenSSL's CSPRNG.
    /// - Precondition: the CSPRNG works; a process that cannot get secure randomness must not issue tokens.
    public static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        let rc = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(rc == 1, "RAND_bytes failed: no secure random source")
        return bytes
    }

    /// A URL-safe token carrying `bytes` bytes of randomness (default 32 = 256 bits).
    public static func randomToken(bytes: Int = 32) -> String { base64URL(randomBytes(bytes)) }

    /// A random number of `digits` decimal digits, uniformly distributed (rejection sampling, no modulo bias).
    public static func randomDigits(_ digits: Int) -> String {
        var out = ""
        while out.count < digits {
            for byte in randomBytes(digits * 2) where byte < 250 && out.count < digits {
                out.append(Character(Unicode.Scalar(UInt8(48) + byte % 10)))
            }
        }
        return out
    }

    /// Compares in time that depends only on the lengths, not on where the first difference is.
    public static func constantTimeEquals<A: Collection<UInt8>, B: Collection<UInt8>>(_ a: A, _ b: B) -> Bool {
        let left = Array(a)
        let right = Array(b)
        guard left.count == right.count else { return false }
        return left.withUnsafeBytes { l in
            right.withUnsafeBytes { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, l.count) == 0 }
        }
    }

    public static func hex<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes lowercase or uppercase hex; nil on odd length or a non-hex character.
    public static func fromHex(_ text: String) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func value(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var index = 0
        while index < chars.count {
            guard let high = value(chars[index]), let low = value(chars[index + 1]) else { return nil }
            out.append(high << 4 | low)
            index += 2
        }
        return out
    }

    /// Whether `text` is base64url text (`A–Z a–z 0–9 - _`, no padding) of a length in `lengths`: the shape of every
    /// token clpr issues, checked before a token is hashed or looked up.
    public static func isBase64URL(_ text: String, lengths: ClosedRange<Int>) -> Bool {
        lengths.contains(text.utf8.count)
            && text.utf8.allSatisfy {
                ($0 >= 48 && $0 <= 57) || ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) || $0 == 45 || $0 == 95
            }
    }

    /// Base64url without padding (RFC 4648 §5).
    public static func base64URL(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)
        var out = [UInt8]()
        var index = 0
        while index + 2 < bytes.count {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [
                alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)],
                alphabet[Int(n & 63)],
            ]
            index += 3
        }
        let rest = bytes.count - index
        if rest == 1 {
            let n = UInt32(bytes[index]) << 16
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)]]
        } else if rest == 2 {
            let n = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(n >> 18 & 63)], alphabet[Int(n >> 12 & 63)], alphabet[Int(n >> 6 & 63)]]
        }
        return String(decoding: out, as: UTF8.self)
    }
}
