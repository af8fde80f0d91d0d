import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// The outcome of `KernelExtractor.extract`.
public struct ExtractionResult: Sendable {
    /// The payload's compression as libarchive names it, such as `gzip` or `zstd`.
    public var compression: String
    /// The size of the uncompressed kernel in bytes.
    public var bytes: Int64
    /// The check of the output file.
    public var report: KernelReport
}

/// Turns a compressed x86 bzImage into the uncompressed ELF vmlinux Firecracker loads.
public enum KernelExtractor {
    /// Decompresses the payload of `bzImage` into `output` and checks the result.
    ///
    /// The payload is located through the setup header and may be gzip, xz, lzma, bzip2, lz4
    /// or zstd. The output is written to a temporary file beside `output` and renamed into
    /// place only after `KernelCheck` accepts it, so on failure `output` is left untouched.
    @discardableResult
    public static func extract(bzImage: String, to output: String, logger: Logger = .silent)
        throws -> ExtractionResult
    {
        let view = ByteView(Array(try FileSystem.read(bzImage)))
        let header = try BzImage(view, name: bzImage)
        let decompressor = try RawDecompressor(
            view.bytes[header.stream], name: "\(bzImage): payload")
        logger.info(
            "extracting kernel",
            [("file", bzImage), ("compression", decompressor.compression),
                ("payload_bytes", "\(header.payload.count)")])
        let temporary = try temporaryFile(beside: output)
        do {
            let bytes = try copyOut(decompressor, to: temporary, header: header)
            var report = try KernelCheck.check(path: temporary.path)
            try SystemCall.retrying("rename \(temporary.path) to \(output)") {
                rename(temporary.path, output)
            }
            report.path = output
            return ExtractionResult(
                compression: decompressor.compression, bytes: bytes, report: report)
        } catch {
            unlink(temporary.path)
            throw error.asKFCError().within("extract \(bzImage)")
        }
    }

    private static func copyOut(
        _ decompressor: RawDecompressor, to file: TemporaryFile, header: BzImage
    ) throws -> Int64 {
        defer { close(file.descriptor) }
        var crc = CRC32()
        let bytes = try decompressor.decompress { piece in
            if header.gzipCRC != nil { crc.update(piece) }
            var done = 0
            while done < piece.count {
                // Safe: done < piece.count, so the pointer stays inside the piece.
                let written = try SystemCall.retrying("write \(file.path)") {
                    write(file.descriptor, piece.baseAddress! + done, piece.count - done)
                }
                done += written
            }
        }
        try verify(bytes: bytes, crc: crc.value, header: header)
        try SystemCall.retrying("fsync \(file.path)") { fsync(file.descriptor) }
        fchmod(file.descriptor, 0o644)
        return bytes
    }

    /// Compares the output with the size and checksum the payload records, because
    /// libarchive checks neither for gzip and lz4 and lzma streams carry no checksum.
    private static func verify(bytes: Int64, crc: UInt32, header: BzImage) throws {
        guard UInt32(truncatingIfNeeded: bytes) == header.uncompressedSize else {
            throw KFCError.invalid(
                "payload",
                "decompressed to \(bytes) bytes, but the payload records "
                    + "\(header.uncompressedSize); the bzImage is corrupt")
        }
        if let expected = header.gzipCRC, expected != crc {
            throw KFCError.invalid(
                "payload", "gzip CRC-32 mismatch; the bzImage is corrupt")
        }
    }

    private struct TemporaryFile {
        var path: String
        var descriptor: Int32
    }

    private static func temporaryFile(beside output: String) throws -> TemporaryFile {
        let folder = (output as NSString).deletingLastPathComponent
        let base = (output as NSString).lastPathComponent
        var template = Array("\(folder.isEmpty ? "." : folder)/.\(base).XXXXXX".utf8CString)
        let descriptor = try SystemCall.retrying("create a temporary file beside \(output)") {
            mkstemp(&template)
        }
        let path = String(
            decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return TemporaryFile(path: path, descriptor: descriptor)
    }
}
