import Foundation
import KFCCore

/// Step 6: IPv4 forwarding, kept over reboots by a sysctl.d file and applied now.
public struct SysctlStep: ProvisioningStep {
    public let name = "sysctl"
    public let summary = "net.ipv4.ip_forward is 1, now and after a reboot"

    /// The sysctl.d file; its name sorts late so it wins over distribution defaults.
    static let file = ManagedFile(
        "/etc/sysctl.d/99-firecracker.conf",
        "# Written by kfc-provision: the host routes and masquerades microVM traffic.\n"
            + "net.ipv4.ip_forward = 1\n")

    /// A step for `file`.
    public init() {}

    public func inspect(_ context: ProvisioningContext) throws -> StepReport {
        var report = try SysctlStep.file.inspect(context)
        guard context.live else {
            report.skipped.append("net.ipv4.ip_forward now: \(context.liveSkipReason)")
            return report
        }
        // net.ipv4.ip_forward is per network namespace, so it is read and set through the
        // same command wrapper as the NAT rules.
        let current = try context.networkCommand("sysctl", ["-n", "net.ipv4.ip_forward"])
            .output(logger: context.logger)
        if current == "1" {
            report.findings.append("net.ipv4.ip_forward is 1")
        } else {
            let path = context.path(SysctlStep.file.path)
            report.changes.append(
                Change("set net.ipv4.ip_forward to 1 now (was \(current))") {
                    try context.networkCommand("sysctl", ["-q", "-p", path]).run(
                        logger: context.logger)
                })
        }
        return report
    }
}
