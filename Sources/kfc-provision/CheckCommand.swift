import KFCCore
import Provisioning

/// `kfc-provision check`: whether this host is ready, with the reasons when it is not.
let checkCommand = Subcommand(
    "check", summary: "tell whether this host is ready (exit 0) or not (exit 1, with reasons)",
    usage: """
        Usage: kfc-provision check [OPTIONS]

        Inspects every step on the running host and prints what it finds. Exits 0 when no
        step needs a change, else 1 with the reasons.

        Options:
        \(RunOptions.usage)
        """
) { arguments, logger in
    let run = try RunOptions.take(from: &arguments)
    try arguments.finish()
    let outcomes = try run.provisioner(logger: logger).inspect()
    for outcome in outcomes {
        let lines = describe(outcome, changeLabel: "missing ")
        let state = outcome.isSatisfied ? "ready" : "not ready"
        StandardOutput.line(
            ([lines[0] + " [\(state)]"] + lines.dropFirst()).joined(separator: "\n"))
    }
    let waiting = outcomes.filter { !$0.isSatisfied }.map(\.step)
    if waiting.isEmpty {
        StandardOutput.line("check: the host is ready")
        return 0
    }
    StandardOutput.line("check: the host is not ready (\(waiting.joined(separator: ", ")))")
    return 1
}
