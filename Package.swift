// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "clpr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "clpr", targets: ["clpr"])
    ],
    targets: [
        // MARK: - C libraries (system-library targets, one shim header each)
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),

        // MARK: - Foundations with no knowledge of claims
        .target(name: "Logging"),
        .target(name: "Crypto", dependencies: ["COpenSSL"]),
        .target(name: "HTTPServer", dependencies: ["CMicroHTTPD", "Logging"]),

        // MARK: - Domain (no I/O): types, rules, ports
        .target(name: "AppCore", dependencies: ["Logging"]),

        // MARK: - Adapters
        .target(name: "SQLiteStore", dependencies: ["CSQLite", "AppCore"]),
        .target(name: "PostgresStore", dependencies: ["CPostgres", "AppCore"]),
        .target(name: "InProcessBus", dependencies: ["AppCore"]),

        // MARK: - Application: wires ports to routes
        .target(
            name: "App",
            dependencies: [
                "AppCore", "HTTPServer", "Crypto", "Logging", "SQLiteStore", "PostgresStore", "InProcessBus",
            ]
        ),
        .executableTarget(name: "clpr", dependencies: ["App", "Logging"]),

        // MARK: - Tests
        .target(
            name: "AppTesting", dependencies: ["AppCore", "App", "HTTPServer", "Logging"], path: "Sources/AppTesting"),
        .testTarget(name: "AppCoreTests", dependencies: ["AppCore"]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto"]),
        .testTarget(name: "InProcessBusTests", dependencies: ["InProcessBus", "AppCore"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "Logging"]),
        .testTarget(name: "SQLiteStoreTests", dependencies: ["SQLiteStore", "AppCore", "AppTesting"]),
        .testTarget(name: "PostgresStoreTests", dependencies: ["PostgresStore", "AppCore", "AppTesting"]),
        .testTarget(
            name: "AppTests",
            dependencies: ["App", "AppCore", "AppTesting", "HTTPServer", "Logging", "SQLiteStore", "PostgresStore"]),
    ]
)
