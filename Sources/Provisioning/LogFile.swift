import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// A log file opened for appending; each line is written with one write(2), prefixed
/// with the time in UTC.
public final class LogFile: Sendable {
    private let descriptor: Int32
    /// The file's path.
    public let path: String

    /// Opens `path` for appending, creating it with mode 0640 and its folder when missing.
    public init(path: String) throws {
        try FileSystem.createDirectory((path as NSString).deletingLastPathComponent)
        descriptor = try SystemCall.retrying("open \(path)") {
            open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o640)
        }
        self.path = path
    }

    deinit { close(descriptor) }

    /// Appends `line` (which ends with a newline) after an ISO 8601 timestamp.
    public func append(_ line: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        let bytes = Array("\(stamp) \(line)".utf8)
        // A failed log write must not stop provisioning, so its result is not checked.
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
    }

    /// A logger that writes to stderr and appends to this file.
    public func logger(label: String, level: Logger.Level) -> Logger {
        Logger(label: label, level: level) { [self] line in
            StandardError.write(line)
            append(line)
        }
    }
}
