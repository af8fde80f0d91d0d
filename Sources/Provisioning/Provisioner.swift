import Foundation
import KFCCore

/// The result of one step in a run: its inspection and the changes made.
public struct StepOutcome {
    /// The step's name.
    public var step: String
    /// The step's one-line summary.
    public var summary: String
    /// The inspection before any change; nil when inspecting threw `error`.
    public var report: StepReport?
    /// The error that stopped the inspection, when one did.
    public var error: KFCError?
    /// The changes made, empty for `plan` and `check`.
    public var applied: [String] = []

    /// Whether the step needs no change and nothing blocks it.
    public var isSatisfied: Bool { error == nil && report?.isSatisfied == true }
}

/// Runs provisioning steps in order: `plan` and `check` inspect them, `apply` makes the
/// changes they report.
public struct Provisioner {
    /// The steps in the order they run.
    public let steps: [any ProvisioningStep]
    /// The config, options and logger of the run.
    public let context: ProvisioningContext

    /// Every step, in order: KVM, binaries, our executables, folders, storage, sysctl, NAT
    /// and the golden image.
    public static let standardSteps: [any ProvisioningStep] = [
        KVMStep(), BinariesStep(), ExecutablesStep(), FoldersStep(), StorageStep(),
        SysctlStep(), NATStep(), GoldenImageStep(),
    ]

    /// A provisioner of `steps`, or of only those named in `only` when it is not empty.
    /// An unknown name in `only` is a usage error that lists the names.
    public init(
        context: ProvisioningContext, steps: [any ProvisioningStep] = standardSteps,
        only: [String] = []
    ) throws {
        let names = steps.map(\.name)
        if let unknown = only.first(where: { !names.contains($0) }) {
            throw KFCError.usage(
                "unknown step '\(unknown)' (steps: \(names.joined(separator: ", ")))")
        }
        self.steps = only.isEmpty ? steps : steps.filter { only.contains($0.name) }
        self.context = context
    }

    /// Inspects every step and changes nothing; a step that fails to inspect is reported
    /// in its outcome and the others still run.
    public func inspect() -> [StepOutcome] {
        steps.map { step in
            var outcome = StepOutcome(step: step.name, summary: step.summary)
            do {
                outcome.report = try withContext("step \(step.name)") { try step.inspect(context) }
            } catch {
                outcome.error = error.asKFCError("step \(step.name)")
            }
            return outcome
        }
    }

    /// Applies each step in order, passes each outcome to `finished` as the step ends, and
    /// returns them all.
    ///
    /// A step with problems, a failing change, or changes still reported after applying
    /// stops the run with an error that names the step. Earlier steps stay done, so running
    /// again continues where this run stopped.
    public func apply(finished: (StepOutcome) -> Void = { _ in }) throws -> [StepOutcome] {
        var outcomes: [StepOutcome] = []
        for step in steps {
            let outcome = try apply(step)
            finished(outcome)
            outcomes.append(outcome)
        }
        return outcomes
    }

    private func apply(_ step: any ProvisioningStep) throws -> StepOutcome {
        context.logger.info("step started", [("step", step.name)])
        do {
            let outcome = try applyChanges(step)
            let count = "\(outcome.applied.count)"
            context.logger.info("step done", [("step", step.name), ("changes", count)])
            return outcome
        } catch {
            let failure = error.asKFCError("step \(step.name)")
            context.logger.error(
                "step failed", [("step", step.name), ("error", failure.description)])
            throw failure
        }
    }

    private func applyChanges(_ step: any ProvisioningStep) throws -> StepOutcome {
        let logger = context.logger
        let label = "step \(step.name)"
        let report = try withContext(label) { try step.inspect(context) }
        for part in report.skipped {
            logger.info("step part skipped", [("step", step.name), ("reason", part)])
        }
        guard report.problems.isEmpty else {
            throw KFCError.failed(label, report.problems.joined(separator: "; "))
        }
        var outcome = StepOutcome(step: step.name, summary: step.summary, report: report)
        for change in report.changes {
            logger.info("applying change", [("step", step.name), ("change", change.summary)])
            try withContext("\(label): \(change.summary)") { try change.action() }
            outcome.applied.append(change.summary)
        }
        if !report.changes.isEmpty {
            // Inspecting again proves the step converged, so the next apply changes nothing.
            let after = try withContext(label) { try step.inspect(context) }
            guard after.changes.isEmpty else {
                let left = after.changes.map(\.summary).joined(separator: "; ")
                throw KFCError.failed(label, "still needs changes after applying: \(left)")
            }
        }
        return outcome
    }
}
