import ArgumentParser
import Foundation
import Images
import Platform

struct DockerVersion: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Show the Docker version information")

    @OptionGroup var global: DockerGlobalOptions

    func run() throws {
        try dockerRun {
            let platform = PlatformSelector.host
            Console.out("""
                Client: onekube
                 Version:           \(OnekubeVersion.string)
                 API version:       1.50
                 OS/Arch:           linux/\(platform.architecture)

                """)
            let response = try global.client.request("GET", "/version")
            guard response.isSuccess else { throw DockerClient.daemonError(response) }
            let v = try response.json()
            let name = v["Platform"]?["Name"]?.stringValue ?? ""
            Console.out("""

                Server: \(name)
                 Engine:
                  Version:          \(v["Version"]?.stringValue ?? "")
                  API version:      \(v["ApiVersion"]?.stringValue ?? "") (minimum version \(v["MinAPIVersion"]?.stringValue ?? ""))
                  OS/Arch:          \(v["Os"]?.stringValue ?? "")/\(v["Arch"]?.stringValue ?? "")
                  Experimental:     false

                """)
        }
    }
}

struct DockerInfo: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "info", abstract: "Display system-wide information")

    @OptionGroup var global: DockerGlobalOptions

    func run() throws {
        try dockerRun {
            let response = try global.client.request("GET", "/info")
            guard response.isSuccess else { throw DockerClient.daemonError(response) }
            let info = try response.json()
            func s(_ key: String) -> String { info[key]?.stringValue ?? info[key]?.intValue.map(String.init) ?? "" }
            Console.out("""
                Server:
                 Containers: \(s("Containers"))
                  Running: \(s("ContainersRunning"))
                  Paused: \(s("ContainersPaused"))
                  Stopped: \(s("ContainersStopped"))
                 Images: \(s("Images"))
                 Server Version: \(s("ServerVersion"))
                 Storage Driver: \(s("Driver"))
                 Cgroup Driver: \(s("CgroupDriver"))
                 Cgroup Version: \(s("CgroupVersion"))
                 Kernel Version: \(s("KernelVersion"))
                 Operating System: \(s("OperatingSystem"))
                 OSType: \(s("OSType"))
                 Architecture: \(s("Architecture"))
                 CPUs: \(s("NCPU"))
                 Total Memory: \(HumanSize.binary(info["MemTotal"]?.intValue ?? 0))
                 Name: \(s("Name"))
                 Docker Root Dir: \(s("DockerRootDir"))

                """)
        }
    }
}
