import Foundation
import KFCCore

/// One step of provisioning a host: it inspects the host and lists the changes that would
/// bring it to the intended state.
///
/// `inspect` changes nothing, so `plan` and `check` can call it freely. `apply` runs the
/// changes in order and inspects again; a step that still reports changes has failed.
public protocol ProvisioningStep: Sendable {
    /// A short lowercase name used in output and with `--step`, such as `sysctl`.
    var name: String { get }
    /// One line saying what the step makes true.
    var summary: String { get }
    /// Looks at the host (or the root) and reports what is done, missing and impossible.
    func inspect(_ context: ProvisioningContext) throws -> StepReport
}

/// One change a step would make, with the action that makes it.
public struct Change {
    /// The change as a sentence fragment, such as `create folder /srv/jailer`.
    public var summary: String
    /// Makes the change; throws a `KFCError` that names what failed.
    public var action: () throws -> Void

    /// Creates a change described by `summary`.
    public init(_ summary: String, action: @escaping () throws -> Void) {
        self.summary = summary
        self.action = action
    }
}

/// The findings of one step's inspection.
public struct StepReport {
    /// Facts that are already as intended, such as `/dev/kvm present`.
    public var findings: [String] = []
    /// Changes that would bring the host to the intended state, in the order to apply them.
    public var changes: [Change] = []
    /// Parts left out, each with the reason, such as live actions under `--root`.
    public var skipped: [String] = []
    /// Reasons the step cannot succeed whatever it changes; they stop `apply`.
    public var problems: [String] = []

    /// An empty report.
    public init() {}

    /// Whether nothing is left to change and nothing blocks the step.
    public var isSatisfied: Bool { changes.isEmpty && problems.isEmpty }

    /// Adds `other`'s entries after this report's.
    public mutating func merge(_ other: StepReport) {
        findings += other.findings
        changes += other.changes
        skipped += other.skipped
        problems += other.problems
    }
}
