import ArgumentParser
import Daemon
import Foundation

/// `--data-dir`, else `ONEKUBE_DATA_DIR`, else /var/lib/onekube — for every subcommand.
enum DataDirectory {
    static func resolve(_ flag: String?) -> String {
        if let flag, !flag.isEmpty { return absolute(flag) }
        if let env = ProcessInfo.processInfo.environment["ONEKUBE_DATA_DIR"], !env.isEmpty { return absolute(env) }
        return DaemonConfiguration.defaultDataDirectory
    }

    static func absolute(_ path: String) -> String {
        if path.hasPrefix("/") { return path }
        return FileManager.default.currentDirectoryPath + "/" + path
    }
}

struct DataDirectoryOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Where onekube keeps its state (default /var/lib/onekube, or $ONEKUBE_DATA_DIR).")
    var dataDirectory: String?

    var resolved: String { DataDirectory.resolve(dataDirectory) }
    var configuration: DaemonConfiguration { DaemonConfiguration(dataDirectory: resolved) }
}
