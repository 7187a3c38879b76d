import App
import Dispatch
import Logging

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
        default:
            printError("clpr: unknown command '\(command)'\n\n\(usage)")
            return 2
        }
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
