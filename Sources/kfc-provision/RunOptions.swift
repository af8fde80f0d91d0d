import KFCCore
import Provisioning
import Recipes

/// The options `plan`, `apply` and `check` share.
struct RunOptions {
    var config: HostConfig
    var options: ProvisioningOptions
    var steps: [String]

    /// The usage lines of the shared options.
    static let usage = """
          --config FILE  the host config (default \(HostConfig.defaultPath); absent means
                         every default)
          --root DIR     write the file-level steps under DIR and skip the live ones
          --from DIR     the folder of kfc's release executables (default: executables in
                         the config, else the folder of this program)
          --netns NAME   run the live network actions (sysctl, NAT) inside network
                         namespace NAME
          --step NAME    run only this step; may be repeated. Steps:
                         \(stepNames)
        """

    static var stepNames: String {
        Provisioner.standardSteps.map(\.name).joined(separator: ", ")
    }

    /// Takes the shared options from `arguments`.
    static func take(from arguments: inout Arguments) throws -> RunOptions {
        let path = try arguments.option("--config") ?? HostConfig.defaultPath
        let root = try arguments.option("--root") ?? "/"
        guard root.hasPrefix("/") else {
            throw KFCError.usage("\(arguments.command): --root needs an absolute path")
        }
        guard FileSystem.isDirectory(root) else {
            throw KFCError.notFound("--root \(root)", "no such folder")
        }
        let namespace = try arguments.option("--netns")
        if namespace != nil, root != "/" {
            throw KFCError.usage(
                "\(arguments.command): --netns runs live actions, which --root skips; give one")
        }
        let options = ProvisioningOptions(
            root: root, networkNamespace: namespace, executables: try arguments.option("--from"))
        let steps = try arguments.options("--step")
        return RunOptions(config: try HostConfig.load(path), options: options, steps: steps)
    }

    /// A provisioner of the chosen steps.
    func provisioner(logger: Logger) throws -> Provisioner {
        let context = ProvisioningContext(config: config, options: options, logger: logger)
        return try Provisioner(context: context, only: steps)
    }

    /// The config values in effect and the root, as printed by `plan` and `check`.
    var header: [String] {
        var lines = ["config: \(config.file ?? "\(HostConfig.defaultPath) absent, defaults")"]
        for (key, value) in config.settings {
            lines.append("  " + key.padding(toLength: 12, withPad: " ", startingAt: 0) + value)
        }
        let mode = options.live ? "live" : "live steps skipped"
        lines.append("root: \(options.root) (\(mode))")
        return lines
    }
}

/// The lines that show one step's outcome: what is fine, what would change, what was
/// skipped and what blocks it.
func describe(_ outcome: StepOutcome, changeLabel: String) -> [String] {
    var lines = ["\(outcome.step): \(outcome.summary)"]
    if let error = outcome.error { lines.append("  error    \(error.description)") }
    guard let report = outcome.report else { return lines }
    lines += report.findings.map { "  ok       \($0)" }
    lines += report.changes.map { "  \(changeLabel) \($0.summary)" }
    lines += report.skipped.map { "  skipped  \($0)" }
    lines += report.problems.map { "  problem  \($0)" }
    return lines
}
