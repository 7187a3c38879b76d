import AppCore
import Crypto
import FoundationEssentials
import HTTPClient
import HTTPServer
import Logging
import Synchronization

/// The whole server: stores, plan bus, planner, plan intake, stream hub and HTTP, wired together.
///
/// Lifecycle: ``init(configuration:logger:)`` opens storage and builds the routes; ``start()`` binds the port and
/// starts the background services; ``shutdown()`` stops accepting, ends open streams (clients reconnect elsewhere;
/// nothing is lost because plans are stored) and closes storage.
public final class Application: Sendable {
    public let configuration: Configuration
    let logger: Logger
    /// The configured store (SQLite or PostgreSQL) and how to close it.
    let database: Database
    /// The store behind every port.
    let store: any IdentityStore & ClaimStore & OutboxStore
    /// The plan bus (in-process or Redis) and its lifecycle.
    let planBus: PlanBusControl
    var bus: any PlanBus { planBus.bus }
    let hub: StreamHub
    let server: HTTPServer
    let intake: PlanIntake
    /// Sends the outbox (n8n webhook, CRM contact, Telegram bot replies); idle when none is configured.
    let dispatcher: OutboxDispatcher
    /// Everything `/metrics` shows.
    let metrics: Metrics
    /// The registered routes (method and pattern), for the OpenAPI test.
    let routes: [(method: HTTPMethod, pattern: String)]
    private let tasks = Mutex<[Task<Void, Never>]>([])

    public init(configuration: Configuration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        try FileSystem.makeDirectory(configuration.dataDirectory)
        let staticFiles = try StaticFiles(root: configuration.webDirectory, logger: logger)
        // Everything that can fail comes before the database opens, or closes it again.
        let database = try Self.openDatabase(configuration, logger: logger)
        let store = database.store
        // Login codes are hashed under a key kept in the database, so that every instance behind a load balancer
        // checks the codes the others sent.
        let codeKey: [UInt8]
        do {
            codeKey = try database.serverKey(named: "login-code")
        } catch {
            database.close()
            throw error
        }
        let planBus = PlanBusControl.make(configuration.planBus, logger: logger.with(label: "clpr.bus"))
        let bus = planBus.bus
        let metrics = Metrics()
        let httpMetrics = HTTPMetrics(registry: metrics, prefix: "clpr_http")
        let hub = StreamHub(ended: StreamHub.endedCounter(in: metrics))
        let catalog = ClaimCatalog.standard
        let authenticator = Authenticator(
            store: store, lifetime: configuration.sessionLifetime, secureCookies: configuration.secureCookies)
        let dispatcher = Self.makeDispatcher(configuration, store: store, logger: logger.with(label: "clpr.outbox"))
        let planner: any Planner
        switch configuration.planner {
        case .builtin:
            planner = BuiltInPlannerService(
                planner: BuiltInPlanner(catalog: catalog), bus: bus, delay: configuration.plannerDelay,
                logger: logger.with(label: "clpr.planner"))
        case .none:
            planner = SilentPlanner()
        case .n8n:
            guard configuration.n8n != nil else {
                database.close()
                throw ConfigurationError(description: "the n8n planner needs a webhook URL and a secret")
            }
            planner = N8NPlanner(publicURL: configuration.publicURL, dispatcher: dispatcher)
        }
        let crm = configuration.crmWebhookURL.map { _ in
            CRMContacts(store: store, dispatcher: dispatcher, logger: logger.with(label: "clpr.crm"))
        }
        // "We will send you a message in Telegram": offered only with a bot to send it.
        let planNotice = PlanReadyNotice(
            store: store, authenticator: authenticator, dispatcher: dispatcher,
            botID: configuration.telegram.map { TelegramSender.botID(token: $0.botToken) },
            webAppURL: configuration.telegram?.webAppURL ?? configuration.publicURL,
            logger: logger.with(label: "clpr.telegram"))
        let intake = PlanIntake(
            bus: bus, store: store, hub: hub, logger: logger.with(label: "clpr.plans"),
            outcomes: PlanIntake.outcomesCounter(in: metrics), notice: configuration.telegram == nil ? nil : planNotice)
        Self.registerMetrics(in: metrics, hub: hub, dispatcher: dispatcher, planBus: planBus, database: database)

        var router = Router()
        let claimRoutes = ClaimRoutes(
            store: store, identity: store, outbox: store, authenticator: authenticator, catalog: catalog,
            planner: planner,
            draftLifetime: configuration.draftLifetime, logger: logger.with(label: "clpr.claims"))
        let client = HTTPClient()
        let codeSender: any CodeSender =
            switch configuration.codeDelivery {
            case .log: LogCodeSender(logger: logger.with(label: "clpr.codes"))
            case .webhook(let webhook):
                WebhookCodeSender(
                    webhook: webhook, client: client, lifetime: configuration.loginCodePolicy.lifetime,
                    logger: logger.with(label: "clpr.codes"))
            }
        AuthRoutes(
            store: store, authenticator: authenticator, codeSender: codeSender,
            policy: configuration.loginCodePolicy,
            codeKey: codeKey,
            limits: configuration.loginRateLimits,
            trustForwardedFor: configuration.trustForwardedFor, crm: crm, logger: logger.with(label: "clpr.auth")
        ).register(in: &router)
        TelegramRoutes(
            store: store, authenticator: authenticator, telegram: configuration.telegram, dispatcher: dispatcher,
            webAppURL: configuration.telegram?.webAppURL ?? configuration.publicURL,
            logger: logger.with(label: "clpr.telegram")
        ).register(in: &router)
        claimRoutes.register(in: &router)
        planNotice.register(in: &router)
        ConfirmationPage(claims: claimRoutes, authenticator: authenticator).register(in: &router)
        PlanStreamRoutes(
            store: store, authenticator: authenticator, hub: hub, planTimeout: configuration.planTimeout,
            maxStreams: configuration.maxStreams, logger: logger.with(label: "clpr.stream")
        ).register(in: &router)
        let fanOut: (any PlanBus)? =
            switch configuration.planBus {
            case .redis: bus
            case .inProcess: nil
            }
        PlanCallbackRoutes(
            signature: configuration.n8n.map { WebhookSignature(secret: $0.secret) }, store: store, intake: intake,
            fanOut: fanOut, logger: logger.with(label: "clpr.callback")
        ).register(in: &router)
        OperationsRoutes(store: store, hub: hub, planBus: planBus, dispatcher: dispatcher, metrics: metrics)
            .register(in: &router)
        router.get("/*path") { request in
            guard let response = staticFiles.response(for: request.path, request: request) else {
                throw APIError(404, "not_found", "Страница не найдена")
            }
            return response
        }
        router.before.append(RequestGuards.crossOriginCheck(publicURL: configuration.publicURL))
        router.after.append(RequestGuards.addSecurityHeaders)

        self.database = database
        self.store = store
        self.planBus = planBus
        self.hub = hub
        self.intake = intake
        self.dispatcher = dispatcher
        self.metrics = metrics
        self.routes = router.routes.map { ($0.method, $0.pattern) }
        self.server = HTTPServer(
            configuration: .init(
                host: configuration.host, port: configuration.port, threadPoolSize: configuration.httpThreads,
                connectionLimit: configuration.maxStreams + 1024,
                connectionMemoryLimit: configuration.connectionMemory, maxBodySize: configuration.maxBodySize,
                connectionTimeout: configuration.httpIdleTimeout, heartbeatInterval: configuration.heartbeatInterval,
                connectionsPerAddress: configuration.httpConnectionsPerAddress),
            router: router, logger: logger.with(label: "clpr.http"), metrics: httpMetrics)
    }

    /// The gauges and counters read from the parts that keep them (the HTTP and plan counters are registered
    /// by their owners).
    static func registerMetrics(
        in metrics: Metrics, hub: StreamHub, dispatcher: OutboxDispatcher, planBus: PlanBusControl,
        database: Database
    ) {
        metrics.gauge("clpr_plan_streams_open", help: "Claim-plan streams open on this instance.") {
            Double(hub.count)
        }
        metrics.collectedCounter(
            "clpr_outbox_sent_total", help: "Outbox items delivered by this instance since start."
        ) { [.init(value: Double(dispatcher.counts.sent))] }
        metrics.collectedCounter(
            "clpr_outbox_retried_total", help: "Outbox attempts that failed and were scheduled again."
        ) { [.init(value: Double(dispatcher.counts.retried))] }
        metrics.collectedCounter(
            "clpr_outbox_dead_total", help: "Outbox items given up after their maximum age (clpr outbox --dead)."
        ) { [.init(value: Double(dispatcher.counts.dead))] }
        if planBus.reconnectCount != nil {
            metrics.collectedCounter(
                "clpr_redis_reconnects_total", help: "Times the Redis plan subscriber reconnected since start."
            ) { [.init(value: Double(planBus.reconnectCount ?? 0))] }
        }
        if case .postgres(let store) = database {
            metrics.gauge("clpr_db_pool_in_use", help: "PostgreSQL pool connections lent out right now.") {
                Double(store.connectionsInUse)
            }
        }
    }

    /// The outbox dispatcher with a sender per configured integration (none: it stays idle).
    static func makeDispatcher(
        _ configuration: Configuration, store: any OutboxStore, logger: Logger
    ) -> OutboxDispatcher {
        let client = HTTPClient()
        var senders: [any OutboxSender] = []
        if let n8n = configuration.n8n {
            senders.append(
                WebhookSender(
                    kind: .planRequest, url: n8n.webhookURL, signature: WebhookSignature(secret: n8n.secret),
                    client: client))
        }
        if let url = configuration.crmWebhookURL {
            let crmLogger = logger.with(label: "clpr.crm")
            senders.append(
                WebhookSender(
                    kind: .crmContact, url: url, signature: nil, client: client,
                    onDelivered: { item, body in
                        await CRMContacts.keepContactID(of: item, from: body, store: store, logger: crmLogger)
                    }))
        }
        if let telegram = configuration.telegram {
            senders.append(TelegramSender(baseURL: telegram.apiURL, token: telegram.botToken, client: client))
        }
        return OutboxDispatcher(configuration: configuration.outbox, store: store, senders: senders, logger: logger)
    }

    /// Creates or upgrades the database schema (SQLite or PostgreSQL, as configured) and closes it again
    /// (`clpr migrate`).
    public static func migrate(configuration: Configuration, logger: Logger) throws {
        try openDatabase(configuration, logger: logger).close()
    }

    /// Opens and migrates the configured store; a failure is logged with its detail (never a password) before it
    /// is rethrown, since the one-line error the executable prints names only the operation.
    static func openDatabase(_ configuration: Configuration, logger: Logger) throws -> Database {
        do {
            let database = try Database.open(configuration)
            logger.info("database ready", metadata: ["database": "\(configuration.database)"])
            return database
        } catch {
            logger.error(
                "database not usable",
                metadata: ["database": "\(configuration.database)", "error": "\(String(reflecting: error))"])
            throw error
        }
    }

    /// The bound port (after ``start()``).
    public var port: UInt16 { server.port }

    /// Binds and starts serving.
    public func start() throws {
        try server.start()
        planBus.start()
        let intake = self.intake
        let hub = self.hub
        let dispatcher = self.dispatcher
        tasks.withLock {
            $0.append(Task.detached { await intake.run() })
            $0.append(Task.detached { await dispatcher.run() })
            $0.append(Task.detached { await hub.run(interval: .milliseconds(250)) })
        }
        logger.notice(
            "clpr listening",
            metadata: [
                "url": "http://\(configuration.host):\(server.port)/", "planner": configuration.planner.rawValue,
                "database": "\(configuration.database)", "plan_bus": "\(configuration.planBus)",
                "codes": "\(configuration.codeDelivery)",
                "telegram": configuration.telegram.map { "\($0)" } ?? "off",
            ])
    }

    /// Graceful shutdown: stop accepting, end streams, stop background work, close storage.
    public func shutdown() async {
        await server.shutdown()
        await planBus.shutdown()
        for task in tasks.withLock({ $0 }) { task.cancel() }
        database.close()
        logger.notice("clpr stopped")
    }
}

/// A configuration that cannot work, found at start.
public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
}

/// Checks and headers applied to every request and response.
enum RequestGuards {
    /// State-changing requests from another site are refused: the `Origin` (sent by browsers on every POST/PUT/
    /// DELETE) must be the public URL's origin when one is configured (so a proxy that rewrites `Host` does not
    /// break the app), else name the `Host` the request came to. Requests without `Origin` (curl,
    /// server-to-server) rely on SameSite cookies.
    static func crossOriginCheck(publicURL: String?) -> @Sendable (HTTPRequest) throws -> Void {
        let expectedOrigin = publicURL.map(origin(of:))
        return { request in
            guard request.method != .get, request.method != .head, request.method != .options else { return }
            let refused = APIError(403, "cross_origin", "Запрос с другого сайта отклонён")
            if request.headers["Sec-Fetch-Site"] == "cross-site" { throw refused }
            guard let origin = request.headers["Origin"] else { return }
            if let expectedOrigin {
                guard origin.lowercased() == expectedOrigin else { throw refused }
                return
            }
            let originHost = origin.lowercased().split(separator: "/", omittingEmptySubsequences: true).dropFirst()
                .first.map(String.init)
            guard origin != "null", originHost == request.headers["Host"]?.lowercased() else { throw refused }
        }
    }

    /// `https://example.org:8443/path` → `https://example.org:8443` (lowercased, no trailing slash).
    static func origin(of url: String) -> String {
        let lower = url.lowercased()
        guard let schemeEnd = lower.range(of: "://") else { return lower }
        let rest = lower[schemeEnd.upperBound...]
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return String(lower[..<schemeEnd.upperBound]) + host
    }

    /// Strict CSP for pages that did not set their own, plus the usual hardening headers.
    @Sendable static func addSecurityHeaders(_ request: HTTPRequest, _ response: inout HTTPResponse) {
        if response.headers["Content-Security-Policy"] == nil {
            response.headers.replace(
                "Content-Security-Policy",
                "default-src 'self'; script-src 'self' https://telegram.org; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
                    + "frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'; object-src 'none'"
            )
        }
        response.headers.replace("X-Content-Type-Options", "nosniff")
        response.headers.replace("Referrer-Policy", "same-origin")
        response.headers.replace("Cross-Origin-Opener-Policy", "same-origin")
    }
}

/// `/healthz`, `/readyz`, `/metrics` and `/api/openapi.json`.
struct OperationsRoutes: Sendable {
    let store: any ClaimStore
    let hub: StreamHub
    let planBus: PlanBusControl
    let dispatcher: OutboxDispatcher
    let metrics: Metrics

    func register(in router: inout Router) {
        router.get("/healthz") { _ in JSONResponse.make(.object(["status": .string("ok")])) }
        router.get("/metrics") { _ in
            var response = HTTPResponse.text(metrics.render(), contentType: "text/plain; version=0.0.4; charset=utf-8")
            response.headers.replace("Cache-Control", "no-store")
            return response
        }
        router.get("/api/openapi.json") { _ in
            HTTPResponse(
                status: 200,
                headers: ["Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-cache"],
                body: .bytes(Array(OpenAPIDocument.json.utf8)))
        }
        router.get("/readyz") { _ in
            do {
                _ = try await store.drafts(unifiedID: "usr_readiness_probe", limit: 1)
                let outbox = dispatcher.counts
                var body: [String: JSONValue] = [
                    "status": .string("ready"), "open_streams": .number(Double(hub.count)),
                    // Since start, this instance: dead items are also logged and listed by `clpr outbox --dead`.
                    "outbox": .object([
                        "sent": .number(Double(outbox.sent)), "retried": .number(Double(outbox.retried)),
                        "dead": .number(Double(outbox.dead)),
                    ]),
                ]
                if let receiving = planBus.isReceiving {
                    // Without a live subscription no plan reaches this instance's streams.
                    body["redis"] = .string(receiving ? "subscribed" : "unreachable")
                    guard receiving else {
                        return JSONResponse.make(
                            status: 503,
                            .object([
                                "status": .string("unavailable"), "failing": .string("redis"),
                                "open_streams": .number(Double(hub.count)),
                            ]))
                    }
                }
                return JSONResponse.make(.object(body))
            } catch {
                return JSONResponse.make(
                    status: 503, .object(["status": .string("unavailable"), "failing": .string("database")]))
            }
        }
    }
}
