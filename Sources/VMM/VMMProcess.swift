import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// A VMM program started in the background, with stdout and stderr sent to files.
///
/// The process is killed with SIGKILL by its pid in `stop()` or, at the latest, in `deinit`,
/// so a VMM never outlives the boot that started it.
final class VMMProcess {
    private let process = Process()
    private let commandLine: String
    private let logger: Logger
    private var stopped = false
    /// The moment the process was started.
    let startTime: Date
    /// The file that receives stderr.
    let errorPath: String

    /// Starts `command` with stdout appended to `outputPath` and stderr to `errorPath`.
    init(_ command: Command, outputPath: String, errorPath: String, logger: Logger) throws {
        guard let executable = Command.which(command.executable) else {
            throw KFCError.notFound(command.executable, "program not found in PATH")
        }
        commandLine = command.commandLine
        self.logger = logger
        self.errorPath = errorPath
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = command.arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = try VMMProcess.create(outputPath)
        process.standardError = try VMMProcess.create(errorPath)
        logger.debug("starting VMM", [("command", commandLine)])
        do {
            try process.run()
        } catch {
            throw KFCError.failed(commandLine, "could not start: \(FileSystem.describe(error))")
        }
        startTime = Date()
        logger.debug("VMM started", [("pid", "\(process.processIdentifier)")])
    }

    deinit { stop() }

    /// The process id.
    var pid: Int32 { process.processIdentifier }

    /// Whether the process is still running.
    var isRunning: Bool { process.isRunning }

    /// The exit status once the process has ended, or 128 + the signal that ended it.
    var status: Int32? {
        guard !process.isRunning else { return nil }
        let status = process.terminationStatus
        return process.terminationReason == .uncaughtSignal ? 128 + status : status
    }

    /// Waits up to `seconds` for the process to exit by itself; returns whether it did.
    @discardableResult
    func waitForExit(seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        return !process.isRunning
    }

    /// Kills the process by its pid with SIGKILL (when it still runs) and reaps it.
    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            logger.debug("killing VMM", [("pid", "\(pid)")])
            kill(pid, SIGKILL)
        }
        process.waitUntilExit()
    }

    /// Returns the last `count` lines of stderr.
    func errorLines(_ count: Int = 10) -> [String] {
        guard let data = try? FileSystem.read(errorPath) else { return [] }
        return Command.tail(data, count: count)
    }

    private static func create(_ path: String) throws -> FileHandle {
        let fd = try SystemCall.retrying("create \(path)") {
            open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
