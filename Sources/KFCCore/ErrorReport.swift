import Foundation

/// Turns any error into the lines a command prints on stderr and its exit code.
public enum ErrorReport {
    /// The exit code for a usage error, as in sysexits.h.
    public static let usageExitCode: Int32 = 64

    /// Prints `error` to stderr as `PROGRAM: error: …` and returns its exit code.
    public static func report(_ error: Error, program: String) -> Int32 {
        let failure = error.asKFCError()
        var lines: [String]
        switch failure.kind {
        case .bug:
            lines = ["\(program): internal error (a bug in kfc): \(failure.description)"]
        default:
            lines = ["\(program): error: \(failure.description)"]
        }
        lines += failure.details.map { "  \($0)" }
        if failure.kind == .usage {
            lines.append("Run '\(program) --help' for usage.")
        }
        StandardError.write(lines.joined(separator: "\n") + "\n")
        return failure.kind == .usage ? usageExitCode : 1
    }
}

/// Unbuffered writes to the standard streams.
public enum StandardError {
    /// Writes `text` to stderr as it is.
    public static func write(_ text: String) {
        FileHandle.standardError.write(Data(text.utf8))
    }
}

/// Writes results to stdout, the only stream that carries them.
public enum StandardOutput {
    /// Writes `text` and a newline to stdout.
    public static func line(_ text: String) {
        FileHandle.standardOutput.write(Data((text + "\n").utf8))
    }
}
