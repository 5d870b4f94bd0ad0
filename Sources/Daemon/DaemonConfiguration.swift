import Images

/// Everything `onekube start` was told, and the paths that follow from the data directory.
public struct DaemonConfiguration: Sendable {
    public static let defaultDataDirectory = "/var/lib/onekube"

    public var dataDirectory: String
    public var registryMirrors: [String]
    public var insecureRegistries: [String]

    public init(dataDirectory: String, registryMirrors: [String] = [], insecureRegistries: [String] = []) {
        self.dataDirectory = dataDirectory
        self.registryMirrors = registryMirrors
        self.insecureRegistries = insecureRegistries
    }

    public var runDirectory: String { dataDirectory + "/run" }
    public var dockerSocketPath: String { runDirectory + "/docker.sock" }
    public var pidFilePath: String { runDirectory + "/onekube.pid" }
    public var logPath: String { dataDirectory + "/onekube.log" }
    public var databasePath: String { dataDirectory + "/state.db" }

    public var registry: RegistryConfiguration {
        RegistryConfiguration(mirrors: registryMirrors, insecureRegistries: insecureRegistries)
    }
}
