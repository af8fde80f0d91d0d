import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Progress of one long operation: a redrawn bar on a terminal, plain log lines elsewhere.
///
/// Not thread-safe: one task reports progress at a time.
public final class ProgressMeter {
    private let title: String
    private let total: Int64?
    private let logger: Logger
    private let onTerminal: Bool
    private var lastDraw = Date.distantPast
    private let started = Date()
    private var lastLoggedTenth = -1
    private var finished = false

    /// Starts a progress report for `title`, out of `total` units (bytes) when known.
    ///
    /// `onTerminal` defaults to whether stderr is a terminal.
    public init(
        _ title: String, total: Int64?, logger: Logger,
        onTerminal: Bool = isatty(STDERR_FILENO) == 1
    ) {
        self.title = title
        self.total = total.flatMap { $0 > 0 ? $0 : nil }
        self.logger = logger
        self.onTerminal = onTerminal && logger.level <= .info
    }

    /// Off a terminal, operations shorter than this many seconds log no progress lines.
    static let quietSeconds = 2.0

    /// Reports that `done` units are complete.
    public func update(_ done: Int64) {
        guard !finished else { return }
        if onTerminal {
            let now = Date()
            guard now.timeIntervalSince(lastDraw) >= 0.1 else { return }
            lastDraw = now
            StandardError.write("\r" + bar(done))
        } else if let total, Date().timeIntervalSince(started) >= ProgressMeter.quietSeconds {
            let tenth = Int(done * 10 / total)
            guard tenth > lastLoggedTenth, tenth < 10 else { return }
            lastLoggedTenth = tenth
            logger.info("progress", [("step", title), ("percent", "\(tenth * 10)")])
        }
    }

    /// Ends the report; on a terminal the bar is completed and the line ended.
    public func finish(_ done: Int64) {
        guard !finished else { return }
        finished = true
        if onTerminal {
            StandardError.write("\r" + bar(done) + "\n")
        }
    }

    private func bar(_ done: Int64) -> String {
        let amount = ByteSize.format(done)
        guard let total else { return "\(title) \(amount)" }
        let fraction = min(1, Double(done) / Double(total))
        let width = 30
        let filled = Int(fraction * Double(width))
        let bar = String(repeating: "#", count: filled)
            + String(repeating: "-", count: width - filled)
        let percent = Int(fraction * 100)
        return "\(title) [\(bar)] \(percent)% \(amount)/\(ByteSize.format(total))"
    }
}
