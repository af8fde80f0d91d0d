import KFCCore
import Provisioning

/// `kfc-provision plan`: prints what each step would change, and changes nothing.
let planCommand = Subcommand(
    "plan", summary: "show what apply would change, changing nothing",
    usage: """
        Usage: kfc-provision plan [OPTIONS]

        Prints the config values in effect and, for each step, what is already done, what
        apply would change, what is skipped and what blocks it. Exits 1 when a step is
        blocked or cannot be inspected.

        Options:
        \(RunOptions.usage)
        """
) { arguments, logger in
    let run = try RunOptions.take(from: &arguments)
    try arguments.finish()
    let outcomes = try run.provisioner(logger: logger).inspect()
    StandardOutput.line(run.header.joined(separator: "\n"))
    for outcome in outcomes {
        StandardOutput.line(
            "\n" + describe(outcome, changeLabel: "would   ").joined(separator: "\n"))
    }
    let changes = outcomes.reduce(0) { $0 + ($1.report?.changes.count ?? 0) }
    let blocked = outcomes.filter { $0.error != nil || $0.report?.problems.isEmpty == false }
    StandardOutput.line("\nplan: \(changes) changes, \(blocked.count) blocked steps")
    return blocked.isEmpty ? 0 : 1
}
