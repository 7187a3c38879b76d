import COpenSSL
import Synchronization

/// SHA-256 over bytes that arrive in pieces (an upload streamed to disk), so the whole input is never in memory.
///
/// ```swift
/// let hasher = SHA256Hasher()
/// hasher.update(piece)
/// let hex = Crypto.hex(hasher.finish())
/// ```
public final class SHA256Hasher: Sendable {
    /// The `EVP_MD_CTX *` as an address (0 once finished).
    private let context: Mutex<UInt>

    public init() {
        let ctx = EVP_MD_CTX_new()
        precondition(ctx != nil && EVP_DigestInit_ex(ctx, EVP_sha256(), nil) == 1, "EVP SHA-256 init failed")
        context = Mutex(UInt(bitPattern: Int(bitPattern: UnsafeRawPointer(ctx!))))
    }

    /// Adds bytes to the digest; ignored after ``finish()``.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        context.withLock { address in
            guard address != 0, let base = bytes.baseAddress, bytes.count > 0 else { return }
            _ = EVP_DigestUpdate(OpaquePointer(bitPattern: address), base, bytes.count)
        }
    }

    /// The 32-byte digest; the hasher cannot be used after (a second call returns an empty array).
    public func finish() -> [UInt8] {
        context.withLock { address -> [UInt8] in
            guard address != 0 else { return [] }
            defer {
                EVP_MD_CTX_free(OpaquePointer(bitPattern: address))
                address = 0
            }
            var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
            var length: UInt32 = 0
            _ = digest.withUnsafeMutableBufferPointer {
                EVP_DigestFinal_ex(OpaquePointer(bitPattern: address), $0.baseAddress, &length)
            }
            return Array(digest.prefix(Int(length)))
        }
    }

    deinit { _ = finish() }
}
