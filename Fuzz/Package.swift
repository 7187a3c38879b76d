// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses for the parsers that take outside input. A package of its own: its executable has no `main`
// of its own (libFuzzer's driver runs), so it cannot link in the main package's normal build. Built and run by
// Fuzz/run.sh (a step of ./test: a short smoke run by default, longer with ./test --long).
let package = Package(
    name: "clpr-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "clpr", path: "..")],
    targets: [
        .executableTarget(
            name: "ClprFuzz",
            dependencies: [.product(name: "ClprModules", package: "clpr")],
            swiftSettings: [.unsafeFlags(["-parse-as-library", "-enable-testing"])]
        )
    ]
)
