extension PostgresStore {
    /// Where the database is, who connects, and how many connections the store keeps.
    ///
    /// Usually made from a URL (`CLPR_DATABASE_URL`), see ``init(url:)``:
    ///
    /// ```swift
    /// let configuration = try PostgresStore.Configuration(url: "postgres://clpr:secret@db:5432/clpr?sslmode=require")
    /// ```
    ///
    /// `description` never shows the password.
    public struct Configuration: Sendable, Equatable, CustomStringConvertible {
        /// How to reach the server.
        public enum Endpoint: Sendable, Equatable {
            /// TCP to `host` (a name or an address) on `port`.
            case tcp(host: String, port: Int)
            /// The unix socket in `directory` (the socket file is `.s.PGSQL.<port>`).
            case unixSocket(directory: String, port: Int)
        }

        /// A URL that cannot be used; the text never contains the URL's password.
        public struct InvalidURL: Error, Sendable, Equatable, CustomStringConvertible {
            public var reason: String
            public var description: String { "invalid PostgreSQL URL: \(reason)" }
        }

        /// How to reach the server.
        public var endpoint: Endpoint
        /// The role to log in as. Default nil (libpq's default: the operating-system user).
        public var user: String?
        /// The password; never printed. Default nil.
        public var password: String?
        /// The database. Default nil (libpq's default: the user's name).
        public var database: String?
        /// libpq's `sslmode` (`disable`, `prefer`, `require`, `verify-full`, …), passed through. Default nil
        /// (libpq's default, `prefer`).
        public var sslMode: String?
        /// How many connections the store keeps open at most; each serves one operation at a time on its own
        /// thread. Default 4.
        public var poolSize: Int
        /// How long connecting may take. Default 10 s.
        public var connectTimeout: Duration
        /// Further libpq connection keywords from the URL's query (`application_name`, `target_session_attrs`, …),
        /// passed through unchanged.
        public var parameters: [String: String]

        /// - Parameters:
        ///   - endpoint: how to reach the server.
        ///   - user: the role. Default nil (libpq's default).
        ///   - password: the password. Default nil.
        ///   - database: the database. Default nil (libpq's default).
        ///   - sslMode: libpq's `sslmode`. Default nil (`prefer`).
        ///   - poolSize: connections kept at most. Default 4.
        ///   - connectTimeout: time allowed to connect. Default 10 s.
        ///   - parameters: further libpq keywords. Default none.
        public init(
            endpoint: Endpoint, user: String? = nil, password: String? = nil, database: String? = nil,
            sslMode: String? = nil, poolSize: Int = 4, connectTimeout: Duration = .seconds(10),
            parameters: [String: String] = [:]
        ) {
            self.endpoint = endpoint
            self.user = user
            self.password = password
            self.database = database
            self.sslMode = sslMode
            self.poolSize = max(1, poolSize)
            self.connectTimeout = connectTimeout
            self.parameters = parameters
        }

        /// Parses `postgres://[user[:password]@][host][:port][/dbname][?key=value&…]` (also `postgresql://`).
        ///
        /// Every part is percent-decoded. The host may be a name, an IPv4 address, `[IPv6]`, or a unix-socket
        /// directory given percent-encoded (`postgres://clpr@%2Frun%2Fpostgresql/clpr`) or as `?host=/run/postgresql`.
        /// Without a host, the Debian socket directory `/var/run/postgresql` is used. The query may also set `port`,
        /// `user`, `password`, `dbname`, `sslmode`, `connect_timeout` (seconds) and `pool_size`; other keys are
        /// passed to libpq as they are.
        /// - Parameter poolSize: the pool size unless the URL sets `pool_size`. Default 4.
        /// - Throws: ``InvalidURL`` naming what is wrong (never echoing the password).
        public init(url: String, poolSize: Int = 4) throws(InvalidURL) {
            let text = url.trimmingSpaces()
            var rest: Substring
            if let range = text.range(of: "://"),
                ["postgres", "postgresql"].contains(text[..<range.lowerBound].lowercased())
            {
                rest = text[range.upperBound...]
            } else {
                throw InvalidURL(reason: "expected postgres://… or postgresql://…")
            }
            if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
            var query: Substring = ""
            if let mark = rest.firstIndex(of: "?") {
                query = rest[rest.index(after: mark)...]
                rest = rest[..<mark]
            }
            var authority = rest
            var path: Substring = ""
            if let slash = rest.firstIndex(of: "/") {
                authority = rest[..<slash]
                path = rest[rest.index(after: slash)...]
            }

            var user: String?
            var password: String?
            var hostPort = authority
            if let at = authority.lastIndex(of: "@") {
                let userInfo = authority[..<at]
                hostPort = authority[authority.index(after: at)...]
                if let colon = userInfo.firstIndex(of: ":") {
                    user = try Self.decode(userInfo[..<colon], "user")
                    password = try Self.decode(userInfo[userInfo.index(after: colon)...], "password")
                } else {
                    user = try Self.decode(userInfo, "user")
                }
            }

            var host: String?
            var portText: Substring?
            if hostPort.hasPrefix("[") {
                guard let close = hostPort.firstIndex(of: "]") else { throw InvalidURL(reason: "unclosed [ in host") }
                host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
                let after = hostPort[hostPort.index(after: close)...]
                if after.hasPrefix(":") {
                    portText = after.dropFirst()
                } else if !after.isEmpty {
                    throw InvalidURL(reason: "unexpected text after ]")
                }
            } else if let colon = hostPort.lastIndex(of: ":") {
                host = try Self.decode(hostPort[..<colon], "host")
                portText = hostPort[hostPort.index(after: colon)...]
            } else {
                host = try Self.decode(hostPort, "host")
            }

            var database = path.isEmpty ? nil : try Self.decode(path, "dbname")
            var sslMode: String?
            var connectTimeout = Duration.seconds(10)
            var poolSize = poolSize
            var parameters: [String: String] = [:]
            for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
                let key: String
                let value: String
                if let equals = pair.firstIndex(of: "=") {
                    key = try Self.decode(pair[..<equals], "query key")
                    value = try Self.decode(pair[pair.index(after: equals)...], key)
                } else {
                    key = try Self.decode(pair, "query key")
                    value = ""
                }
                switch key {
                case "host": host = value
                case "port": portText = Substring(value)
                case "user": user = value
                case "password": password = value
                case "dbname": database = value
                case "sslmode": sslMode = value
                case "connect_timeout":
                    guard let seconds = Int(value), (1...3600).contains(seconds) else {
                        throw InvalidURL(reason: "connect_timeout must be seconds in 1...3600")
                    }
                    connectTimeout = .seconds(seconds)
                case "pool_size":
                    guard let size = Int(value), (1...256).contains(size) else {
                        throw InvalidURL(reason: "pool_size must be in 1...256")
                    }
                    poolSize = size
                default:
                    guard !key.isEmpty else { throw InvalidURL(reason: "empty query key") }
                    parameters[key] = value
                }
            }

            var port = 5432
            if let portText, !portText.isEmpty {
                guard let number = Int(portText), (1...65535).contains(number) else {
                    throw InvalidURL(reason: "port must be a number in 1...65535")
                }
                port = number
            }
            let endpoint: Endpoint
            switch host {
            case .none, .some(""):
                endpoint = .unixSocket(directory: "/var/run/postgresql", port: port)
            case .some(let host) where host.hasPrefix("/"):
                endpoint = .unixSocket(directory: host, port: port)
            case .some(let host):
                endpoint = .tcp(host: host, port: port)
            }
            self.init(
                endpoint: endpoint, user: user.flatMap { $0.isEmpty ? nil : $0 }, password: password,
                database: database.flatMap { $0.isEmpty ? nil : $0 }, sslMode: sslMode, poolSize: poolSize,
                connectTimeout: connectTimeout, parameters: parameters)
        }

        /// The URL without the password (`postgres://clpr:***@db:5432/clpr`), for logs.
        public var description: String {
            var text = "postgres://"
            if let user {
                text += Self.encode(user) + (password == nil ? "" : ":***") + "@"
            }
            switch endpoint {
            case .tcp(let host, let port):
                text += (host.contains(":") ? "[\(host)]" : Self.encode(host)) + ":\(port)"
            case .unixSocket(let directory, let port):
                text += Self.encode(directory) + ":\(port)"
            }
            text += "/" + (database.map(Self.encode) ?? "")
            var query: [String] = []
            if let sslMode { query.append("sslmode=\(Self.encode(sslMode))") }
            query += parameters.keys.sorted().map { "\(Self.encode($0))=\(Self.encode(parameters[$0] ?? ""))" }
            return query.isEmpty ? text : text + "?" + query.joined(separator: "&")
        }

        /// libpq keyword/value pairs for `PQconnectdbParams` (no string is ever spliced into a conninfo text).
        var connectionKeywords: [(String, String)] {
            var pairs: [(String, String)] = []
            switch endpoint {
            case .tcp(let host, let port):
                pairs += [("host", host), ("port", String(port))]
            case .unixSocket(let directory, let port):
                pairs += [("host", directory), ("port", String(port))]
            }
            if let user { pairs.append(("user", user)) }
            if let password { pairs.append(("password", password)) }
            if let database { pairs.append(("dbname", database)) }
            if let sslMode { pairs.append(("sslmode", sslMode)) }
            let seconds = max(1, Int(connectTimeout.components.seconds))
            pairs.append(("connect_timeout", String(seconds)))
            pairs.append(("client_encoding", "UTF8"))
            // Timestamps are written and read as UTC ISO text; the session settings make that independent of
            // the server's defaults.
            pairs.append(
                ("options", "-c TimeZone=UTC -c DateStyle=ISO,YMD" + (parameters["options"].map { " " + $0 } ?? "")))
            for (key, value) in parameters.sorted(by: { $0.key < $1.key }) where key != "options" {
                pairs.append((key, value))
            }
            if parameters["application_name"] == nil { pairs.append(("application_name", "clpr")) }
            return pairs
        }

        private static func decode(_ text: Substring, _ part: String) throws(InvalidURL) -> String {
            var bytes: [UInt8] = []
            var iterator = Array(text.utf8).makeIterator()
            while let byte = iterator.next() {
                guard byte == UInt8(ascii: "%") else {
                    bytes.append(byte)
                    continue
                }
                guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                    throw InvalidURL(reason: "bad percent-encoding in \(part == "password" ? "the password" : part)")
                }
                bytes.append(high << 4 | low)
            }
            guard let decoded = String(validating: bytes, as: UTF8.self) else {
                throw InvalidURL(reason: "\(part == "password" ? "the password" : part) is not UTF-8")
            }
            return decoded
        }

        private static func hexValue(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }

        private static func encode(_ text: String) -> String {
            var result = ""
            for byte in text.utf8 {
                switch byte {
                case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                    UInt8(ascii: "~"):
                    result.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    let hex = Array("0123456789ABCDEF".utf8)
                    result += "%" + String(decoding: [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]], as: UTF8.self)
                }
            }
            return result
        }
    }
}

extension String {
    fileprivate func trimmingSpaces() -> String {
        var text = Substring(self)
        while text.first?.isWhitespace == true { text = text.dropFirst() }
        while text.last?.isWhitespace == true { text = text.dropLast() }
        return String(text)
    }
}
