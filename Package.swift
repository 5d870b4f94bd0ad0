// swift-tools-version:6.0
import PackageDescription

// Dependencies are chosen for CI build time on 2 cores: NIO for the servers, ArgumentParser for the
// CLI, swift-log and service-lifecycle for the daemon. HTTP client (libcurl), archives (libarchive),
// state (SQLite) and SHA-256 (OpenSSL's libcrypto, assembly-optimised) come from Debian's -dev
// packages through tiny C targets, which costs nothing to build.
let package = Package(
    name: "onekube",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "onekube", targets: ["onekube"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.1.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "5.0.1"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
    ],
    targets: [
        // C shims: only what Glibc or the C libraries' variadic/macro APIs do not expose to Swift.
        .target(name: "CLinux"),
        .target(name: "CCurl", linkerSettings: [.linkedLibrary("curl")]),
        .target(name: "CArchive", linkerSettings: [.linkedLibrary("archive")]),
        .target(name: "CSQLite", linkerSettings: [.linkedLibrary("sqlite3")]),
        .target(name: "CCrypto", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "CZlib", linkerSettings: [.linkedLibrary("z")]),

        .target(name: "Platform", dependencies: ["CLinux", "CCrypto"]),
        .target(name: "SQLite", dependencies: ["CSQLite"]),
        .target(name: "HTTPClient", dependencies: [
            "CCurl", "Platform",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "HTTPServer", dependencies: [
            "Platform",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOSSL", package: "swift-nio-ssl"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "Images", dependencies: [
            "Platform", "SQLite", "HTTPClient", "CArchive", "CLinux",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "PortForwarding", dependencies: [
            "CLinux", "Platform",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "ContainerRuntime", dependencies: [
            "Platform", "CLinux", "PortForwarding",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "KubeModel", dependencies: ["Platform"]),
        .target(name: "KubeProtobuf", dependencies: ["KubeModel", "Platform"]),
        .target(name: "ObjectStore", dependencies: [
            "Platform", "SQLite",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "DequeModule", package: "swift-collections"),
        ]),
        .target(name: "Registry", dependencies: [
            "KubeModel", "ObjectStore", "Platform",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Controllers", dependencies: [
            "KubeModel", "ObjectStore", "Registry", "Platform",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "ClusterDNS", dependencies: [
            "KubeModel", "ObjectStore", "Platform",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "ServiceProxy", dependencies: [
            "KubeModel", "ObjectStore", "Platform", "PortForwarding",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "NodeAgent", dependencies: [
            "KubeModel", "ObjectStore", "Registry", "Platform",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "NodeRuntime", dependencies: [
            "NodeAgent", "ContainerRuntime", "Images", "APIServer", "Platform",
            .product(name: "Logging", package: "swift-log"),
        ]),
        // Wire formats of kubectl's streams (WebSocket, channel.k8s.io, SPDY/3.1): pure codecs, no I/O.
        .target(name: "KubeStreams", dependencies: ["CZlib", "CCrypto", "Platform"]),
        .target(name: "APIServer", dependencies: [
            "KubeModel", "KubeProtobuf", "ObjectStore", "Registry", "HTTPServer", "Platform", "KubeStreams",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // docker build (Dockerfile, layers from overlay upper dirs, build cache), save and load.
        .target(name: "ImageBuilder", dependencies: [
            "Images", "ContainerRuntime", "Platform", "HTTPClient", "CArchive", "CLinux", "CZlib",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "DockerAPI", dependencies: [
            "Images", "HTTPServer", "Platform", "ContainerRuntime", "ImageBuilder",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // PodStreaming (exec, attach, port-forward) over onekube's container runtime.
        .target(name: "PodStreams", dependencies: [
            "APIServer", "ContainerRuntime", "Platform",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "Daemon", dependencies: [
            "DockerAPI", "Images", "HTTPServer", "Platform", "APIServer", "Controllers", "NodeAgent", "ObjectStore",
            "Registry", "KubeModel", "SQLite", "ContainerRuntime", "NodeRuntime", "PodStreams", "ServiceProxy", "ClusterDNS", "ImageBuilder",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
        .target(name: "CLI", dependencies: [
            "Daemon", "HTTPClient", "Images", "Platform", "NodeAgent", "ContainerRuntime", "DockerAPI", "KubeModel", "ImageBuilder", "KubeStreams",
            .product(name: "Yams", package: "Yams"),
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "onekube", dependencies: ["CLI", "ContainerRuntime"]),

        .target(name: "TestSupport", dependencies: ["Platform", "HTTPClient"], path: "Tests/TestSupport"),
        .testTarget(name: "PlatformTests", dependencies: ["Platform"]),
        .testTarget(name: "ImageBuilderTests", dependencies: ["ImageBuilder", "Images", "Platform", "CLinux"]),
        .testTarget(name: "ImagesTests", dependencies: ["Images", "Platform", "TestSupport", "CLinux"]),
        .testTarget(name: "IntegrationTests", dependencies: ["TestSupport", "Platform", "HTTPClient"]),
        .testTarget(name: "CLITests", dependencies: ["CLI", "Platform", "HTTPClient"]),
        .testTarget(name: "ContainerRuntimeTests", dependencies: ["ContainerRuntime", "Platform", "TestSupport"]),
        .testTarget(name: "DockerAPITests", dependencies: ["DockerAPI", "ContainerRuntime", "Images", "Platform"]),
        .testTarget(name: "PortForwardingTests", dependencies: [
            "PortForwarding", "TestSupport",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .testTarget(name: "ObjectStoreTests", dependencies: ["ObjectStore", "Platform", "SQLite"]),
        .testTarget(name: "KubeStreamsTests", dependencies: ["KubeStreams", "CZlib", "Platform"]),
        .testTarget(name: "APIServerTests", dependencies: [
            "APIServer", "HTTPServer", "KubeModel", "Platform",
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "KubeModelTests", dependencies: ["KubeModel", "Platform"]),
        .testTarget(name: "KubeProtobufTests", dependencies: ["KubeProtobuf", "KubeModel", "Platform"]),
        .testTarget(name: "ControllersTests", dependencies: ["Controllers", "KubeModel", "Platform"]),
        .testTarget(name: "ClusterDNSTests", dependencies: ["ClusterDNS", "Platform"]),
        .testTarget(name: "NodeAgentTests", dependencies: ["NodeAgent", "Registry", "ObjectStore", "SQLite", "KubeModel", "Platform"]),
        .testTarget(name: "ServiceProxyTests", dependencies: ["ServiceProxy", "ObjectStore", "SQLite", "Platform"]),
    ],
    swiftLanguageModes: [.v6]
)
