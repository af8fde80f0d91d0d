import Foundation
import KFCCore

internal import CArchive

/// Reads an archive (tar, cpio, zip…, compressed with any filter libarchive supports) entry by
/// entry, without unpacking it.
public final class ArchiveReader {
    /// The archive's path, for messages.
    public let path: String
    let handle: OpaquePointer
    private var current: OpaquePointer?

    /// Opens the archive at `path`.
    public init(path: String) throws {
        guard let handle = archive_read_new() else {
            throw KFCError.failed("read \(path)", "could not create a libarchive reader")
        }
        self.handle = handle
        self.path = path
        archive_read_support_filter_all(handle)
        archive_read_support_format_all(handle)
        guard archive_read_open_filename(handle, path, 1 << 16) == ARCHIVE_OK else {
            // deinit frees the handle, as every stored property is set by now.
            let reason = ArchiveReader.message(handle)
            let kind: KFCError.Kind = FileSystem.exists(path) ? .invalidInput : .notFound
            throw KFCError(kind, "read \(path)", reason)
        }
    }

    deinit { archive_read_free(handle) }

    /// Returns the next entry, or nil at the end. Data of the previous entry not read is skipped.
    public func next() throws -> ArchiveEntry? {
        var entry: OpaquePointer?
        let status = archive_read_next_header(handle, &entry)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let entry else {
            throw KFCError.invalid("read \(path)", ArchiveReader.message(handle))
        }
        current = entry
        return try ArchiveReader.describe(entry, archive: path)
    }

    /// Reads the next piece of the current entry's data into `buffer`; 0 at its end.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let count = archive_read_data(handle, buffer.baseAddress, buffer.count)
        guard count >= 0 else {
            throw KFCError.invalid("read \(path)", ArchiveReader.message(handle))
        }
        return count
    }

    /// Returns the next block of the current entry's data with its offset, so holes of sparse files
    /// can be kept; nil at the entry's end.
    public func readBlock() throws -> (offset: Int64, bytes: UnsafeRawBufferPointer)? {
        var pointer: UnsafeRawPointer?
        var size = 0
        var offset: Int64 = 0
        let status = archive_read_data_block(handle, &pointer, &size, &offset)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN else {
            throw KFCError.invalid("read \(path)", ArchiveReader.message(handle))
        }
        return (offset, UnsafeRawBufferPointer(start: pointer, count: size))
    }

    /// Returns the libarchive error text of `handle`.
    static func message(_ handle: OpaquePointer) -> String {
        archive_error_string(handle).map { String(cString: $0) } ?? "unknown libarchive error"
    }

    static func describe(_ entry: OpaquePointer, archive: String) throws -> ArchiveEntry {
        let rawPath = bytes(archive_entry_pathname(entry))
        guard let path = EntryPath.normalize(rawPath) else {
            let printable = String(decoding: rawPath, as: UTF8.self)
            throw KFCError.invalid("unpack \(archive)", "entry '\(printable)' leaves the root")
        }
        var hardlink: [UInt8]?
        if let target = archive_entry_hardlink(entry) {
            let raw = bytes(target)
            guard let normalized = EntryPath.normalize(raw), !normalized.isEmpty else {
                let printable = String(decoding: raw, as: UTF8.self)
                throw KFCError.invalid(
                    "unpack \(archive)", "hard link target '\(printable)' leaves the root")
            }
            hardlink = normalized
        }
        let mode = UInt32(archive_entry_mode(entry))
        return ArchiveEntry(
            path: path, kind: hardlink != nil ? .hardlink : kind(of: mode),
            permissions: mode & 0o7777,
            uid: UInt32(truncatingIfNeeded: archive_entry_uid(entry)),
            gid: UInt32(truncatingIfNeeded: archive_entry_gid(entry)),
            size: archive_entry_size_is_set(entry) != 0 ? archive_entry_size(entry) : 0,
            modificationTime: TimeSpec(
                seconds: Int64(archive_entry_mtime(entry)),
                nanoseconds: Int64(archive_entry_mtime_nsec(entry))),
            accessTime: archive_entry_atime_is_set(entry) != 0
                ? TimeSpec(seconds: Int64(archive_entry_atime(entry)),
                    nanoseconds: Int64(archive_entry_atime_nsec(entry))) : nil,
            changeTime: archive_entry_ctime_is_set(entry) != 0
                ? TimeSpec(seconds: Int64(archive_entry_ctime(entry)),
                    nanoseconds: Int64(archive_entry_ctime_nsec(entry))) : nil,
            symlinkTarget: archive_entry_symlink(entry).map(bytes),
            hardlinkTarget: hardlink,
            deviceMajor: UInt32(archive_entry_rdevmajor(entry)),
            deviceMinor: UInt32(archive_entry_rdevminor(entry)),
            xattrs: xattrs(of: entry))
    }

    private static func kind(of mode: UInt32) -> ArchiveEntry.Kind {
        // The file type bits of st_mode, as tar and libarchive store them.
        switch mode & 0o170000 {
        case 0o040000: .directory
        case 0o120000: .symlink
        case 0o020000: .characterDevice
        case 0o060000: .blockDevice
        case 0o010000: .fifo
        case 0o140000: .socket
        default: .regular
        }
    }

    private static func xattrs(of entry: OpaquePointer) -> [(name: String, value: [UInt8])] {
        var result: [(name: String, value: [UInt8])] = []
        guard archive_entry_xattr_reset(entry) > 0 else { return result }
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while archive_entry_xattr_next(entry, &name, &value, &size) == ARCHIVE_OK {
            guard let name else { continue }
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: size)) } ?? []
            result.append((String(cString: name), bytes))
        }
        return result
    }

    private static func bytes(_ pointer: UnsafePointer<CChar>?) -> [UInt8] {
        guard let pointer else { return [] }
        return Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
    }
}
