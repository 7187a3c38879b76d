extension RedisPlanBus {
    /// Where Redis is and how the bus treats it. Every default is in ``init(host:port:user:password:database:maxMessageBytes:connectTimeout:publishTimeout:reconnectDelay:maxReconnectDelay:)``.
    public struct Configuration: Sendable, Equatable, CustomStringConvertible {
        /// Host name or IP. Default `127.0.0.1`.
        public var host: String
        /// Default 6379.
        public var port: Int
        /// ACL user for `AUTH user password`; nil sends `AUTH password`. Default nil.
        public var user: String?
        /// Default nil (no `AUTH`).
        public var password: String?
        /// The database `SELECT`ed on connect (pub/sub itself ignores it). Default 0.
        public var database: Int
        /// A pub/sub message larger than this is cut to this size before it reaches the intake (which refuses it
        /// as too large); the bus never holds more per message. Default 1 MiB.
        public var maxMessageBytes: Int
        /// TCP connect timeout. Default 2 s.
        public var connectTimeout: Duration
        /// A `PUBLISH` that gets no answer within this long fails. Default 2 s.
        public var publishTimeout: Duration
        /// First wait before reconnecting the subscriber; doubles up to ``maxReconnectDelay``, with jitter.
        /// Default 50 ms.
        public var reconnectDelay: Duration
        /// Default 2 s.
        public var maxReconnectDelay: Duration

        public init(
            host: String = "127.0.0.1", port: Int = 6379, user: String? = nil, password: String? = nil,
            database: Int = 0, maxMessageBytes: Int = 1 << 20, connectTimeout: Duration = .seconds(2),
            publishTimeout: Duration = .seconds(2), reconnectDelay: Duration = .milliseconds(50),
            maxReconnectDelay: Duration = .seconds(2)
        ) {
            self.host = host
            self.port = port
            self.user = user
            self.password = password
            self.database = database
            self.maxMessageBytes = maxMessageBytes
            self.connectTimeout = connectTimeout
            self.publishTimeout = publishTimeout
            self.reconnectDelay = reconnectDelay
            self.maxReconnectDelay = maxReconnectDelay
        }

        /// A `redis://` URL that cannot be used. Names the problem, never the password.
        public struct InvalidURL: Error, Equatable, CustomStringConvertible {
            public var problem: String
            public var description: String { problem }
        }

        /// Reads `redis://[[user]:password@]host[:port][/db]`. `rediss://` (TLS) is refused: this build's hiredis
        /// has no TLS; reach a TLS Redis through a local tunnel (stunnel, a sidecar) instead.
        /// - Throws: ``InvalidURL``.
        public init(url: String) throws(InvalidURL) {
            self.init()
            let lowered = url.lowercased()
            if lowered.hasPrefix("rediss://") {
                throw InvalidURL(
                    problem: "rediss:// (TLS) is not supported by this build; use redis:// through a local TLS tunnel")
            }
            guard lowered.hasPrefix("redis://") else {
                throw InvalidURL(problem: "expected redis://[:password@]host:port/db")
            }
            var rest = Substring(url.dropFirst("redis://".count))
            if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
            var path: Substring = ""
            if let slash = rest.firstIndex(of: "/") {
                path = rest[rest.index(after: slash)...]
                rest = rest[..<slash]
            }
            if let at = rest.lastIndex(of: "@") {
                let credentials = rest[..<at]
                rest = rest[rest.index(after: at)...]
                if let colon = credentials.firstIndex(of: ":") {
                    let user = Self.percentDecoded(credentials[..<colon])
                    if !user.isEmpty { self.user = user }
                    password = Self.percentDecoded(credentials[credentials.index(after: colon)...])
                } else if !credentials.isEmpty {
                    password = Self.percentDecoded(credentials)
                }
            }
            if rest.hasPrefix("[") {
                guard let close = rest.firstIndex(of: "]") else { throw InvalidURL(problem: "unclosed [ in host") }
                host = String(rest[rest.index(after: rest.startIndex)..<close])
                rest = rest[rest.index(after: close)...]
                if rest.hasPrefix(":") {
                    guard let value = Int(rest.dropFirst()), (1...65535).contains(value) else {
                        throw InvalidURL(problem: "port must be 1-65535")
                    }
                    port = value
                }
            } else if let colon = rest.lastIndex(of: ":") {
                host = String(rest[..<colon])
                guard let value = Int(rest[rest.index(after: colon)...]), (1...65535).contains(value) else {
                    throw InvalidURL(problem: "port must be 1-65535")
                }
                port = value
            } else if !rest.isEmpty {
                host = String(rest)
            }
            guard !host.isEmpty else { throw InvalidURL(problem: "host is missing") }
            if !path.isEmpty {
                guard let value = Int(path), value >= 0 else { throw InvalidURL(problem: "database must be a number") }
                database = value
            }
        }

        /// `redis://host:port/db`, with the password masked.
        public var description: String {
            let credentials = password == nil ? "" : "\(user ?? ""):***@"
            let shownHost = host.contains(":") ? "[\(host)]" : host
            return "redis://\(credentials)\(shownHost):\(port)/\(database)"
        }

        private static func percentDecoded(_ text: Substring) -> String {
            var bytes: [UInt8] = []
            var index = text.utf8.startIndex
            let utf8 = text.utf8
            while index < utf8.endIndex {
                let byte = utf8[index]
                if byte == UInt8(ascii: "%"), let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex),
                    let low = utf8.index(index, offsetBy: 2, limitedBy: utf8.endIndex), low < utf8.endIndex,
                    let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16)
                {
                    bytes.append(value)
                    index = utf8.index(after: low)
                } else {
                    bytes.append(byte)
                    index = utf8.index(after: index)
                }
            }
            return String(decoding: bytes, as: UTF8.self)
        }
    }
}
