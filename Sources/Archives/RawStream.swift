import Foundation
import KFCCore

internal import CArchive

/// Decompresses a bare compressed stream (gzip, xz, lzma, bzip2, lz4, zstd, …) through
/// libarchive's raw format.
public enum RawStream {
    /// Returns the decompressed bytes of `data`; `context` names the input in errors.
    ///
    /// Data that no filter recognises is an error rather than being passed through.
    public static func decompress(_ data: Data, context: String) throws -> Data {
        guard let handle = archive_read_new() else {
            throw KFCError.failed(context, "could not create a libarchive reader")
        }
        defer { archive_read_free(handle) }
        archive_read_support_filter_all(handle)
        archive_read_support_format_raw(handle)
        // libarchive reads from `bytes` only until archive_read_free, inside this closure.
        return try data.withUnsafeBytes { bytes in
            guard archive_read_open_memory(handle, bytes.baseAddress, bytes.count) == ARCHIVE_OK
            else { throw KFCError.invalid(context, ArchiveReader.message(handle)) }
            var entry: OpaquePointer?
            guard archive_read_next_header(handle, &entry) == ARCHIVE_OK else {
                throw KFCError.invalid(context, ArchiveReader.message(handle))
            }
            guard archive_filter_count(handle) > 1 else {
                throw KFCError.invalid(context, "not a compressed stream")
            }
            return try readAll(handle, context: context)
        }
    }

    /// Returns the name of the outermost compression filter of `data`, such as `gzip` or `zstd`.
    public static func filterName(_ data: Data) -> String? {
        guard let handle = archive_read_new() else { return nil }
        defer { archive_read_free(handle) }
        archive_read_support_filter_all(handle)
        archive_read_support_format_raw(handle)
        return data.withUnsafeBytes { bytes -> String? in
            var entry: OpaquePointer?
            guard archive_read_open_memory(handle, bytes.baseAddress, bytes.count) == ARCHIVE_OK,
                archive_read_next_header(handle, &entry) == ARCHIVE_OK,
                archive_filter_count(handle) > 1,
                let name = archive_filter_name(handle, 0)
            else { return nil }
            return String(cString: name)
        }
    }

    private static func readAll(_ handle: OpaquePointer, context: String) throws -> Data {
        var output = Data()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes {
                archive_read_data(handle, $0.baseAddress, $0.count)
            }
            if count == 0 { return output }
            guard count > 0 else {
                throw KFCError.invalid(context, ArchiveReader.message(handle))
            }
            output.append(contentsOf: buffer[..<count])
        }
    }
}
