import ContainerRuntime
import Testing

@Suite("Root file system plans")
struct RootfsPlanTests {
    let etc = RootfsPlan.EtcFiles(hostname: "/c/hostname", hosts: "/c/hosts", resolvConf: "/c/resolv.conf")

    @Test func overlayListsTheTopLayerFirst() {
        let plan = RootfsPlan.container(layers: ["/l/base", "/l/app"], containerDirectory: "/c", etc: etc)
        #expect(plan.overlayOptions == "lowerdir=/l/app:/l/base,upperdir=/c/upper,workdir=/c/work")
        #expect(plan.mountPoint == "/c/rootfs")
    }

    @Test func standardMountsAreDockers() throws {
        let steps = RootfsPlan.standardSteps(etc: etc)
        #expect(steps.first == .mount(type: "proc", source: "proc", target: "/proc", flags: [.noSuid, .noDev, .noExec], data: ""))
        #expect(steps.contains(.mount(type: "sysfs", source: "sysfs", target: "/sys", flags: [.noSuid, .noDev, .noExec, .readOnly], data: "")))
        #expect(steps.contains(.mount(type: "devpts", source: "devpts", target: "/dev/pts", flags: [.noSuid, .noExec],
                                      data: "newinstance,ptmxmode=0666,mode=0620,gid=5")))
        #expect(steps.contains(.mount(type: "mqueue", source: "mqueue", target: "/dev/mqueue", flags: [.noSuid, .noDev, .noExec], data: "")))
        for device in ["null", "zero", "full", "random", "urandom", "tty"] {
            #expect(steps.contains(.bind(source: "/dev/\(device)", target: "/dev/\(device)", readOnly: false)))
        }
        #expect(steps.contains(.symlink(target: "pts/ptmx", at: "/dev/ptmx")))
        #expect(steps.contains(.bind(source: "/c/hosts", target: "/etc/hosts", readOnly: false)))
        #expect(steps.contains(.mask(path: "/proc/kcore")))
        #expect(steps.contains(.readOnly(path: "/proc/sys")))
        // /dev is mounted before anything inside it.
        let dev = try #require(steps.firstIndex(of: .mount(type: "tmpfs", source: "tmpfs", target: "/dev",
                                                           flags: [.noSuid, .noDev, .strictAtime], data: "mode=755,size=65536k")))
        let null = try #require(steps.firstIndex(of: .bind(source: "/dev/null", target: "/dev/null", readOnly: false)))
        #expect(dev < null)
    }

    @Test(arguments: [
        ("/etc/hosts", [:], "/r/etc/hosts"),
        ("/etc/hosts", ["/r/etc": "/../../host/etc"], "/r/host/etc/hosts"),
        ("/etc/hosts", ["/r/etc": "../../../"], "/r/hosts"),
        ("/a/b", ["/r/a": "/x", "/r/x": "y"], "/r/y/b"),
        ("/../../etc", [:], "/r/etc"),
    ] as [(String, [String: String], String)])
    func containedPathsNeverLeaveTheRoot(path: String, links: [String: String], expected: String) {
        #expect(ContainedPath.resolve(path, in: "/r", readLink: { links[$0] }) == expected)
    }
}
