import Foundation
import KFCCore

/// One shell step run inside a tree: a recipe's `packages` or `setup`.
public struct SetupStep: Sendable {
    /// The step's name in logs and errors, such as `setup` or `packages`.
    public var name: String
    /// The shell script, run with the tree's /bin/sh.
    public var script: String
    /// Whether the step gets the host's network and resolv.conf. Without it, the step runs
    /// in a network namespace of its own with only a loopback device.
    public var network: Bool

    /// Creates a step.
    public init(name: String, script: String, network: Bool) {
        self.name = name
        self.script = script
        self.network = network
    }

    /// Makes the step that installs `packages` with apk.
    public static func packages(_ packages: [String]) -> SetupStep {
        let quoted = packages.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        let script = "set -eu\napk add --no-cache --no-progress -- \(quoted.joined(separator: " "))\n"
        return SetupStep(name: "packages", script: script, network: true)
    }
}
