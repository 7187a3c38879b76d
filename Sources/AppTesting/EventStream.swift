import Foundation

/// One block of a `text/event-stream` body (the lines up to a blank line).
public struct SSEBlock: Sendable, Equatable {
    /// `event:`; nil for blocks that only carry `retry:` or comments.
    public var event: String?
    public var id: String?
    /// `data:` lines joined with newlines; nil when there was none.
    public var data: String?
    public var retry: Int?
    /// Comment lines without the leading `:` and one space (`hb` for `: hb`).
    public var comments: [String] = []

    /// Parses one block's text (without the blank line that ends it).
    public init(parsing text: String) {
        var dataLines: [String] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix(":") {
                comments.append(String(line.dropFirst().drop(while: { $0 == " " })))
                continue
            }
            let name: Substring
            var value: Substring
            if let colon = line.firstIndex(of: ":") {
                name = line[..<colon]
                value = line[line.index(after: colon)...]
                if value.hasPrefix(" ") { value = value.dropFirst() }
            } else {
                name = line
                value = ""
            }
            switch name {
            case "event": event = String(value)
            case "id": id = String(value)
            case "data": dataLines.append(String(value))
            case "retry": retry = Int(value)
            default: continue
            }
        }
        data = dataLines.isEmpty ? nil : dataLines.joined(separator: "\n")
    }
}

/// What a stream delivered: every block in order and whether the server ended the body.
public struct SSETranscript: Sendable {
    public var blocks: [SSEBlock]
    /// True if the body's final chunk (or the connection's end) arrived.
    public var ended: Bool

    /// Blocks that are events (have an `event:` field).
    public var events: [SSEBlock] { blocks.filter { $0.event != nil } }

    /// Every comment line, in order.
    public var comments: [String] { blocks.flatMap(\.comments) }
}

/// A live `GET` of a server-sent-events endpoint on a ``TestConnection``, read incrementally.
///
/// ```swift
/// let stream = try await app.openStream(token: token, cookie: cookie)
/// #expect(stream.head.status == 200)
/// let transcript = try await stream.collect(timeout: .seconds(5))
/// ```
public final class EventStream: @unchecked Sendable {
    /// Status and headers; for a non-200 answer the complete response, body included.
    public let head: TestResponse
    let connection: TestConnection
    private var body: [UInt8] = []
    private var ended = false

    init(connection: TestConnection, head: TestResponse) {
        self.connection = connection
        self.head = head
    }

    /// Reads blocks until the stream ends, `stop` returns true for a block just read, or `timeout` passes.
    /// - Throws: ``TestConnection/Failure`` for a malformed body.
    public func collect(
        timeout: Duration = .seconds(5), stop: @escaping @Sendable (SSEBlock) -> Bool = { _ in false }
    ) async throws -> SSETranscript {
        try await offPool { try self.collectSync(deadline: ContinuousClock.now + timeout, stop: stop) }
    }

    /// Reads until the first block with an `event:` field (or the end, or `timeout`); every block read so far.
    public func nextEvent(timeout: Duration = .seconds(5)) async throws -> SSETranscript {
        try await collect(timeout: timeout) { $0.event != nil }
    }

    /// Closes the connection at once (RST), like a browser tab that vanished.
    public func abort() { connection.abort() }

    private func collectSync(deadline: ContinuousClock.Instant, stop: (SSEBlock) -> Bool) throws -> SSETranscript {
        var blocks: [SSEBlock] = []
        while true {
            while let block = takeBlock() {
                blocks.append(block)
                if stop(block) { return SSETranscript(blocks: blocks, ended: false) }
            }
            if ended { return SSETranscript(blocks: blocks, ended: true) }
            guard ContinuousClock.now < deadline else { return SSETranscript(blocks: blocks, ended: false) }
            guard let bytes = try readBodySync(until: deadline) else {
                if connection.isClosedByPeer { ended = true }
                continue
            }
            if bytes.isEmpty { ended = true } else { body += bytes }
        }
    }

    /// The next bytes of the body, `[]` at its end, nil at the deadline. The server ends a stream by closing the
    /// connection; a chunked body (another server's) is read chunk by chunk.
    func readBodySync(until deadline: ContinuousClock.Instant) throws -> [UInt8]? {
        if head[header: "Transfer-Encoding"]?.lowercased() == "chunked" {
            return try connection.readChunkSync(until: deadline)
        }
        return connection.readAvailableSync(until: deadline)
    }

    /// Removes and parses the first complete block (ended by a blank line) from the body read so far.
    private func takeBlock() -> SSEBlock? {
        guard body.count >= 2 else { return nil }
        for index in 0..<(body.count - 1) where body[index] == 10 && body[index + 1] == 10 {
            let text = String(decoding: body[..<index], as: UTF8.self)
            body.removeSubrange(...(index + 1))
            return SSEBlock(parsing: text)
        }
        return nil
    }
}
