import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// File operations with errors that name the path.
public enum FileSystem {
    /// Checks whether anything (even a dangling symlink) exists at `path`.
    public static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }

    /// Checks whether `path` is a directory, following symlinks.
    public static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFDIR
    }

    /// Creates `path` and its missing parents with `mode`.
    public static func createDirectory(_ path: String, mode: mode_t = 0o755) throws {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true,
                attributes: [.posixPermissions: Int(mode)])
        } catch {
            throw KFCError.failed("create folder \(path)", describe(error))
        }
    }

    /// Removes `path` and everything below it; nothing to remove is not an error.
    public static func remove(_ path: String) throws {
        guard exists(path) else { return }
        do {
            try FileManager.default.removeItem(atPath: path)
        } catch {
            throw KFCError.failed("remove \(path)", describe(error))
        }
    }

    /// Reads the whole file at `path`.
    public static func read(_ path: String) throws -> Data {
        guard exists(path) else { throw KFCError.notFound(path, "no such file") }
        do {
            return try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw KFCError.failed("read \(path)", describe(error))
        }
    }

    /// Writes `data` to `path` through a temporary file, fsync and rename, so readers see
    /// the old content or the new, never a part.
    public static func writeAtomically(_ data: Data, to path: String, mode: mode_t = 0o644)
        throws
    {
        let temporary = "\(path).tmp-\(getpid())"
        let fd = try SystemCall.retrying("create \(temporary)") {
            open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        }
        do {
            try writeAll(data, to: fd, path: temporary)
            try SystemCall.retrying("fsync \(temporary)") { fsync(fd) }
            fchmod(fd, mode)
            close(fd)
            try SystemCall.retrying("rename \(temporary) to \(path)") { rename(temporary, path) }
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
    }

    /// Writes all of `data` to the open file `fd`, retrying short writes; `path` names the
    /// file in errors.
    public static func writeAll(_ data: Data, to fd: Int32, path: String) throws {
        try data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return }
            var offset = 0
            while offset < raw.count {
                offset += try SystemCall.retrying("write \(path)") {
                    write(fd, base + offset, raw.count - offset)
                }
            }
        }
    }

    /// Makes a fresh folder under `parent` whose name starts with `prefix`.
    public static func makeTemporaryDirectory(in parent: String = NSTemporaryDirectory(),
        prefix: String = "kfc") throws -> String
    {
        try createDirectory(parent)
        var template = Array("\(parent)/\(prefix)-XXXXXX".utf8CString)
        guard mkdtemp(&template) != nil else {
            throw SystemCall.error("create a temporary folder in \(parent)", errno: errno)
        }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// Returns the size of the file at `path` in bytes.
    public static func size(_ path: String) throws -> Int64 {
        var info = stat()
        try SystemCall.retrying("stat \(path)") { stat(path, &info) }
        return Int64(info.st_size)
    }

    /// Returns the text of a Foundation error without its domain and code.
    public static func describe(_ error: Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError,
            underlying.domain == NSPOSIXErrorDomain
        {
            return String(cString: strerror(Int32(underlying.code)))
        }
        return nsError.localizedDescription
    }
}
