import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A small leveled logger that writes `LEVEL message key=value…` lines to stderr.
///
/// Messages are constant sentences; the data goes in metadata. Libraries log at info or
/// below and take the logger from their caller.
public struct Logger: Sendable {
    /// Severity levels, from the most verbose.
    public enum Level: Int, Comparable, Sendable, CaseIterable {
        case debug, info, warning, error

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }

        var label: String {
            switch self {
            case .debug: "debug"
            case .info: "info"
            case .warning: "warning"
            case .error: "error"
            }
        }
    }

    /// Where lines go; the default writes them to stderr.
    public typealias Sink = @Sendable (String) -> Void

    /// The lowest level that is written.
    public var level: Level
    /// The component name put in front of every line, such as `kfc-image`.
    public var label: String
    private let sink: Sink

    /// Creates a logger for `label` that writes lines at `level` and above to `sink`.
    public init(label: String, level: Level = .info, sink: @escaping Sink = StandardError.write)
    {
        self.label = label
        self.level = level
        self.sink = sink
    }

    /// A logger that writes nothing, for tests and quiet callers.
    public static let silent = Logger(label: "silent", level: .error, sink: { _ in })

    /// The level named by the `KFC_LOG` environment variable, or `fallback`.
    public static func levelFromEnvironment(fallback: Level = .info) -> Level {
        guard let name = ProcessInfo.processInfo.environment["KFC_LOG"] else { return fallback }
        return Level.allCases.first { $0.label == name.lowercased() } ?? fallback
    }

    /// Writes `message` with `metadata` when `level` is enabled.
    public func log(_ level: Level, _ message: String, _ metadata: [(String, String)] = []) {
        guard level >= self.level else { return }
        var line = "\(label): \(level.label): \(message)"
        for (key, value) in metadata {
            line += " \(key)=\(Logger.quote(value))"
        }
        sink(line + "\n")
    }

    /// Logs at debug level.
    public func debug(_ message: String, _ metadata: [(String, String)] = []) {
        log(.debug, message, metadata)
    }

    /// Logs at info level.
    public func info(_ message: String, _ metadata: [(String, String)] = []) {
        log(.info, message, metadata)
    }

    /// Logs at warning level.
    public func warning(_ message: String, _ metadata: [(String, String)] = []) {
        log(.warning, message, metadata)
    }

    /// Logs at error level.
    public func error(_ message: String, _ metadata: [(String, String)] = []) {
        log(.error, message, metadata)
    }

    /// Quotes a metadata value that contains spaces, quotes or is empty.
    static func quote(_ value: String) -> String {
        let plain = !value.isEmpty && !value.contains { $0 == " " || $0 == "\"" || $0 == "=" }
        if plain { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
