import Foundation
import KFCCore

/// Step 3: kfc's own commands installed to /usr/local/bin from the release build folder.
public struct ExecutablesStep: ProvisioningStep {
    public let name = "executables"
    public let summary = "kfc's own commands are installed in /usr/local/bin"

    /// Every command this package builds.
    // NOTE: a command added to Package.swift must be added here too, or it is not installed.
    public static let commands = ["kfc-image", "kfc-provision"]

    /// A step for the commands of `commands`.
    public init() {}

    public func inspect(_ context: ProvisioningContext) throws -> StepReport {
        var report = StepReport()
        let folder = try ExecutablesStep.sourceFolder(context)
        for command in ExecutablesStep.commands {
            let source = "\(folder)/\(command)"
            guard FileSystem.exists(source) else {
                report.problems.append(
                    "\(command) not found in \(folder) (build it with 'swift build -c release' "
                        + "and pass --from, or set executables in the host config)")
                continue
            }
            let installed = InstalledProgram(
                source: source, path: "/usr/local/bin/\(command)", probe: ["--help"])
            report.merge(try installed.inspect(context))
        }
        return report
    }

    /// The folder to install from: `--from`, the config's `executables`, else the folder of
    /// the running executable.
    static func sourceFolder(_ context: ProvisioningContext) throws -> String {
        if let folder = context.options.executables ?? context.config.executables {
            return folder
        }
        let running = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        return (running as NSString).deletingLastPathComponent
    }
}
