import Foundation
import Platform

/// The image the demo builds: the book's kubia app with no registry at all, on the host's
/// static busybox (Debian's busybox-static). The same as Resources/examples/kubia-offline, kept
/// here so that an installed binary needs no other file.
enum DemoImage {
    static let dockerfile = """
        FROM scratch
        COPY busybox /bin/busybox
        RUN ["/bin/busybox", "--install", "-s", "/bin"]
        ADD app.sh /app.sh
        EXPOSE 8080
        ENTRYPOINT ["/bin/sh", "/app.sh"]

        """

    /// What the book's app.js does: answer every request with "You've hit <hostname>".
    static let app = """
        #!/bin/sh
        echo "Kubia server starting..."
        mkdir -p /www
        echo "You've hit $(hostname)" > /www/index.html
        exec httpd -f -p 8080 -h /www

        """

    static let busyboxCandidates = ["/bin/busybox", "/usr/bin/busybox"]

    /// Writes the build context into `directory`.
    static func writeContext(_ directory: String) throws {
        guard let busybox = busyboxCandidates.first(where: { FileSystem.exists($0) }) else {
            throw DemoFailure(step: "preparing the build context",
                              reason: "the demo's image is built from the host's static busybox: apt-get install busybox-static")
        }
        try FileSystem.createDirectory(directory, mode: 0o755)
        try FileSystem.overwrite(directory + "/Dockerfile", dockerfile)
        try FileSystem.overwrite(directory + "/app.sh", app)
        do {
            try FileManager.default.copyItem(atPath: busybox, toPath: directory + "/busybox")
        } catch {
            throw DemoFailure(step: "preparing the build context", reason: "copying \(busybox) to \(directory)/busybox: \(error)")
        }
    }
}
