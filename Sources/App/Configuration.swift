import AppCore
import PostgresStore
import RedisBus

extension Application {
    /// Everything the application needs to know, read once by the executable from `CLPR_*` variables.
    /// Every default here is the embedded default: no services to configure.
    public struct Configuration: Sendable {
        /// Address to listen on. Default `127.0.0.1` (`CLPR_HOST`).
        public var host: String
        /// Port; 0 picks a free one. Default 8080 (`CLPR_PORT`).
        public var port: UInt16
        /// Where the SQLite file (when ``database`` is ``Database/sqlite``), and files live.
        /// Default `./data` (`CLPR_DATA_DIR`).
        public var dataDirectory: String
        /// The browser app's folder. Default `./web` (`CLPR_WEB_DIR`).
        public var webDirectory: String
        /// The URL people use; `https://…` makes cookies `Secure`. Default nil (`CLPR_PUBLIC_URL`).
        public var publicURL: String?
        /// `builtin` (default) or `none` (no planner answers: streams end in `claim_plan_timeout`) (`CLPR_PLANNER`).
        public var planner: PlannerKind
        /// How long the built-in planner takes. Default 1.5 s (`CLPR_PLANNER_DELAY_MS`).
        public var plannerDelay: Duration
        /// How long a submission may wait for its plan before the stream says `claim_plan_timeout`.
        /// Default 60 s (`CLPR_PLAN_TIMEOUT_S`).
        public var planTimeout: Duration
        /// Heartbeat comment interval on plan streams. Default 15 s (`CLPR_SSE_HEARTBEAT_S`).
        public var heartbeatInterval: Duration
        /// Request body limit. Default 1 MiB (`CLPR_MAX_BODY_BYTES`).
        public var maxBodySize: Int
        /// One-time code rules (`CLPR_OTP_RESEND_S` sets the resend cooldown).
        public var loginCodePolicy: LoginCodePolicy
        /// Session lifetime, renewed while used. Default 30 days.
        public var sessionLifetime: Duration
        /// Lifetime of a draft's wizard session (`clpr_claims.expires_at`). Default 30 days.
        public var draftLifetime: Duration
        /// Event loops (threads) of the HTTP server; see `HTTPServer.Configuration.threadPoolSize`. Default 8.
        public var httpThreads: Int
        /// libmicrohttpd's memory per connection while it reads a request and answers it. It bounds the request
        /// head: above half of it less 512 bytes the server answers `431 headers_too_large` before any handler
        /// runs (7.5 KB with the default). An open plan stream does not keep it (its socket leaves libmicrohttpd after the head). Default
        /// 16 KiB (`CLPR_HTTP_CONNECTION_MEMORY`).
        public var connectionMemory: Int = 16 * 1024
        /// An idle connection is closed after this long: a keep-alive connection nobody uses, a client that stopped
        /// sending its request or stopped reading. Open plan streams are not counted (their sockets leave
        /// libmicrohttpd once the head is sent; see `HTTPServer.Configuration.heartbeatInterval`). Default 60 s
        /// (`CLPR_HTTP_IDLE_TIMEOUT_S`).
        public var httpIdleTimeout: Duration = .seconds(60)
        /// Connections one client address may hold at once; 0: no limit (the default: behind a proxy every
        /// connection comes from the proxy). For a server facing clients directly (`CLPR_HTTP_MAX_PER_ADDRESS`).
        public var httpConnectionsPerAddress: Int = 0
        /// Log level. Default info (`CLPR_LOG_LEVEL`).
        public var logLevel: String
        /// Where claims and people are stored. Default ``Database/sqlite`` (`CLPR_DATABASE_URL` selects PostgreSQL).
        public var database: Database
        /// How plans travel from the workflow to the streams. Default ``PlanBusKind/inProcess``
        /// (`CLPR_REDIS_URL` selects Redis).
        public var planBus: PlanBusKind = .inProcess
        /// Plan streams open at once, at most; one more is answered `503` with `Retry-After` (open streams are
        /// never evicted). libmicrohttpd's connection limit is this plus 1,024 (a stream counts there only until
        /// its head is sent). Default 10,000 (`CLPR_MAX_STREAMS`).
        public var maxStreams: Int = 10_000
        /// Login-code send limits per phone and per client address. Default 5 per phone and 20 per address per
        /// hour.
        public var loginRateLimits = LoginRateLimits()
        /// Take the client address for rate limits from the last `X-Forwarded-For` entry (set it only behind a
        /// proxy that writes that header). Default false: the TCP peer (`CLPR_TRUST_FORWARDED_FOR`).
        public var trustForwardedFor = false
        /// Where one-time codes go. Default ``CodeDelivery/log`` (development); `CLPR_SMS_WEBHOOK_URL` selects
        /// ``CodeDelivery/webhook(_:)``.
        public var codeDelivery: CodeDelivery = .log
        /// The Telegram bot and Mini App; nil (default) turns both endpoints off (`CLPR_TELEGRAM_BOT_TOKEN`).
        public var telegram: Telegram? = nil
        /// Where uploaded documents are kept (content-addressed blobs and `tmp/`). Default nil:
        /// `<dataDirectory>/files`, i.e. `./data/files` (`CLPR_FILES_DIR`).
        public var filesDirectory: String? = nil
        /// The largest document file accepted. Default 20 MiB (`CLPR_DOCUMENT_MAX_BYTES`).
        public var documentMaxBytes: Int = 20 * 1024 * 1024
        /// Files one claim may hold at most. Default 30 (`CLPR_DOCUMENTS_PER_CLAIM`).
        public var documentsPerClaim: Int = 30

        /// ``filesDirectory`` or its default under the data directory.
        public var resolvedFilesDirectory: String { filesDirectory ?? dataDirectory + "/files" }

        /// Limits on sending login codes (each limit: at most `count` sends per `window`).
        public struct LoginRateLimits: Sendable, Equatable {
            /// Codes sent to one phone per window. Default 5.
            public var perPhone: Int
            /// Codes requested from one client address per window. Default 20.
            public var perAddress: Int
            /// Default one hour.
            public var window: Duration

            public init(perPhone: Int = 5, perAddress: Int = 20, window: Duration = .seconds(3600)) {
                self.perPhone = perPhone
                self.perAddress = perAddress
                self.window = window
            }
        }

        /// How one-time codes reach people.
        public enum CodeDelivery: Sendable, Equatable, CustomStringConvertible {
            /// Written to the log (`clpr.codes`): the development default and the only place a code is logged.
            case log
            /// POSTed to a signed webhook (an n8n workflow or an SMS gateway).
            case webhook(Webhook)

            public var description: String {
                switch self {
                case .log: "log"
                case .webhook(let webhook): "webhook \(webhook.description)"
                }
            }
        }

        /// A signed outgoing webhook: the body is JSON; `X-Clpr-Timestamp` is Unix seconds and
        /// `X-Clpr-Signature` the hex HMAC-SHA256 of `timestamp + "." + body` under `secret`.
        public struct Webhook: Sendable, Equatable, CustomStringConvertible {
            public var url: String
            public var secret: String

            public init(url: String, secret: String) {
                self.url = url
                self.secret = secret
            }

            /// The URL without query (which might carry a key); never the secret.
            public var description: String { String(url.prefix { $0 != "?" }) }
        }

        /// The Telegram bot and Mini App.
        public struct Telegram: Sendable, Equatable, CustomStringConvertible {
            /// The bot's token from BotFather (`CLPR_TELEGRAM_BOT_TOKEN`): checks `initData` and calls the Bot API.
            public var botToken: String
            /// Telegram sends it in `X-Telegram-Bot-Api-Secret-Token` (`setWebhook … secret_token`); without it
            /// the bot webhook answers 404 (`CLPR_TELEGRAM_WEBHOOK_SECRET`).
            public var webhookSecret: String?
            /// The oldest `auth_date` accepted in `initData`. Default 1 day (`CLPR_TELEGRAM_INIT_DATA_MAX_AGE_S`).
            public var initDataMaxAge: Duration
            /// The Mini App's URL (https) for the bot's button. Default the public URL
            /// (`CLPR_TELEGRAM_WEBAPP_URL`).
            public var webAppURL: String?
            /// The Bot API's base URL. Default `https://api.telegram.org` (`CLPR_TELEGRAM_API_URL`).
            public var apiURL: String

            public init(
                botToken: String, webhookSecret: String? = nil, initDataMaxAge: Duration = .seconds(86_400),
                webAppURL: String? = nil, apiURL: String = "https://api.telegram.org"
            ) {
                self.botToken = botToken
                self.webhookSecret = webhookSecret
                self.initDataMaxAge = initDataMaxAge
                self.webAppURL = webAppURL
                self.apiURL = apiURL
            }

            /// What is configured, never the token or the secret.
            public var description: String {
                "telegram(api: \(apiURL), webhook: \(webhookSecret == nil ? "off" : "on"), "
                    + "init_data_max_age: \(initDataMaxAge.secondsRoundedUp) s)"
            }
        }

        /// The n8n workflow: where submissions are sent and the secret that signs them and the plan callbacks.
        /// Setting it selects the n8n planner (`CLPR_N8N_WEBHOOK_URL` + `CLPR_N8N_SECRET`). Default nil.
        public var n8n: N8N?
        /// The CRM contact webhook, called once per phone after a login (`CLPR_CRM_WEBHOOK_URL`). Default nil: no
        /// CRM call.
        public var crmWebhookURL: String?
        /// The outbox dispatcher's timings (send timeout ≤ 10 s, backoff, maximum age).
        var outbox = OutboxDispatcher.Configuration()
        /// Timeout of one outgoing call, at most 10 s. Default 10 s (`CLPR_OUTBOX_TIMEOUT_S`).
        public var outboxTimeout: Duration {
            get { outbox.timeout }
            set { outbox.timeout = min(newValue, .seconds(10)) }
        }
        /// An outgoing call that keeps failing for this long is dead. Default 24 h (`CLPR_OUTBOX_MAX_AGE_S`).
        public var outboxMaxAge: Duration {
            get { outbox.retry.maxAge }
            set { outbox.retry.maxAge = newValue }
        }

        /// The n8n workflow's webhook and shared secret.
        public struct N8N: Sendable, Equatable, CustomStringConvertible {
            /// The webhook's production URL (`https://n8n.example.org/webhook/clpr-claim`).
            public var webhookURL: String
            /// Signs our webhook calls and checks the plan callbacks (`X-Clpr-Signature`).
            public var secret: String

            public init(webhookURL: String, secret: String) {
                self.webhookURL = webhookURL
                self.secret = secret
            }

            /// The URL without query string (where tokens might sit); never the secret.
            public var description: String { String(webhookURL.prefix { $0 != "?" }) }
        }

        /// The store the application runs on.
        public enum Database: Sendable, Equatable, CustomStringConvertible {
            /// The embedded default: `clpr.sqlite3` in ``Configuration/dataDirectory``.
            case sqlite
            /// PostgreSQL, the production system of record (`CLPR_DATABASE_URL`).
            case postgres(PostgresStore.Configuration)

            /// PostgreSQL at `url` (`postgres://…` or `postgresql://…`, see ``PostgresStore/Configuration/init(url:poolSize:)``).
            /// - Parameter poolSize: connections kept at most unless the URL sets `pool_size`. Default 4.
            /// - Throws: ``PostgresStore/Configuration/InvalidURL`` naming what is wrong, never the password.
            public static func postgres(url: String, poolSize: Int = 4) throws -> Database {
                .postgres(try PostgresStore.Configuration(url: url, poolSize: poolSize))
            }

            /// `sqlite`, or the PostgreSQL URL with the password masked.
            public var description: String {
                switch self {
                case .sqlite: "sqlite"
                case .postgres(let configuration): configuration.description
                }
            }
        }

        /// The plan bus the application runs on.
        public enum PlanBusKind: Sendable, Equatable, CustomStringConvertible {
            /// The embedded default: one process, nothing to run.
            case inProcess
            /// Redis pub/sub (`PSUBSCRIBE claim:plan:*`), what n8n publishes to (`CLPR_REDIS_URL`).
            case redis(RedisPlanBus.Configuration)

            /// Redis at `url` (`redis://[[user]:password@]host:port/db`; `rediss://` is refused).
            /// - Throws: ``RedisPlanBus/Configuration/InvalidURL`` naming the problem, never the password.
            public static func redis(url: String) throws -> PlanBusKind {
                .redis(try RedisPlanBus.Configuration(url: url))
            }

            /// `in-process`, or the Redis URL with the password masked.
            public var description: String {
                switch self {
                case .inProcess: "in-process"
                case .redis(let configuration): configuration.description
                }
            }
        }

        public enum PlannerKind: String, Sendable {
            /// The built-in planner (embedded default); `none`: nothing answers; `n8n`: the workflow at ``n8n``.
            case builtin, none, n8n
        }

        public init(
            host: String = "127.0.0.1", port: UInt16 = 8080, dataDirectory: String = "./data",
            webDirectory: String = "./web", publicURL: String? = nil, planner: PlannerKind = .builtin,
            plannerDelay: Duration = .milliseconds(1500), planTimeout: Duration = .seconds(60),
            heartbeatInterval: Duration = .seconds(15), maxBodySize: Int = 1 << 20,
            loginCodePolicy: LoginCodePolicy = LoginCodePolicy(), sessionLifetime: Duration = .seconds(30 * 86_400),
            draftLifetime: Duration = .seconds(30 * 86_400), httpThreads: Int = 8, logLevel: String = "info",
            database: Database = .sqlite
        ) {
            self.host = host
            self.port = port
            self.dataDirectory = dataDirectory
            self.webDirectory = webDirectory
            self.publicURL = publicURL
            self.planner = planner
            self.plannerDelay = plannerDelay
            self.planTimeout = planTimeout
            self.heartbeatInterval = heartbeatInterval
            self.maxBodySize = maxBodySize
            self.loginCodePolicy = loginCodePolicy
            self.sessionLifetime = sessionLifetime
            self.draftLifetime = draftLifetime
            self.httpThreads = httpThreads
            self.logLevel = logLevel
            self.database = database
        }

        /// Cookies get `Secure` when people reach the server over https.
        var secureCookies: Bool { publicURL?.lowercased().hasPrefix("https://") ?? false }
    }
}
