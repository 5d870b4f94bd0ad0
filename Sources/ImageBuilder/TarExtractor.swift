import CArchive
import Glibc
import Platform

/// Extracts a tar (plain or compressed; libarchive detects which) below a directory. Entry names
/// that are absolute or climb with `..` are refused, and libarchive's secure-symlinks check keeps
/// an entry from being written through a symlink an earlier entry made.
public enum TarExtractor {
    public struct Options: Sendable {
        /// Keep owners from the tar (otherwise the extracting user owns everything).
        public var keepOwners: Bool
        /// Owner forced on every entry (`ADD --chown`).
        public var owner: (uid: uid_t, gid: gid_t)?

        public init(keepOwners: Bool = true, owner: (uid: uid_t, gid: gid_t)? = nil) {
            self.keepOwners = keepOwners
            self.owner = owner
        }
    }

    /// Whether the file starts like an archive libarchive can read (ADD's auto-extraction test).
    public static func isArchive(_ path: String) -> Bool {
        guard let a = archive_read_new() else { return false }
        defer { archive_read_free(a) }
        archive_read_support_filter_all(a)
        archive_read_support_format_tar(a)
        archive_read_support_format_gnutar(a)
        guard archive_read_open_filename(a, path, 1 << 16) == ARCHIVE_OK else { return false }
        var entry: OpaquePointer?
        return archive_read_next_header(a, &entry) == ARCHIVE_OK
    }

    /// Extracts the file at `path` into `directory`; returns the relative names written.
    @discardableResult
    public static func extract(file path: String, into directory: String, options: Options = Options()) throws -> [String] {
        guard let reader = archive_read_new() else { throw OnekubeError(.internalError, "archive_read_new failed") }
        defer { archive_read_free(reader) }
        archive_read_support_filter_all(reader)
        archive_read_support_format_tar(reader)
        archive_read_support_format_gnutar(reader)
        guard archive_read_open_filename(reader, path, 1 << 17) == ARCHIVE_OK else {
            throw archiveError(reader, "opening \(path)")
        }
        guard let disk = archive_write_disk_new() else { throw OnekubeError(.internalError, "archive_write_disk_new failed") }
        defer { archive_write_free(disk) }
        var flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT
        if options.keepOwners || options.owner != nil { flags |= ARCHIVE_EXTRACT_OWNER }
        archive_write_disk_set_options(disk, flags)
        var names: [String] = []
        var entry: OpaquePointer?
        while true {
            let rc = archive_read_next_header(reader, &entry)
            if rc == ARCHIVE_EOF { break }
            guard rc == ARCHIVE_OK || rc == ARCHIVE_WARN, let entry else { throw archiveError(reader, "reading \(path)") }
            let name = archive_entry_pathname(entry).map { String(cString: $0) } ?? ""
            let cleaned = try contained(name, archive: path)
            if cleaned.isEmpty { continue }
            archive_entry_set_pathname(entry, directory + "/" + cleaned)
            let hardlink = archive_entry_hardlink(entry).map { String(cString: $0) }
            if let hardlink {
                archive_entry_set_hardlink(entry, directory + "/" + (try contained(hardlink, archive: path)))
            }
            if let owner = options.owner {
                archive_entry_set_uid(entry, la_int64_t(owner.uid))
                archive_entry_set_gid(entry, la_int64_t(owner.gid))
            }
            let type = archive_entry_filetype(entry)
            // A hard link has no file type of its own in libarchive.
            guard hardlink != nil || type == mode_t(Glibc.S_IFREG) || type == mode_t(Glibc.S_IFDIR) || type == mode_t(Glibc.S_IFLNK) else {
                // Devices and fifos have no place in a build context or an ADDed archive.
                continue
            }
            guard archive_write_header(disk, entry) == ARCHIVE_OK else { throw archiveError(disk, "extracting \(name) from \(path)") }
            var block: UnsafeRawPointer?
            var size = 0
            var offset: la_int64_t = 0
            while true {
                let r = archive_read_data_block(reader, &block, &size, &offset)
                if r == ARCHIVE_EOF { break }
                guard r == ARCHIVE_OK else { throw archiveError(reader, "reading \(name) from \(path)") }
                guard archive_write_data_block(disk, block, size, offset) == ARCHIVE_OK else {
                    throw archiveError(disk, "writing \(name) from \(path)")
                }
            }
            guard archive_write_finish_entry(disk) == ARCHIVE_OK else { throw archiveError(disk, "finishing \(name) from \(path)") }
            names.append(cleaned)
        }
        guard archive_write_close(disk) == ARCHIVE_OK else { throw archiveError(disk, "closing extraction into \(directory)") }
        return names
    }

    /// `a/./b/` → `a/b`; absolute names and `..` are refused.
    static func contained(_ name: String, archive: String) throws -> String {
        if name.hasPrefix("/") { throw OnekubeError(.invalidArgument, "\(archive): entry \(name) has an absolute path") }
        var parts: [Substring] = []
        for element in name.split(separator: "/") where element != "." && !element.isEmpty {
            if element == ".." { throw OnekubeError(.invalidArgument, "\(archive): entry \(name) leaves the archive's root") }
            parts.append(element)
        }
        return parts.joined(separator: "/")
    }

    static func archiveError(_ a: OpaquePointer, _ what: String) -> OnekubeError {
        let message = archive_error_string(a).map { String(cString: $0) } ?? "unknown error"
        return OnekubeError(.invalidArgument, "\(what): \(message)")
    }
}
