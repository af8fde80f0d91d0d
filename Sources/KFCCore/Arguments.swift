import Foundation

/// A command line being taken apart: options by name, then positional arguments.
///
/// Subcommands call `option`, `flag` and `positional` for what they accept and then
/// `finish()`, which rejects anything left over with a usage error.
public struct Arguments {
    private var items: [String]
    /// The subcommand path used in messages, such as `kfc-image build`.
    public let command: String

    /// Wraps `items` (without the program and subcommand names) for `command`.
    public init(_ items: [String], command: String) {
        self.items = items
        self.command = command
    }

    /// Whether `--help` or `-h` was given.
    public var wantsHelp: Bool { items.contains("--help") || items.contains("-h") }

    /// Takes `--name VALUE` or `--name=VALUE`; the last one given wins.
    public mutating func option(_ name: String) throws -> String? {
        var value: String?
        var index = 0
        while index < items.count {
            let item = items[index]
            if item == name {
                guard index + 1 < items.count else {
                    throw KFCError.usage("\(command): option \(name) needs a value")
                }
                value = items[index + 1]
                items.removeSubrange(index...(index + 1))
            } else if item.hasPrefix(name + "=") {
                value = String(item.dropFirst(name.count + 1))
                items.remove(at: index)
            } else if item == "--" {
                break
            } else {
                index += 1
            }
        }
        return value
    }

    /// Takes every `--name VALUE`, in order.
    public mutating func options(_ name: String) throws -> [String] {
        var values: [String] = []
        while let value = try firstOption(name) { values.append(value) }
        return values
    }

    /// Takes `--name`; returns whether it was present.
    public mutating func flag(_ name: String) -> Bool {
        let before = items.count
        items.removeAll { $0 == name }
        return items.count != before
    }

    /// Takes the next positional argument, or throws a usage error naming `what`.
    public mutating func positional(_ what: String) throws -> String {
        guard let value = optionalPositional() else {
            throw KFCError.usage("\(command): missing \(what)")
        }
        return value
    }

    /// Takes the next positional argument when there is one.
    public mutating func optionalPositional() -> String? {
        if let first = items.first, first == "--" { items.removeFirst() }
        guard let index = items.firstIndex(where: { !$0.hasPrefix("-") || $0 == "-" }) else {
            return nil
        }
        return items.remove(at: index)
    }

    /// Rejects whatever was not taken.
    public func finish() throws {
        let rest = items.filter { $0 != "--" }
        guard rest.isEmpty else {
            let kind = rest[0].hasPrefix("-") ? "unknown option" : "unexpected argument"
            throw KFCError.usage("\(command): \(kind) '\(rest[0])'")
        }
    }

    private mutating func firstOption(_ name: String) throws -> String? {
        guard let index = items.firstIndex(where: { $0 == name || $0.hasPrefix(name + "=") })
        else { return nil }
        let item = items[index]
        if item == name {
            guard index + 1 < items.count else {
                throw KFCError.usage("\(command): option \(name) needs a value")
            }
            let value = items[index + 1]
            items.removeSubrange(index...(index + 1))
            return value
        }
        items.remove(at: index)
        return String(item.dropFirst(name.count + 1))
    }
}

/// One subcommand of a kfc program.
public struct Subcommand: Sendable {
    /// The word that selects it, such as `build`.
    public var name: String
    /// One line for the program's help.
    public var summary: String
    /// The usage text printed for `--help`.
    public var usage: String
    /// Runs it with the arguments after its name; returns the exit code.
    public var run: @Sendable (inout Arguments, Logger) throws -> Int32

    /// Creates a subcommand.
    public init(
        _ name: String, summary: String, usage: String,
        run: @escaping @Sendable (inout Arguments, Logger) throws -> Int32
    ) {
        self.name = name
        self.summary = summary
        self.usage = usage
        self.run = run
    }
}

/// The entry point shared by kfc programs: picks a subcommand and maps errors to exit codes.
public enum CommandLineTool {
    /// Runs `program` with the process's arguments and exits.
    public static func main(program: String, summary: String, subcommands: [Subcommand]) -> Never
    {
        let items = Array(CommandLine.arguments.dropFirst())
        let logger = Logger(label: program, level: Logger.levelFromEnvironment())
        Interruption.install(program: program)
        exit(run(program: program, summary: summary, subcommands: subcommands,
            arguments: items, logger: logger))
    }

    /// Runs `program` with `arguments` and returns the exit code.
    public static func run(
        program: String, summary: String, subcommands: [Subcommand], arguments: [String],
        logger: Logger
    ) -> Int32 {
        guard let word = arguments.first, word != "--help", word != "-h", word != "help" else {
            StandardOutput.line(help(program: program, summary: summary, subcommands: subcommands))
            return arguments.isEmpty ? ErrorReport.usageExitCode : 0
        }
        if word == "--version" {
            StandardOutput.line("\(program) \(KFCVersion.current)")
            return 0
        }
        guard let subcommand = subcommands.first(where: { $0.name == word }) else {
            return ErrorReport.report(
                KFCError.usage("unknown command '\(word)'"), program: program)
        }
        var rest = Arguments(Array(arguments.dropFirst()), command: "\(program) \(word)")
        if rest.wantsHelp {
            StandardOutput.line(subcommand.usage)
            return 0
        }
        do {
            return try subcommand.run(&rest, logger)
        } catch {
            // An error caused by the signal's own cleanup (a killed child, say) is not
            // reported; the cleanup thread exits with the signal's status.
            while Interruption.isStopping { pause() }
            return ErrorReport.report(error, program: program)
        }
    }

    static func help(program: String, summary: String, subcommands: [Subcommand]) -> String {
        let width = (subcommands.map(\.name.count).max() ?? 0) + 2
        let lines = subcommands.map {
            "  " + $0.name.padding(toLength: width, withPad: " ", startingAt: 0) + $0.summary
        }
        return "\(program): \(summary)\n\nUsage: \(program) COMMAND [OPTIONS]\n\nCommands:\n"
            + lines.joined(separator: "\n")
            + "\n\nRun '\(program) COMMAND --help' for a command's options."
    }
}

/// The release of the kfc package, printed by `--version` and recorded in manifests.
public enum KFCVersion {
    public static let current = "0.1.0"
}
