import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The outcome of an external command that ran to its end.
public struct CommandResult: Sendable {
    /// The exit status, or 128 + the signal number when a signal ended it.
    public var status: Int32
    /// Everything it wrote to stdout, unless stdout was sent elsewhere.
    public var output: Data
    /// Everything it wrote to stderr.
    public var errorOutput: Data

    /// stdout as UTF-8 text, invalid bytes replaced.
    public var outputText: String { String(decoding: output, as: UTF8.self) }
    /// stderr as UTF-8 text, invalid bytes replaced.
    public var errorText: String { String(decoding: errorOutput, as: UTF8.self) }
}

/// Runs external programs (`zfs`, `btrfs`, `nft`, `ip`, `qemu-system-x86_64`, …) without a
/// shell, logging each command line at debug level.
public struct Command: Sendable {
    /// The program name, looked up in PATH, or a path.
    public var executable: String
    /// The arguments after the program name.
    public var arguments: [String]
    /// Extra environment variables on top of this process's environment.
    public var environment: [String: String] = [:]
    /// The working directory, or nil for this process's.
    public var directory: String?

    /// Creates a command for `executable` with `arguments`.
    public init(_ executable: String, _ arguments: [String] = []) {
        self.executable = executable
        self.arguments = arguments
    }

    /// The command line as one string, for logs and error messages.
    public var commandLine: String {
        ([executable] + arguments).map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(
            separator: " ")
    }

    /// Finds `name` in PATH (or returns it when it contains a slash and is executable).
    public static func which(_ name: String) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/sbin:/usr/bin:/sbin:/bin"
        for folder in path.split(separator: ":") {
            let candidate = "\(folder)/\(name)"
            var info = stat()
            if stat(candidate, &info) == 0, info.st_mode & S_IFMT == S_IFREG,
                access(candidate, X_OK) == 0
            {
                return candidate
            }
        }
        return nil
    }

    /// Runs the command to its end and returns its result whatever its status.
    ///
    /// `input` is written to its stdin (empty when nil). When `outputTo` is given, stdout goes
    /// there instead of being collected. A `timeout` in seconds kills it with SIGKILL.
    public func result(
        input: FileHandle? = nil, outputTo: FileHandle? = nil, timeout: Double? = nil,
        logger: Logger = .silent
    ) throws -> CommandResult {
        guard let path = Command.which(executable) else {
            throw KFCError.notFound(executable, "program not found in PATH")
        }
        logger.debug("running command", [("command", commandLine)])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) {
                $1
            }
        }
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }

        // Output goes to unlinked temporary files rather than pipes, so a chatty command can
        // never block on a full pipe while this thread waits for it.
        let stdoutFile = try outputTo == nil ? Command.scratchFile() : nil
        let stderrFile = try Command.scratchFile()
        process.standardInput = input ?? FileHandle.nullDevice
        process.standardOutput = outputTo ?? stdoutFile
        process.standardError = stderrFile
        do {
            try process.run()
        } catch {
            throw KFCError.failed(commandLine, "could not start: \(error.localizedDescription)")
        }
        // An interrupted command (Ctrl-C, SIGTERM) must not leave this child running.
        let pid = process.processIdentifier
        let token = Interruption.register { kill(pid, SIGKILL) }
        defer { Interruption.unregister(token) }
        let timedOut = wait(for: process, timeout: timeout)
        let status =
            process.terminationReason == .uncaughtSignal
            ? 128 + process.terminationStatus : process.terminationStatus
        let output = try stdoutFile.map { try Command.contents(of: $0) } ?? Data()
        let errorOutput = try Command.contents(of: stderrFile)
        if timedOut {
            throw KFCError.failed(
                commandLine, "timed out after \(Int(timeout ?? 0)) s",
                details: Command.tail(errorOutput))
        }
        return CommandResult(status: status, output: output, errorOutput: errorOutput)
    }

    /// Runs the command and returns its result; a non-zero status is an error that names
    /// the command and shows the last lines of its stderr.
    @discardableResult
    public func run(
        input: FileHandle? = nil, outputTo: FileHandle? = nil, timeout: Double? = nil,
        logger: Logger = .silent
    ) throws -> CommandResult {
        let result = try result(
            input: input, outputTo: outputTo, timeout: timeout, logger: logger)
        guard result.status == 0 else {
            let lines = Command.tail(result.errorOutput)
            let reason =
                lines.last.map { "exited with status \(result.status): \($0)" }
                ?? "exited with status \(result.status)"
            throw KFCError.failed(commandLine, reason, details: lines.dropLast())
        }
        return result
    }

    /// Runs the command and returns its stdout as text without the trailing newline.
    public func output(logger: Logger = .silent) throws -> String {
        var text = try run(logger: logger).outputText
        while text.hasSuffix("\n") { text.removeLast() }
        return text
    }

    /// Returns the last `count` non-empty lines of `data`.
    public static func tail(_ data: Data, count: Int = 10) -> [String] {
        String(decoding: data, as: UTF8.self).split(separator: "\n").suffix(count).map(String.init)
    }

    private func wait(for process: Process, timeout: Double?) -> Bool {
        guard let timeout else {
            process.waitUntilExit()
            return false
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline {
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                return true
            }
            usleep(10_000)
        }
        return false
    }

    private static func scratchFile() throws -> FileHandle {
        var template = Array("/tmp/kfc-command-XXXXXX".utf8CString)
        let fd = try SystemCall.retrying("create a temporary file in /tmp") {
            mkstemp(&template)
        }
        _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }

    private static func contents(of handle: FileHandle) throws -> Data {
        try handle.seek(toOffset: 0)
        return try handle.readToEnd() ?? Data()
    }
}
