import Foundation
import KFCCore

/// Step 4: the folders firecracker and the jailer use, owned by root. /run is emptied at
/// boot, so /run/firecracker comes from a tmpfiles.d entry.
public struct FoldersStep: ProvisioningStep {
    public let name = "folders"
    public let summary = "the rootfs, function and jail folders exist with their modes"

    /// The folders created directly.
    static let folders = [
        ManagedFolder(path: "/var/lib/firecracker/rootfs", mode: 0o755),
        ManagedFolder(path: "/srv/functions", mode: 0o755),
        ManagedFolder(path: "/srv/jailer", mode: 0o755),
    ]

    /// The runtime folder for API sockets, recreated at every boot by systemd-tmpfiles.
    static let runtimeFolder = ManagedFolder(path: "/run/firecracker", mode: 0o755)

    /// The tmpfiles.d entry for `runtimeFolder`.
    static let tmpfilesEntry = ManagedFile(
        "/etc/tmpfiles.d/kfc.conf",
        "# Written by kfc-provision: API sockets of firecracker microVMs.\n"
            + "d /run/firecracker 0755 root root -\n")

    /// A step for the folders above.
    public init() {}

    public func inspect(_ context: ProvisioningContext) throws -> StepReport {
        var report = StepReport()
        for folder in FoldersStep.folders {
            report.merge(try folder.inspect(context))
        }
        report.merge(try FoldersStep.tmpfilesEntry.inspect(context))
        if context.live {
            report.merge(try FoldersStep.runtimeFolder.inspect(context))
        } else {
            report.skipped.append(
                "/run/firecracker now (tmpfiles.d makes it at boot): \(context.liveSkipReason)")
        }
        return report
    }
}
