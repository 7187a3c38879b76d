import App
import Dispatch
import Logging
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// `clpr serve | migrate | help`.
enum Command {
    static let usage = """
        Usage: clpr <command>

        Commands:
          serve     run the server (default)
          migrate   create or upgrade the database schema, then exit
          bench-seed --count N --tokens-file FILE
                    create N submitted claims, each with its own signed-in session, and write
                    TOKEN<TAB>COOKIE lines for bench/loadgen.py --tokens-file (load tests only)
          bench-seed --people N --people-file FILE
                    sign in N people (+7 9XX numbers, created when absent) and write PHONE<TAB>COOKIE lines
                    (WIZARD_PEOPLE_FILE of bench/wizard; load tests only)
          bench-seed --users N --ids-file FILE
                    sign in N random existing users of the database and write UNIFIED_ID<TAB>COOKIE lines
                    (DRAFTS_IDS_FILE of bench/wizard; load tests only)
          backfill-unified-id [--dry-run]
                    give legacy claims without a unified_id their owner, found by payload.phone (user and
                    web_form account created when missing); batched, idempotent; prints scanned / fixed /
                    skipped counts. --dry-run changes nothing and prints what it would do
          outbox [--dead]
                    list the outgoing calls waiting for (another) attempt, or with --dead the ones given up
                    (id, kind, key, attempts, times, last error; phones masked)
          help      show this text

        Environment (all optional; unset means the embedded default):
        \(Environment.documentation)
        """

    static func main(arguments: [String]) -> Int32 {
        let command = arguments.first ?? "serve"
        if arguments.contains("--help") || arguments.contains("-h") || command == "help" {
            print(usage)
            return 0
        }
        let configuration: Application.Configuration
        do {
            configuration = try Environment.configuration(from: Environment.current())
            // `serve` needs both directories; the other commands the data directory only when it holds the database.
            let usesSQLiteFile = if case .sqlite = configuration.database { true } else { false }
            let opensStore = ["migrate", "bench-seed", "backfill-unified-id", "outbox"].contains(command)
            if command == "serve" || (opensStore && usesSQLiteFile) {
                try Environment.checkDirectories(of: configuration, serving: command == "serve")
            }
        } catch {
            printError("clpr: \(error)")
            return 2
        }
        let logger = Logger(label: "clpr", logLevel: Logger.Level(name: configuration.logLevel) ?? .info)
        switch command {
        case "serve": return serve(configuration, logger: logger)
        case "migrate":
            do {
                try Application.migrate(configuration: configuration, logger: logger)
                logger.notice("migrations applied")
                return 0
            } catch {
                printError("clpr: \(error)")
                return 1
            }
        case "bench-seed":
            return benchSeed(Array(arguments.dropFirst()), configuration: configuration)
        case "outbox":
            return outbox(Array(arguments.dropFirst()), configuration: configuration)
        case "backfill-unified-id":
            return backfillUnifiedID(Array(arguments.dropFirst()), configuration: configuration, logger: logger)
        default:
            printError("clpr: unknown command '\(command)'\n\n\(usage)")
            return 2
        }
    }

    static func backfillUnifiedID(
        _ arguments: [String], configuration: Application.Configuration, logger: Logger
    ) -> Int32 {
        guard arguments.allSatisfy({ $0 == "--dry-run" }) else {
            printError("clpr: usage: clpr backfill-unified-id [--dry-run]")
            return 2
        }
        let dryRun = arguments.contains("--dry-run")
        let outcome = runBlocking {
            "\(try await Backfill.run(configuration: configuration, dryRun: dryRun, logger: logger))"
        }
        guard case .success(let text) = outcome else {
            printError("clpr: backfill-unified-id failed: \(outcome.failureText)")
            return 1
        }
        print(text)
        return 0
    }

    static func outbox(_ arguments: [String], configuration: Application.Configuration) -> Int32 {
        guard arguments.allSatisfy({ $0 == "--dead" }) else {
            printError("clpr: usage: clpr outbox [--dead]")
            return 2
        }
        let dead = arguments.contains("--dead")
        let outcome = runBlocking { try await Application.outboxListing(configuration: configuration, dead: dead) }
        guard case .success(let text) = outcome else {
            printError("clpr: outbox failed: \(outcome.failureText)")
            return 1
        }
        print(text)
        return 0
    }

    static func benchSeed(_ arguments: [String], configuration: Application.Configuration) -> Int32 {
        var options: [String: String] = [:]
        var index = 0
        while index + 1 < arguments.count {
            options[arguments[index]] = arguments[index + 1]
            index += 2
        }
        let mode: BenchSeeder.Mode
        let path: String
        if let count = options["--count"].flatMap(Int.init), let file = options["--tokens-file"] {
            (mode, path) = (.submittedClaims(count: count), file)
        } else if let count = options["--people"].flatMap(Int.init), let file = options["--people-file"] {
            (mode, path) = (.people(count: count), file)
        } else if let count = options["--users"].flatMap(Int.init), let file = options["--ids-file"] {
            (mode, path) = (.existingUsers(count: count), file)
        } else {
            printError(
                "clpr: usage: clpr bench-seed --count N --tokens-file FILE | --people N --people-file FILE"
                    + " | --users N --ids-file FILE")
            return 2
        }
        guard (1...1_000_000).contains(mode.count) else {
            printError("clpr: bench-seed: N must be in 1...1000000")
            return 2
        }
        let outcome = runBlocking {
            try await BenchSeeder.seed(mode, configuration: configuration).joined(separator: "\n") + "\n"
        }
        guard case .success(let text) = outcome else {
            printError("clpr: bench-seed failed: \(outcome.failureText)")
            return 1
        }
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)  // the file holds live session cookies
        guard fd >= 0 else {
            printError("clpr: cannot write \(path)")
            return 1
        }
        defer { close(fd) }
        var bytes = Array(text.utf8)
        let written = bytes.withUnsafeMutableBytes { write(fd, $0.baseAddress, $0.count) }
        return written == bytes.count ? 0 : 1
    }

    /// Runs until SIGTERM or SIGINT, then shuts down gracefully.
    static func serve(_ configuration: Application.Configuration, logger: Logger) -> Int32 {
        // Block the signals before any thread exists so every thread inherits the mask and only sigwait sees them.
        var signals = sigset_t()
        sigemptyset(&signals)
        sigaddset(&signals, SIGTERM)
        sigaddset(&signals, SIGINT)
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        signal(SIGPIPE, SIG_IGN)

        let application: Application
        do {
            application = try Application(configuration: configuration, logger: logger)
            try application.start()
        } catch {
            printError("clpr: \(error)")
            return 1
        }
        var received: Int32 = 0
        sigwait(&signals, &received)
        logger.notice("shutting down", metadata: ["signal": received == SIGTERM ? "SIGTERM" : "SIGINT"])
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            await application.shutdown()
            done.signal()
        }
        done.wait()
        return 0
    }

    static func printError(_ text: String) {
        var bytes = Array((text + "\n").utf8)
        bytes.withUnsafeMutableBytes { _ = write(2, $0.baseAddress, $0.count) }
    }
}

extension Command {
    /// Runs async work from the synchronous command and waits for it (the commands run before, or instead of,
    /// the server's event loops, so blocking the main thread here is what is wanted).
    static func runBlocking(_ work: @escaping @Sendable () async throws -> String) -> Result<String, CommandFailure> {
        let done = DispatchSemaphore(value: 0)
        let box = OutcomeBox()
        Task.detached {
            let result: Result<String, CommandFailure>
            do { result = .success(try await work()) } catch { result = .failure(CommandFailure(text: "\(error)")) }
            box.set(result)
            done.signal()
        }
        done.wait()
        return box.get() ?? .failure(CommandFailure(text: "no result"))
    }
}

/// Carries the detached task's result back to the waiting command.
private final class OutcomeBox: Sendable {
    private let value = Mutex<Result<String, CommandFailure>?>(nil)

    func set(_ result: Result<String, CommandFailure>) { value.withLock { $0 = result } }
    func get() -> Result<String, CommandFailure>? { value.withLock { $0 } }
}

/// Why a command's async work failed, as printed.
struct CommandFailure: Error {
    var text: String
}

extension Result where Failure == CommandFailure {
    var failureText: String {
        if case .failure(let failure) = self { return failure.text }
        return ""
    }
}
