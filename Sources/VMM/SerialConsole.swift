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

    /// The most of the log that an outcome keeps: the last 256 KiB, because the log goes
    /// into the version's manifest and a guest may print without end.
    static let keptBytes = 256 << 10

    /// The log as text with invalid UTF-8 replaced, or empty when the file is missing.
    /// A longer log is cut to its last `keptBytes`, after a line that gives the cut size.
    var text: String {
        guard let data = try? FileSystem.read(path) else { return "" }
        guard data.count > SerialConsole.keptBytes else {
            return String(decoding: data, as: UTF8.self)
        }
        let omitted = data.count - SerialConsole.keptBytes
        return "[\(omitted) earlier bytes of the console left out]\n"
            + String(decoding: data.suffix(SerialConsole.keptBytes), as: UTF8.self)
    }

    /// Polls the log every 20 ms until the marker, a panic, the end of `process`, a line of
    /// its stderr that contains one of `fatalErrors`, or `timeout` seconds.
    func wait(
        for marker: String, process: VMMProcess, timeout: Double, fatalErrors: [String] = []
    ) -> Event {
        let deadline = process.startTime.addingTimeInterval(timeout)
        var reader = LineReader(path: path)
        while true {
            for line in reader.newLines() {
                if line.contains(marker) {
                    return .marker(Date().timeIntervalSince(process.startTime))
                }
                if line.contains("Kernel panic - not syncing") { return .panic }
            }
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

/// Reads the lines added to a growing file since the last call, so a long log is read once.
struct LineReader {
    let path: String
    private var offset: UInt64 = 0
    private var partial = Data()

    init(path: String) {
        self.path = path
    }

    /// Returns the complete lines written since the last call, and the unfinished last line
    /// as it is so far (a marker printed without a newline is still seen).
    mutating func newLines() -> [String] {
        guard let handle = FileHandle(forReadingAtPath: path) else { return [] }
        defer { try? handle.close() }
        guard (try? handle.seek(toOffset: offset)) != nil,
            let data = try? handle.readToEnd(), !data.isEmpty
        else { return partial.isEmpty ? [] : [String(decoding: partial, as: UTF8.self)] }
        offset += UInt64(data.count)
        partial.append(data)
        var lines = partial.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        partial = Data(lines.removeLast())
        return (lines + [partial]).map { String(decoding: $0, as: UTF8.self) }
    }
}
