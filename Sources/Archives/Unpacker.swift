import Foundation
import KFCCore

internal import CArchive

#if canImport(Glibc)
    import Glibc
#endif

/// The counts and times of one unpack.
public struct UnpackSummary: Sendable {
    /// The number of entries written.
    public var entries: Int
    /// The newest modification time of any entry, which recipes use as the default epoch.
    public var newestModification: TimeSpec
}

/// Unpacks archives into a folder with owners, modes, links, devices, xattrs and times as
/// stored, never writing outside that folder.
public enum Unpacker {
    /// libarchive's extraction flags: keep ownership (numeric ids, as no name lookup is set),
    /// permissions with setuid/setgid/sticky, times, ACLs and xattrs, and reject entries that
    /// would pass through a symlink or contain `..`.
    static let flags: Int32 =
        ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME
        | ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_FFLAGS
        | ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT
        | ARCHIVE_EXTRACT_SPARSE | ARCHIVE_EXTRACT_UNLINK

    /// Unpacks `archive` into `destination`, which must be an existing folder.
    ///
    /// Entry names are checked before libarchive gets them: a name or hard link target
    /// with a `..` component is an error, and a leading `/` is dropped. On failure the
    /// entries written so far stay; the caller owns and removes the folder.
    ///
    /// `displayName` names the archive in messages; it defaults to the file's name.
    public static func unpack(
        _ archive: String, into destination: String, displayName: String? = nil, logger: Logger
    ) throws -> UnpackSummary {
        let root = try resolvedRoot(destination)
        let reader = try ArchiveReader(path: archive)
        guard let writer = archive_write_disk_new() else {
            throw KFCError.failed("unpack \(archive)", "could not create a libarchive writer")
        }
        defer { archive_write_free(writer) }
        archive_write_disk_set_options(writer, flags)

        let name = displayName ?? (archive as NSString).lastPathComponent
        let progress = ProgressMeter(
            "unpack \(name)", total: try? FileSystem.size(archive), logger: logger)
        var summary = UnpackSummary(entries: 0, newestModification: TimeSpec(seconds: 0))
        var entry: OpaquePointer?
        while true {
            let status = archive_read_next_header(reader.handle, &entry)
            if status == ARCHIVE_EOF { break }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
                throw KFCError.invalid("unpack \(name)", ArchiveReader.message(reader.handle))
            }
            let described = try ArchiveReader.describe(entry, archive: name)
            try place(entry, described, root: root, archive: name)
            try write(entry, described, from: reader, to: writer, archive: name, logger: logger)
            summary.entries += 1
            summary.newestModification = max(
                summary.newestModification, described.modificationTime)
            progress.update(archive_filter_bytes(reader.handle, -1))
        }
        progress.finish(archive_filter_bytes(reader.handle, -1))
        guard archive_write_close(writer) == ARCHIVE_OK else {
            throw KFCError.failed("unpack \(name)", ArchiveReader.message(writer))
        }
        logger.info("unpacked", [("archive", name), ("entries", "\(summary.entries)")])
        return summary
    }

    /// Points the entry's path (and hard link target) below `root` and checks that its
    /// parent folder, as it exists on disk now, is inside `root`.
    private static func place(
        _ entry: OpaquePointer, _ described: ArchiveEntry, root: String, archive: String
    ) throws {
        let full = root.utf8 + [UInt8(ascii: "/")] + described.path
        setPath(full) { archive_entry_copy_pathname(entry, $0) }
        if let target = described.hardlinkTarget {
            setPath(root.utf8 + [UInt8(ascii: "/")] + target) {
                archive_entry_copy_hardlink(entry, $0)
            }
        }
        try checkParent(of: full, root: root, entry: described, archive: archive)
    }

    private static func write(
        _ entry: OpaquePointer, _ described: ArchiveEntry, from reader: ArchiveReader,
        to writer: OpaquePointer, archive: String, logger: Logger
    ) throws {
        let context = "unpack \(archive): entry '\(described.displayPath)'"
        var status = archive_write_header(writer, entry)
        if status == ARCHIVE_WARN {
            // libarchive warns when an xattr or ACL could not be set; the file is there.
            logger.warning(
                "entry written without some of its metadata",
                [("entry", described.displayPath), ("reason", ArchiveReader.message(writer))])
        } else if status != ARCHIVE_OK {
            throw KFCError.failed(context, ArchiveReader.message(writer))
        }
        if archive_entry_size(entry) > 0 {
            while let block = try reader.readBlock() {
                let written = archive_write_data_block(
                    writer, block.bytes.baseAddress, block.bytes.count, block.offset)
                guard written >= ARCHIVE_OK else {
                    throw KFCError.failed(context, ArchiveReader.message(writer))
                }
            }
        }
        status = archive_write_finish_entry(writer)
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN else {
            throw KFCError.failed(context, ArchiveReader.message(writer))
        }
    }

    /// Resolves `destination` to its real path, so no symlink above the root is in play.
    private static func resolvedRoot(_ destination: String) throws -> String {
        guard let resolved = realpath(destination, nil) else {
            throw SystemCall.error("unpack into \(destination)", errno: errno)
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Our own check beside libarchive's: the entry's parent, resolved with every symlink
    /// on disk, must still be `root` or below it.
    private static func checkParent(
        of full: [UInt8], root: String, entry: ArchiveEntry, archive: String
    ) throws {
        guard let slash = full.lastIndex(of: UInt8(ascii: "/")) else { return }
        let parent = String(decoding: full[..<slash], as: UTF8.self)
        guard FileSystem.exists(parent), let resolved = realpath(parent, nil) else { return }
        defer { free(resolved) }
        let real = String(cString: resolved)
        guard real == root || real.hasPrefix(root + "/") else {
            throw KFCError.invalid(
                "unpack \(archive)", "entry '\(entry.displayPath)' leaves the root through a symlink")
        }
    }

    private static func setPath(_ bytes: [UInt8], _ apply: (UnsafePointer<CChar>) -> Void) {
        var terminated = bytes.map { CChar(bitPattern: $0) }
        terminated.append(0)
        terminated.withUnsafeBufferPointer { apply($0.baseAddress!) }
    }
}
