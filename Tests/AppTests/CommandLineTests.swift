import AppTesting
import Foundation
import Testing

/// `clpr` as an operator meets it: the help lists every variable, and a bad value stops it with one line naming
/// the variable.
@Suite struct CommandLineTests {
    struct Run {
        var status: Int32
        var output: String
    }

    static func run(_ arguments: [String], environment: [String: String] = [:]) async throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcess.binaryPath)
        process.arguments = arguments
        process.environment = environment.merging(["CLPR_WEB_DIR": TestApplication.webDirectory]) { own, _ in own }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = try await offPool { pipe.fileHandleForReading.readDataToEndOfFile() }
        try await offPool { process.waitUntilExit() }
        return Run(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }

    /// Every `CLPR_…` name the environment reader mentions.
    static func variablesRead() throws -> Set<String> {
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Sources/clpr/Environment.swift")
        let text = try String(contentsOf: source, encoding: .utf8)
        let code =
            text.components(separatedBy: "static let documentation")[0]
            + (text.components(separatedBy: "\"\"\"").last ?? "")
        return Set(code.matches(of: /"(CLPR_[A-Z0-9_]+)"/).map { String($0.1) })
    }

    @Test(arguments: [["--help"], ["serve", "--help"]])
    func helpListsEveryVariableTheServerReads(arguments: [String]) async throws {
        let help = try await Self.run(arguments)
        #expect(help.status == 0)
        let listed = Set(help.output.matches(of: /CLPR_[A-Z0-9_]+/).map { String($0.0) })
        let read = try Self.variablesRead()
        #expect(read.count > 30)
        #expect(read.subtracting(listed).isEmpty, "read but not in --help: \(read.subtracting(listed).sorted())")
        #expect(listed.subtracting(read).isEmpty, "in --help but never read: \(listed.subtracting(read).sorted())")
    }

    @Test(arguments: [
        ("CLPR_PORT", "abc"), ("CLPR_REDIS_URL", "http://x"), ("CLPR_DATABASE_URL", "mysql://x"),
        ("CLPR_LOG_LEVEL", "loud"), ("CLPR_PUBLIC_URL", "notaurl"), ("CLPR_DATA_DIR", "/proc/clpr-cannot-exist"),
        ("CLPR_WEB_DIR", "/nonexistent-web"), ("CLPR_N8N_SECRET", "short"),
        ("CLPR_FILES_DIR", "/proc/clpr-cannot-exist"), ("CLPR_DOCUMENT_MAX_BYTES", "12"),
        ("CLPR_DOCUMENTS_PER_CLAIM", "0"),
    ])
    func anUnusableValueStopsServeWithOneLineNamingTheVariable(variable: String, value: String) async throws {
        var environment = ["CLPR_PORT": "0"]
        environment[variable] = value
        if variable == "CLPR_N8N_SECRET" { environment["CLPR_N8N_WEBHOOK_URL"] = "http://127.0.0.1:9/hook" }
        if variable != "CLPR_DATA_DIR" { environment["CLPR_DATA_DIR"] = try ServerProcess.makeDataDirectory() }
        let result = try await Self.run(["serve"], environment: environment)
        #expect(result.status == 2)
        let lines = result.output.split(separator: "\n")
        #expect(lines.count == 1, "\(result.output)")
        #expect(lines.first?.hasPrefix("clpr: \(variable)") == true, "\(result.output)")
    }
}
