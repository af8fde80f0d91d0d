import Foundation
import KFCCore

internal import CArchive

/// A compressed stream with no archive around it (a kernel payload, an IKCONFIG blob),
/// decompressed through libarchive's raw format reader.
///
/// The compression is detected from the data. The enabled ones are gzip, xz, lzma, bzip2,
/// lz4 and zstd, which are the kernel's compressions except lzo.
final class RawDecompressor {
    private let archive: OpaquePointer
    private let input: UnsafeMutableRawBufferPointer
    private let name: String

    /// Opens `data` for decompression; `name` is the subject of errors.
    ///
    /// Throws when the data is not in one of the enabled compressions.
    init(_ data: some Collection<UInt8>, name: String) throws {
        // archive_read_new returns NULL only when malloc fails, which Swift treats as fatal too.
        guard let archive = archive_read_new() else { fatalError("archive_read_new failed") }
        self.archive = archive
        self.name = name
        // libarchive reads from this buffer until archive_read_free, so it owns a copy.
        input = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 8)
        _ = input.initializeMemory(as: UInt8.self, from: data)
        try open(count: data.count)
    }

    deinit {
        archive_read_free(archive)
        input.deallocate()
    }

    private func open(count: Int) throws {
        archive_read_support_filter_gzip(archive)
        archive_read_support_filter_xz(archive)
        archive_read_support_filter_lzma(archive)
        archive_read_support_filter_bzip2(archive)
        archive_read_support_filter_lz4(archive)
        archive_read_support_filter_zstd(archive)
        archive_read_support_format_raw(archive)
        try check(archive_read_open_memory(archive, input.baseAddress, count), "open")
        var entry: OpaquePointer?
        try check(archive_read_next_header(archive, &entry), "read the header of")
        // The raw format accepts anything; one filter (none) means nothing was recognised.
        guard archive_filter_count(archive) > 1 else {
            let view = ByteView(Array(input.prefix(min(count, 8))))
            throw KFCError.invalid(
                name, "compression not recognised (first bytes \(view.hexPrefix()))")
        }
    }

    /// The name libarchive gives the compression, such as `gzip` or `zstd`.
    var compression: String {
        archive_filter_name(archive, 0).map { String(cString: $0) } ?? "unknown"
    }

    /// Decompresses everything, handing each piece to `consume`; returns the byte count.
    @discardableResult
    func decompress(_ consume: (UnsafeRawBufferPointer) throws -> Void) throws -> Int64 {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        var total: Int64 = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { raw in
                archive_read_data(archive, raw.baseAddress, raw.count)
            }
            if count == 0 { return total }
            guard count > 0 else {
                throw KFCError.invalid(name, "decompression (\(compression)) failed: \(message)")
            }
            try buffer.withUnsafeBytes { raw in
                try consume(UnsafeRawBufferPointer(rebasing: raw[..<count]))
            }
            total += Int64(count)
        }
    }

    /// Decompresses everything into memory.
    func decompressAll() throws -> [UInt8] {
        var output: [UInt8] = []
        try decompress { output.append(contentsOf: $0) }
        return output
    }

    private var message: String {
        archive_error_string(archive).map { String(cString: $0) } ?? "unknown libarchive error"
    }

    private func check(_ status: Int32, _ operation: String) throws {
        guard status >= ARCHIVE_WARN else {
            throw KFCError.invalid(name, "could not \(operation) the compressed data: \(message)")
        }
    }
}
