// swift-tools-version:6.0
import PackageDescription

// The target graph is the architecture: C shims at the bottom, pure-Swift imaging and protocol
// types above them, the overlay renderer on top of those, and a thin `herdlens` executable last.
// Imports only point down. See docs/architecture.md.
let package = Package(
    name: "HerdLens",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "herdlens", targets: ["herdlens"]),
        .executable(name: "herdlens-codec-worker", targets: ["herdlens-codec-worker"]),
        .library(name: "HerdImaging", targets: ["HerdImaging"]),
        .library(name: "HerdCodecs", targets: ["HerdCodecs"]),
        .library(name: "HerdText", targets: ["HerdText"]),
        .library(name: "HerdProtocol", targets: ["HerdProtocol"]),
        .library(name: "HerdOverlay", targets: ["HerdOverlay"]),
        .library(name: "HerdIdentity", targets: ["HerdIdentity"]),
        .library(name: "HerdRecording", targets: ["HerdRecording"]),
        .library(name: "HerdExport", targets: ["HerdExport"]),
        .library(name: "HerdAnalysis", targets: ["HerdAnalysis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
        .package(url: "https://github.com/hummingbird-project/swift-websocket", from: "1.6.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // System libraries (Debian: libjpeg62-turbo-dev, libpng-dev, libfreetype-dev).
        .systemLibrary(name: "CJPEGLib", pkgConfig: "libjpeg", providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNGLib", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CFreeTypeLib", pkgConfig: "freetype2", providers: [.apt(["libfreetype-dev"])]),

        // C shims: every symbol prefixed, setjmp/longjmp never leaves the .c file.
        .target(name: "CHerdJPEG", dependencies: ["CJPEGLib"], cSettings: [.unsafeFlags(["-O3"])]),
        .target(name: "CHerdPNG", dependencies: ["CPNGLib"]),
        .target(name: "CHerdFreeType", dependencies: ["CFreeTypeLib"]),
        // Spawning and confining codec workers (posix_spawn, rlimits, Landlock, seccomp).
        .target(name: "CHerdWorker"),
        // CRC32C for record framing (SSE 4.2 when present).
        .target(name: "CHerdCRC", cSettings: [.unsafeFlags(["-O3"])]),

        .target(name: "HerdImaging"),
        .target(name: "HerdCodecs", dependencies: ["HerdImaging", "CHerdJPEG", "CHerdPNG"]),
        .target(name: "HerdText", dependencies: ["HerdImaging", "CHerdFreeType"]),
        .target(name: "HerdProtocol"),
        .target(name: "HerdOverlay", dependencies: ["HerdImaging", "HerdCodecs", "HerdText", "HerdProtocol"]),

        // Identities: tokens stored as SHA-256 hashes in SQLite; roles and stream grants.
        .target(
            name: "HerdIdentity",
            dependencies: [
                "HerdProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),

        // Codec workers: untrusted images are parsed, composed and encoded in confined child processes,
        // so a codec fault costs one frame. The pool (server side) and the worker loop share the wire format.
        .target(
            name: "HerdWorker",
            dependencies: [
                "CHerdWorker", "HerdCodecs", "HerdOverlay", "HerdProtocol", "HerdAnalysis",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "herdlens-codec-worker", dependencies: ["HerdWorker"]),

        // Analysis: detectors (device boxes, the built-in pen detector), tracker, counting lines and
        // zones, frame-integrity checks, sensor rules, alerts. Pure Swift on small pictures.
        // Optimised in debug builds too: the live path runs it on every frame, and unoptimised it costs
        // 100-260 ms a frame instead of 4-6 (the test suite streams real frames through it).
        .target(name: "HerdAnalysis", dependencies: ["HerdImaging", "HerdProtocol"], swiftSettings: [.unsafeFlags(["-O"])]),

        // Live path: per-stream pipelines (annotate; header read, compose and encode once in a codec
        // worker) and per-viewer mailboxes.
        .target(
            name: "HerdPipeline",
            dependencies: [
                "HerdWorker", "HerdOverlay", "HerdCodecs", "HerdProtocol", "HerdAnalysis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // Evidence: sessions of hash-chained, CRC-framed records in segment files, group commit, signed
        // checkpoints, the index (SQLite behind `RecordingIndex`), recovery, verify, retention.
        .target(
            name: "HerdRecording",
            dependencies: [
                "CHerdCRC", "HerdProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),

        // HTTP ingest bodies (multipart/form-data), held to our limits. Hand-written: MultipartKit 4.7.1
        // traps on a header-name byte over 0x7F (docs/reliability.md).
        .target(name: "HerdMultipart"),

        // The service: Hummingbird routes, WebSocket ingest and live view, token auth; wires identity to
        // the pipeline. Nothing below it imports Hummingbird.
        // Evidence leaves the server: bundles (ZIP) and MCAP, streamed; bundles verified offline.
        .target(
            name: "HerdExport",
            dependencies: [
                "HerdRecording", "HerdProtocol",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(
            name: "HerdServer",
            dependencies: [
                "HerdPipeline", "HerdIdentity", "HerdProtocol", "HerdCodecs", "HerdWorker", "HerdRecording", "HerdExport", "HerdOverlay", "HerdAnalysis",
                "HerdMultipart",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.copy("Web")]
        ),

        // A field device in software: speaks the ingest protocol, reconnects, re-sends unacknowledged frames.
        .target(
            name: "HerdDevice",
            dependencies: [
                "HerdProtocol",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        .executableTarget(
            name: "herdlens",
            dependencies: [
                "HerdOverlay", "HerdCodecs", "HerdProtocol", "HerdIdentity", "HerdServer", "HerdDevice", "HerdWorker", "HerdRecording", "HerdExport",
                "HerdAnalysis", "HerdImaging",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // libFuzzer harnesses over the Swift parsers of outside bytes (scripts/fuzz.sh builds it with
        // -sanitize=fuzzer,address; a plain build replays inputs). LLVMFuzzerRunDriver is weak in CHerdFuzz.
        .target(name: "CHerdFuzz"),
        .executableTarget(
            name: "herdlens-fuzz",
            dependencies: [
                "CHerdFuzz", "HerdProtocol", "HerdRecording", "HerdExport", "HerdMultipart",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),

        .target(name: "HerdTesting", dependencies: ["HerdImaging", "HerdCodecs"], path: "Tests/HerdTesting"),
        .testTarget(name: "HerdImagingTests", dependencies: ["HerdImaging", "HerdTesting"]),
        .testTarget(name: "HerdCodecsTests", dependencies: ["HerdCodecs", "HerdTesting"]),
        .testTarget(name: "HerdTextTests", dependencies: ["HerdText", "HerdTesting"]),
        .testTarget(name: "HerdProtocolTests", dependencies: ["HerdProtocol", "HerdTesting"]),
        .testTarget(name: "HerdOverlayTests", dependencies: ["HerdOverlay", "HerdTesting"], exclude: ["Golden"]),
        .testTarget(name: "HerdAnalysisTests", dependencies: ["HerdAnalysis", "HerdWorker", "HerdCodecs", "HerdImaging", "HerdProtocol", "HerdTesting"]),
        .testTarget(name: "HerdMultipartTests", dependencies: ["HerdMultipart"]),
        .testTarget(name: "HerdIdentityTests", dependencies: ["HerdIdentity", "HerdTesting"]),
        .testTarget(
            name: "HerdRecordingTests",
            dependencies: ["HerdRecording", "HerdProtocol", "HerdTesting", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "HerdPipelineTests",
            dependencies: ["HerdPipeline", "HerdWorker", "HerdTesting", .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(
            name: "HerdWorkerTests",
            dependencies: [
                "HerdWorker", "HerdTesting", "HerdCodecs", "HerdOverlay", "HerdProtocol", "HerdImaging",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .testTarget(
            name: "HerdServerTests",
            dependencies: [
                "HerdServer", "HerdTesting", "HerdIdentity", "HerdProtocol", "HerdDevice", "HerdCodecs", "HerdImaging", "HerdWorker", "HerdRecording", "HerdExport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSTesting", package: "hummingbird-websocket"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "HerdDeviceTests",
            dependencies: [
                "HerdDevice", "HerdProtocol", "HerdTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "HerdlensTests",
            dependencies: [
                "HerdTesting", "HerdCodecs", "herdlens",
                .product(name: "WSClient", package: "swift-websocket"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
