import KFCCore
import Provisioning

/// `kfc-provision apply`: makes the changes `plan` shows, step by step.
let applyCommand = Subcommand(
    "apply", summary: "bring the host to the intended state",
    usage: """
        Usage: kfc-provision apply [OPTIONS] [--log FILE]

        Runs each step in order and makes the changes it reports. A step that fails stops
        the run with its name and reason; earlier steps stay done and a second run
        continues. A run with nothing to change reports so and changes nothing.

        Options:
        \(RunOptions.usage)
          --log FILE     also append the log lines to FILE
        """
) { arguments, logger in
    let run = try RunOptions.take(from: &arguments)
    let logPath = try arguments.option("--log")
    try arguments.finish()
    let logFile = try logPath.map { try LogFile(path: $0) }
    let runLogger = logFile?.logger(label: logger.label, level: logger.level) ?? logger
    if !run.options.live {
        runLogger.info("live steps skipped", [("root", run.options.root)])
    }
    // Each step's result is printed as it ends, so a failed run still shows what was done.
    let outcomes = try run.provisioner(logger: runLogger).apply { outcome in
        let state = outcome.applied.isEmpty ? "unchanged" : "changed"
        var lines = ["\(outcome.step): \(state)"]
        lines += outcome.applied.map { "  done     \($0)" }
        lines += (outcome.report?.skipped ?? []).map { "  skipped  \($0)" }
        StandardOutput.line(lines.joined(separator: "\n"))
    }
    let total = outcomes.reduce(0) { $0 + $1.applied.count }
    StandardOutput.line(total == 0 ? "apply: nothing changed" : "apply: \(total) changes made")
    return 0
}
