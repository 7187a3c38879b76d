import App
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// Reads `CLPR_*` variables once, here and nowhere else.
enum Environment {
    struct InvalidValue: Error, CustomStringConvertible {
        var variable: String
        var value: String
        var expected: String
        var description: String { "\(variable)=\(value.prefix(80)) is not usable: expected \(expected)" }
    }

    /// A value that may hold a secret (a database URL with its password): the message names the variable and
    /// the problem, never the value.
    struct InvalidSecretValue: Error, CustomStringConvertible {
        var variable: String
        var problem: String
        var description: String { "\(variable) is not usable: \(problem)" }
    }

    static let documentation = """
          CLPR_HOST               address to listen on (default 127.0.0.1; 0.0.0.0 for all)
          CLPR_PORT               port (default 8080; 0 = any free port)
          CLPR_DATA_DIR           SQLite database and files (default ./data)
          CLPR_FILES_DIR          uploaded documents, content-addressed (default CLPR_DATA_DIR/files)
          CLPR_DOCUMENT_MAX_BYTES largest document file accepted; larger ones get 413 (default 20971520)
          CLPR_DOCUMENTS_PER_CLAIM     files one claim may hold (default 30)
          CLPR_DATABASE_URL       postgres://user:password@host:5432/dbname?sslmode=require (also postgresql://,
                                  a unix socket as ?host=/run/postgresql): store everything in PostgreSQL
                                  instead of SQLite (default unset: SQLite in CLPR_DATA_DIR)
          CLPR_DATABASE_POOL_SIZE PostgreSQL connections kept open (default 4)
          CLPR_REDIS_URL          redis://[[user]:password@]host:6379/db: receive plans from Redis
                                  (PSUBSCRIBE claim:plan:*, one subscriber connection per process) instead of
                                  the in-process bus (default unset); rediss:// (TLS) is refused
          CLPR_MAX_STREAMS        plan streams open at once; more are answered 503 + Retry-After (default 10000)
          CLPR_WEB_DIR            the browser app (default ./web)
          CLPR_PUBLIC_URL         public URL; https:// makes cookies Secure (default unset)
          CLPR_PLANNER            builtin | none (default builtin; n8n when CLPR_N8N_WEBHOOK_URL is set)
          CLPR_N8N_WEBHOOK_URL    the n8n workflow's webhook (http:// or https://): submissions go there through
                                  the outbox, signed with CLPR_N8N_SECRET (required with it); also enables the
                                  signed plan callback POST /api/v1/claim-plan/{token} (default unset)
          CLPR_N8N_SECRET         shared secret for X-Clpr-Signature (HMAC-SHA256), at least 16 characters
          CLPR_CRM_WEBHOOK_URL    CRM contact webhook, called once per phone after a login (default unset: none)
          CLPR_OUTBOX_TIMEOUT_S   outgoing call timeout, 1-10 (default 10)
          CLPR_OUTBOX_MAX_AGE_S   an outgoing call failing for longer than this is dead (default 86400)
          CLPR_PLANNER_DELAY_MS   built-in planner's delay (default 1500)
          CLPR_PLAN_TIMEOUT_S     seconds a submission waits for its plan (default 60)
          CLPR_SSE_HEARTBEAT_S    heartbeat interval on streams (default 15)
          CLPR_MAX_BODY_BYTES     request body limit (default 1048576)
          CLPR_OTP_RESEND_S       seconds before a new code may be sent (default 60)
          CLPR_OTP_LIMIT_PER_PHONE     codes sent to one phone per hour (default 5)
          CLPR_OTP_LIMIT_PER_ADDRESS   codes requested from one client address per hour (default 20)
          CLPR_TRUST_FORWARDED_FOR     1: client address = last X-Forwarded-For entry (only behind a proxy
                                  that sets it; default 0: the TCP peer)
          CLPR_SMS_WEBHOOK_URL    send login codes by POST to this URL (n8n or an SMS gateway) instead of the
                                  log; needs CLPR_SMS_WEBHOOK_SECRET (default unset: codes go to the log)
          CLPR_SMS_WEBHOOK_SECRET key of X-Clpr-Signature = hex HMAC-SHA256(timestamp + "." + body)
          CLPR_TELEGRAM_BOT_TOKEN       the bot's token: enables the Mini App login (default unset: off)
          CLPR_TELEGRAM_WEBHOOK_SECRET  the secret_token given to setWebhook: enables the bot webhook
          CLPR_TELEGRAM_INIT_DATA_MAX_AGE_S  oldest Mini App initData accepted (default 86400)
          CLPR_TELEGRAM_WEBAPP_URL      the Mini App URL on the bot's button (default CLPR_PUBLIC_URL)
          CLPR_TELEGRAM_API_URL         Bot API base URL (default https://api.telegram.org)
          CLPR_HTTP_THREADS       HTTP event loops, each a thread on the shared port (default 8)
          CLPR_HTTP_CONNECTION_MEMORY  bytes per connection; a request head over half of it less 512 B gets 431
                                  (default 16384)
          CLPR_HTTP_IDLE_TIMEOUT_S     an idle connection is closed after this long; open plan
                                  streams are not counted (default 60)
          CLPR_HTTP_MAX_PER_ADDRESS    connections one client address may hold; 0 = no limit (default 0:
                                  behind a proxy all connections come from it; set it when clients connect directly)
          CLPR_LOG_LEVEL          trace | debug | info | notice | warning | error (default info)
        """

    /// What `serve` needs of the file system, checked before anything starts so a mistake is one line naming the
    /// variable: the data directory exists (it is created) and is writable, the web folder exists.
    static func checkDirectories(of configuration: Application.Configuration, serving: Bool) throws {
        let data = configuration.dataDirectory
        var isDirectory: ObjCBool = false
        if !FileManager.default.fileExists(atPath: data, isDirectory: &isDirectory) {
            do {
                try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
            } catch {
                throw InvalidValue(
                    variable: "CLPR_DATA_DIR", value: data, expected: "a directory that can be created (\(errnoText()))"
                )
            }
        } else if !isDirectory.boolValue {
            throw InvalidValue(variable: "CLPR_DATA_DIR", value: data, expected: "a directory, not a file")
        }
        guard access(data, W_OK) == 0 else {
            throw InvalidValue(variable: "CLPR_DATA_DIR", value: data, expected: "a writable directory")
        }
        // The files directory (created when missing, under the data directory by default) must be writable too.
        let files = configuration.resolvedFilesDirectory
        if !FileManager.default.fileExists(atPath: files, isDirectory: &isDirectory) {
            do {
                try FileManager.default.createDirectory(atPath: files, withIntermediateDirectories: true)
            } catch {
                throw InvalidValue(
                    variable: "CLPR_FILES_DIR", value: files,
                    expected: "a directory that can be created (\(errnoText()))")
            }
        } else if !isDirectory.boolValue {
            throw InvalidValue(variable: "CLPR_FILES_DIR", value: files, expected: "a directory, not a file")
        }
        guard access(files, W_OK) == 0 else {
            throw InvalidValue(variable: "CLPR_FILES_DIR", value: files, expected: "a writable directory")
        }
        guard serving else { return }
        let web = configuration.webDirectory
        guard FileManager.default.fileExists(atPath: web, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw InvalidValue(
                variable: "CLPR_WEB_DIR", value: web, expected: "the folder of the browser app (the repository's web/)")
        }
    }

    private static func errnoText() -> String { String(cString: strerror(errno)) }

    static func current() -> [String: String] {
        var result: [String: String] = [:]
        var pointer = environ
        while let entry = pointer.pointee {
            let text = String(cString: entry)
            if let eq = text.firstIndex(of: "="), text.hasPrefix("CLPR_") {
                result[String(text[..<eq])] = String(text[text.index(after: eq)...])
            }
            pointer += 1
        }
        return result
    }

    static func configuration(from env: [String: String]) throws -> Application.Configuration {
        var config = Application.Configuration()
        func int(_ name: String, _ range: ClosedRange<Int>) throws -> Int? {
            guard let text = env[name], !text.isEmpty else { return nil }
            guard let value = Int(text), range.contains(value) else {
                throw InvalidValue(variable: name, value: text, expected: "an integer in \(range)")
            }
            return value
        }
        if let host = env["CLPR_HOST"], !host.isEmpty { config.host = host }
        if let port = try int("CLPR_PORT", 0...65535) { config.port = UInt16(port) }
        if let dir = env["CLPR_DATA_DIR"], !dir.isEmpty { config.dataDirectory = dir }
        if let dir = env["CLPR_WEB_DIR"], !dir.isEmpty { config.webDirectory = dir }
        if let dir = env["CLPR_FILES_DIR"], !dir.isEmpty { config.filesDirectory = dir }
        if let bytes = try int("CLPR_DOCUMENT_MAX_BYTES", 1024...(1 << 40)) { config.documentMaxBytes = bytes }
        if let n = try int("CLPR_DOCUMENTS_PER_CLAIM", 1...1000) { config.documentsPerClaim = n }
        let poolSize = try int("CLPR_DATABASE_POOL_SIZE", 1...256)
        if let url = env["CLPR_DATABASE_URL"], !url.isEmpty {
            do {
                config.database = try .postgres(url: url, poolSize: poolSize ?? 4)
            } catch {
                throw InvalidSecretValue(variable: "CLPR_DATABASE_URL", problem: "\(error)")
            }
        }
        if let url = env["CLPR_REDIS_URL"], !url.isEmpty {
            do {
                config.planBus = try .redis(url: url)
            } catch {
                throw InvalidSecretValue(variable: "CLPR_REDIS_URL", problem: "\(error)")
            }
        }
        if let n = try int("CLPR_MAX_STREAMS", 1...1_000_000) { config.maxStreams = n }
        if let url = env["CLPR_PUBLIC_URL"], !url.isEmpty {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw InvalidValue(variable: "CLPR_PUBLIC_URL", value: url, expected: "an http:// or https:// URL")
            }
            config.publicURL = url
        }
        if let planner = env["CLPR_PLANNER"], !planner.isEmpty {
            guard let kind = Application.Configuration.PlannerKind(rawValue: planner) else {
                throw InvalidValue(variable: "CLPR_PLANNER", value: planner, expected: "builtin, none or n8n")
            }
            config.planner = kind
        }
        if let url = env["CLPR_N8N_WEBHOOK_URL"], !url.isEmpty {
            try checkWebhookURL(url, variable: "CLPR_N8N_WEBHOOK_URL")
            guard let secret = env["CLPR_N8N_SECRET"], secret.count >= 16 else {
                throw InvalidSecretValue(
                    variable: "CLPR_N8N_SECRET", problem: "required with CLPR_N8N_WEBHOOK_URL, at least 16 characters")
            }
            config.n8n = .init(webhookURL: url, secret: secret)
            if env["CLPR_PLANNER"].map({ $0.isEmpty }) ?? true { config.planner = .n8n }
        }
        if config.planner == .n8n && config.n8n == nil {
            throw InvalidValue(variable: "CLPR_PLANNER", value: "n8n", expected: "CLPR_N8N_WEBHOOK_URL to be set too")
        }
        if let url = env["CLPR_CRM_WEBHOOK_URL"], !url.isEmpty {
            try checkWebhookURL(url, variable: "CLPR_CRM_WEBHOOK_URL")
            config.crmWebhookURL = url
        }
        if let s = try int("CLPR_OUTBOX_TIMEOUT_S", 1...10) { config.outboxTimeout = .seconds(s) }
        if let s = try int("CLPR_OUTBOX_MAX_AGE_S", 60...30 * 86_400) { config.outboxMaxAge = .seconds(s) }
        if let ms = try int("CLPR_PLANNER_DELAY_MS", 0...600_000) { config.plannerDelay = .milliseconds(ms) }
        if let s = try int("CLPR_PLAN_TIMEOUT_S", 1...86_400) { config.planTimeout = .seconds(s) }
        if let s = try int("CLPR_SSE_HEARTBEAT_S", 1...300) { config.heartbeatInterval = .seconds(s) }
        if let bytes = try int("CLPR_MAX_BODY_BYTES", 1024...(1 << 30)) { config.maxBodySize = bytes }
        if let s = try int("CLPR_OTP_RESEND_S", 0...3600) { config.loginCodePolicy.resendAfter = .seconds(s) }
        if let n = try int("CLPR_HTTP_THREADS", 1...64) { config.httpThreads = n }
        if let bytes = try int("CLPR_HTTP_CONNECTION_MEMORY", 4096...(1 << 20)) { config.connectionMemory = bytes }
        if let s = try int("CLPR_HTTP_IDLE_TIMEOUT_S", 2...3600) { config.httpIdleTimeout = .seconds(s) }
        if let n = try int("CLPR_HTTP_MAX_PER_ADDRESS", 0...1_000_000) { config.httpConnectionsPerAddress = n }
        if let n = try int("CLPR_OTP_LIMIT_PER_PHONE", 1...1000) { config.loginRateLimits.perPhone = n }
        if let n = try int("CLPR_OTP_LIMIT_PER_ADDRESS", 1...100_000) { config.loginRateLimits.perAddress = n }
        if let flag = env["CLPR_TRUST_FORWARDED_FOR"], !flag.isEmpty {
            guard flag == "1" || flag == "0" else {
                throw InvalidValue(variable: "CLPR_TRUST_FORWARDED_FOR", value: flag, expected: "0 or 1")
            }
            config.trustForwardedFor = flag == "1"
        }
        if let url = env["CLPR_SMS_WEBHOOK_URL"], !url.isEmpty {
            guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                throw InvalidSecretValue(
                    variable: "CLPR_SMS_WEBHOOK_URL", problem: "expected an http:// or https:// URL")
            }
            guard let secret = env["CLPR_SMS_WEBHOOK_SECRET"], secret.utf8.count >= 16 else {
                throw InvalidSecretValue(
                    variable: "CLPR_SMS_WEBHOOK_SECRET", problem: "required with CLPR_SMS_WEBHOOK_URL, 16 bytes or more"
                )
            }
            config.codeDelivery = .webhook(.init(url: url, secret: secret))
        }
        if let token = env["CLPR_TELEGRAM_BOT_TOKEN"], !token.isEmpty {
            var telegram = Application.Configuration.Telegram(botToken: token)
            if let secret = env["CLPR_TELEGRAM_WEBHOOK_SECRET"], !secret.isEmpty {
                // Telegram allows 1-256 characters A-Z, a-z, 0-9, _ and -.
                guard secret.utf8.count <= 256,
                    secret.utf8.allSatisfy({
                        $0 == 45 || $0 == 95 || (48...57).contains($0) || (65...90).contains($0)
                            || (97...122).contains($0)
                    })
                else {
                    throw InvalidSecretValue(
                        variable: "CLPR_TELEGRAM_WEBHOOK_SECRET", problem: "1-256 characters of A-Z a-z 0-9 _ -")
                }
                telegram.webhookSecret = secret
            }
            if let s = try int("CLPR_TELEGRAM_INIT_DATA_MAX_AGE_S", 60...2_592_000) {
                telegram.initDataMaxAge = .seconds(s)
            }
            if let url = env["CLPR_TELEGRAM_WEBAPP_URL"], !url.isEmpty {
                guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                    throw InvalidValue(variable: "CLPR_TELEGRAM_WEBAPP_URL", value: url, expected: "an https:// URL")
                }
                telegram.webAppURL = url
            }
            if let url = env["CLPR_TELEGRAM_API_URL"], !url.isEmpty {
                guard url.hasPrefix("https://") || url.hasPrefix("http://") else {
                    throw InvalidValue(variable: "CLPR_TELEGRAM_API_URL", value: url, expected: "an http(s):// URL")
                }
                telegram.apiURL = url
            }
            config.telegram = telegram
        }
        if let level = env["CLPR_LOG_LEVEL"], !level.isEmpty {
            guard Logger.Level(name: level) != nil else {
                throw InvalidValue(
                    variable: "CLPR_LOG_LEVEL", value: level, expected: "trace, debug, info, notice, warning or error")
            }
            config.logLevel = level
        }
        return config
    }

    /// A webhook URL must be `http://` or `https://` with a host; the message never shows the URL (it may carry a
    /// token).
    static func checkWebhookURL(_ url: String, variable: String) throws {
        let lower = url.lowercased()
        let rest =
            lower.hasPrefix("https://") ? lower.dropFirst(8) : lower.hasPrefix("http://") ? lower.dropFirst(7) : nil
        guard let rest, let first = rest.first, first != "/" else {
            throw InvalidSecretValue(variable: variable, problem: "expected an http:// or https:// URL with a host")
        }
    }
}
