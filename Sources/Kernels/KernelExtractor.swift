import Archives
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
        let stream = Data(view.bytes[header.stream])
        let compression = RawStream.filterName(stream) ?? "unknown"
        logger.info(
            "extracting kernel",
            [("file", bzImage), ("compression", compression),
                ("payload_bytes", "\(header.payload.count)")])
        let temporary = try temporaryFile(beside: output)
        defer { close(temporary.descriptor) }
        do {
            let kernel = try RawStream.decompress(stream, context: "payload")
            try verify(kernel, header: header)
            try copyOut(kernel, to: temporary)
            var report = try KernelCheck.check(path: temporary.path)
            try SystemCall.retrying("rename \(temporary.path) to \(output)") {
                rename(temporary.path, output)
            }
            report.path = output
            return ExtractionResult(
                compression: compression, bytes: Int64(kernel.count), report: report)
        } catch {
            unlink(temporary.path)
            throw error.asKFCError().within("extract \(bzImage)")
        }
    }

    /// Puts the kernel `source` at `output` as an uncompressed vmlinux: a bzImage is
    /// extracted, and anything else is copied once `KernelCheck` accepts it.
    ///
    /// `output` is replaced by a rename, so on failure it is left as it was.
    @discardableResult
    public static func prepare(_ source: String, to output: String, logger: Logger = .silent)
        throws -> KernelReport
    {
        if try isBzImage(path: source) {
            return try extract(bzImage: source, to: output, logger: logger).report
        }
        _ = try KernelCheck.check(path: source)
        let temporary = try temporaryFile(beside: output)
        defer { close(temporary.descriptor) }
        do {
            try copyOut(try FileSystem.read(source), to: temporary)
            var report = try KernelCheck.check(path: temporary.path)
            try SystemCall.retrying("rename \(temporary.path) to \(output)") {
                rename(temporary.path, output)
            }
            report.path = output
            return report
        } catch {
            unlink(temporary.path)
            throw error.asKFCError().within("copy \(source) to \(output)")
        }
    }

    /// Returns whether the file at `path` is an x86 bzImage ("HdrS" at 0x202).
    public static func isBzImage(path: String) throws -> Bool {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let head = try handle.read(upToCount: 0x206) ?? Data()
        return ByteView(Array(head)).matches(Array("HdrS".utf8), at: 0x202)
    }

    /// Writes `kernel` to `file` and syncs it; the caller closes the descriptor.
    private static func copyOut(_ kernel: Data, to file: TemporaryFile) throws {
        try kernel.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                // Safe: done < raw.count, so the pointer stays inside the buffer.
                let written = try SystemCall.retrying("write \(file.path)") {
                    write(file.descriptor, raw.baseAddress! + done, raw.count - done)
                }
                done += written
            }
        }
        try SystemCall.retrying("fsync \(file.path)") { fsync(file.descriptor) }
        fchmod(file.descriptor, 0o644)
    }

    /// Compares `kernel` with the size and checksum the payload records, because
    /// libarchive checks neither for gzip, and lz4 and lzma streams carry no checksum.
    private static func verify(_ kernel: Data, header: BzImage) throws {
        guard UInt32(truncatingIfNeeded: kernel.count) == header.uncompressedSize else {
            throw KFCError.invalid(
                "payload",
                "decompressed to \(kernel.count) bytes, but the payload records "
                    + "\(header.uncompressedSize), so the bzImage is corrupt")
        }
        guard let expected = header.gzipCRC else { return }
        var crc = CRC32()
        kernel.withUnsafeBytes { crc.update($0) }
        guard crc.value == expected else {
            throw KFCError.invalid("payload", "gzip CRC-32 mismatch, so the bzImage is corrupt")
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
