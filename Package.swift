// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "clpr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "clpr", targets: ["clpr"]),
        // Only for Fuzz/Package.swift (libFuzzer harnesses, a package of its own): a package dependency sees products.
        .library(name: "ClprModules", targets: ["AppCore", "HTTPServer", "Crypto", "App"]),
    ],
    targets: [
        // MARK: - C libraries (system-library targets, one shim header each)
        .systemLibrary(name: "CMicroHTTPD", pkgConfig: "libmicrohttpd", providers: [.apt(["libmicrohttpd-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "COpenSSL", pkgConfig: "libcrypto", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CPostgres", pkgConfig: "libpq", providers: [.apt(["libpq-dev"])]),
        // No pkgConfig: hiredis.pc only adds -D_FILE_OFFSET_BITS=64, which SwiftPM drops with a warning.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CJansson", pkgConfig: "jansson", providers: [.apt(["libjansson-dev"])]),
        // No pkgConfig: libcurl.pc only adds the default include directory; curl.h is on the standard path.
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // MARK: - Foundations with no knowledge of claims
        .target(name: "Logging"),
        .target(name: "Crypto", dependencies: ["COpenSSL"]),
        .target(name: "HTTPServer", dependencies: ["CMicroHTTPD", "Logging"]),
        .target(name: "HTTPClient", dependencies: ["CCurl"]),

        // MARK: - Domain (no I/O): types, rules, ports
        // jansson reads plan payloads: every plan message of every instance is parsed, so it is a hot path.
        .target(name: "AppCore", dependencies: ["Logging", "CJansson"]),

        // MARK: - Adapters
        // The pure code both stores share: claim payload JSON, timestamp text.
        .target(name: "StoreCodec", dependencies: ["AppCore", "CJansson"]),
        .target(name: "SQLiteStore", dependencies: ["CSQLite", "AppCore", "StoreCodec"]),
        .target(name: "PostgresStore", dependencies: ["CPostgres", "AppCore", "StoreCodec"]),
        .target(name: "InProcessBus", dependencies: ["AppCore"]),
        .target(name: "RedisBus", dependencies: ["CHiredis", "AppCore", "Logging"]),

        // MARK: - Application: wires ports to routes
        .target(
            name: "App",
            dependencies: [
                "AppCore", "HTTPServer", "HTTPClient", "Crypto", "Logging", "SQLiteStore", "PostgresStore",
                "InProcessBus", "RedisBus",
            ]
        ),
        .executableTarget(name: "clpr", dependencies: ["App", "Logging"]),

        // MARK: - Tests
        .target(
            name: "AppTesting", dependencies: ["AppCore", "App", "Crypto", "HTTPServer", "Logging", "PostgresStore"],
            path: "Sources/AppTesting"),
        .testTarget(name: "AppCoreTests", dependencies: ["AppCore"]),
        .testTarget(name: "CryptoTests", dependencies: ["Crypto"]),
        .testTarget(name: "InProcessBusTests", dependencies: ["InProcessBus", "AppCore"]),
        .testTarget(name: "RedisBusTests", dependencies: ["RedisBus", "AppCore", "AppTesting", "Logging"]),
        .testTarget(name: "HTTPServerTests", dependencies: ["HTTPServer", "Logging"]),
        .testTarget(name: "HTTPClientTests", dependencies: ["HTTPClient"]),
        .testTarget(name: "StoreCodecTests", dependencies: ["StoreCodec", "AppCore"]),
        .testTarget(name: "SQLiteStoreTests", dependencies: ["SQLiteStore", "AppCore", "AppTesting"]),
        .testTarget(name: "PostgresStoreTests", dependencies: ["PostgresStore", "AppCore", "AppTesting"]),
        .testTarget(
            name: "AppTests",
            dependencies: [
                "App", "AppCore", "AppTesting", "Crypto", "HTTPServer", "Logging", "SQLiteStore", "PostgresStore",
            ]),
    ]
)
