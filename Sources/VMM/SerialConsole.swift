import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// Watches a growing serial console log for a marker line, a kernel panic or the VMM's end.
struct SerialConsole {
    /// The reasons a wait ends.
    enum Event: Equatable {
        /// The marker appeared, this many seconds after the VMM started.
        case marker(Double)
        /// The kernel panicked.
        case panic
        /// The VMM exited before the marker appeared.
        case exited(Int32)
        /// A line of the VMM's stderr matched a fatal pattern.
        case vmmError(String)
        /// The timeout passed.
        case timedOut
    }

    let path: String

    /// The whole log as text, invalid UTF-8 replaced; empty when the file is missing.
    var text: String {
        guard let data = try? FileSystem.read(path) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }

    /// Polls the log every 20 ms until the marker, a panic, the end of `process`, a line of
    /// its stderr that contains one of `fatalErrors`, or `timeout` seconds.
    func wait(
        for marker: String, process: VMMProcess, timeout: Double, fatalErrors: [String] = []
    ) -> Event {
        let deadline = process.startTime.addingTimeInterval(timeout)
        while true {
            let log = text
            if log.split(whereSeparator: \.isNewline).contains(where: { $0.contains(marker) }) {
                return .marker(Date().timeIntervalSince(process.startTime))
            }
            if log.contains("Kernel panic - not syncing") { return .panic }
            if let status = process.status { return .exited(status) }
            if let line = fatalLine(process, fatalErrors) { return .vmmError(line) }
            if Date() >= deadline { return .timedOut }
            usleep(20_000)
        }
    }

    private func fatalLine(_ process: VMMProcess, _ patterns: [String]) -> String? {
        guard !patterns.isEmpty else { return nil }
        return process.errorLines(50).first { line in patterns.contains { line.contains($0) } }
    }
}
