import Foundation
import HTTPClient
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The libcurl client's failure mapping and timeout, against loopback sockets only.
@Suite struct HTTPClientTests {
    /// A loopback socket that listens but never accepts nor answers: connections complete (backlog), responses
    /// never come.
    final class SilentListener {
        let fd: Int32
        let port: UInt16

        init() throws {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = 0
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
            }
            guard bound == 0, listen(fd, 16) == 0 else {
                close(fd)
                throw POSIXError(.EADDRINUSE)
            }
            _ = withUnsafeMutablePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
            }
            self.fd = fd
            self.port = UInt16(bigEndian: address.sin_port)
        }

        deinit { close(fd) }
    }

    @Test func silentServerTimesOut() async throws {
        let listener = try SilentListener()
        let clock = ContinuousClock()
        let start = clock.now
        await #expect {
            _ = try await HTTPClient().post(
                url: "http://127.0.0.1:\(listener.port)/hook", headers: [], body: Array("{}".utf8),
                timeout: .milliseconds(300))
        } throws: { ($0 as? HTTPClient.Failure)?.code == .timeout }
        #expect(clock.now - start < .seconds(3))
        withExtendedLifetime(listener) {}
    }

    @Test func refusedConnectionIsUnreachable() async throws {
        let port = try SilentListener().port  // closed again at once: nothing listens there now
        await #expect {
            _ = try await HTTPClient().post(
                url: "http://127.0.0.1:\(port)/hook", headers: [], body: [], timeout: .seconds(2))
        } throws: { ($0 as? HTTPClient.Failure)?.code == .unreachable }
    }

    @Test func otherSchemesAreRefused() async throws {
        await #expect {
            _ = try await HTTPClient().post(url: "file:///etc/passwd", headers: [], body: [], timeout: .seconds(1))
        } throws: { ($0 as? HTTPClient.Failure)?.code == .invalidURL }
    }
}
