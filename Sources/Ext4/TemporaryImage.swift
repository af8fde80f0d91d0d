import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// A new image file beside its target, renamed over the target only when complete and
/// removed otherwise.
final class TemporaryImage {
    /// The temporary file's path.
    let path: String
    /// The target path it becomes on `commit()`.
    let target: String
    /// A descriptor open for writing file content.
    let fd: Int32
    private var committed = false

    /// Creates an empty temporary file in the target's folder.
    init(target: String) throws {
        let url = URL(fileURLWithPath: target)
        let folder = url.deletingLastPathComponent().path
        guard FileSystem.isDirectory(folder) else {
            throw KFCError.notFound("write \(target)", "folder \(folder) does not exist")
        }
        var template = Array("\(folder)/.\(url.lastPathComponent).partial-XXXXXX".utf8CString)
        fd = try SystemCall.retrying("create a temporary image in \(folder)") {
            mkstemp(&template)
        }
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
        self.target = target
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        fchmod(fd, 0o644)
    }

    deinit {
        close(fd)
        if !committed { unlink(path) }
    }

    /// Sets the apparent size without allocating anything, so unwritten blocks are holes.
    func resize(to bytes: Int64) throws {
        try SystemCall.retrying("resize \(path)") { ftruncate(fd, off_t(0)) }
        try SystemCall.retrying("resize \(path)") { ftruncate(fd, off_t(bytes)) }
    }

    /// Flushes the file to disk and renames it to the target.
    func commit() throws {
        try SystemCall.retrying("flush \(path)") { fsync(fd) }
        try SystemCall.retrying("rename \(path) to \(target)") { rename(path, target) }
        committed = true
    }

    /// Writes all of `bytes` to `fd` at byte `position`, retrying short writes.
    static func write(
        _ bytes: UnsafeRawBufferPointer, to fd: Int32, at position: Int64, path: String
    ) throws {
        var done = 0
        while done < bytes.count {
            let written = try SystemCall.retrying("write \(path)") {
                // `done` is below a non-zero count here, so the base address exists.
                pwrite(
                    fd, bytes.baseAddress! + done, bytes.count - done,
                    off_t(position + Int64(done)))
            }
            done += written
        }
    }
}
