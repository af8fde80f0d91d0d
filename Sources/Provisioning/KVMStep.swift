import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// Step 1: KVM can run guests. `/dev/kvm` exists, the CPU has vmx or svm, and the device
/// belongs to the `kvm` group with mode 0660 (kept over reboots by a udev rule).
public struct KVMStep: ProvisioningStep {
    public let name = "kvm"
    public let summary = "KVM is usable: /dev/kvm, CPU virtualization flags, the kvm group"

    /// The file whose `flags` lines are searched for vmx and svm.
    public var cpuinfo: String
    /// The KVM device.
    public var device: String

    /// The udev rule that gives the device to the kvm group at every boot.
    static let udevRule = ManagedFile(
        "/etc/udev/rules.d/65-kfc-kvm.rules",
        "# Written by kfc-provision: firecracker runs as a member of the kvm group.\n"
            + "KERNEL==\"kvm\", GROUP=\"kvm\", MODE=\"0660\"\n")

    /// A step that reads `cpuinfo` and checks `device`.
    public init(cpuinfo: String = "/proc/cpuinfo", device: String = "/dev/kvm") {
        self.cpuinfo = cpuinfo
        self.device = device
    }

    public func inspect(_ context: ProvisioningContext) throws -> StepReport {
        var report = try KVMStep.udevRule.inspect(context)
        report.merge(try inspectGroup(context))
        guard context.live else {
            report.skipped.append("\(device) and the CPU flags: \(context.liveSkipReason)")
            return report
        }
        report.merge(try inspectCPU())
        report.merge(inspectDevice())
        return report
    }

    /// Looks for vmx (Intel VT-x) or svm (AMD-V) among the CPU flags.
    func inspectCPU() throws -> StepReport {
        var report = StepReport()
        let text = String(decoding: try FileSystem.read(cpuinfo), as: UTF8.self)
        let flags = Set(
            text.split(separator: "\n")
                .filter { $0.hasPrefix("flags") }
                .flatMap {
                    $0.split(separator: ":", maxSplits: 1).last?.split(separator: " ") ?? []
                }
                .map(String.init))
        if flags.contains("vmx") {
            report.findings.append("the CPU has vmx (Intel VT-x)")
        } else if flags.contains("svm") {
            report.findings.append("the CPU has svm (AMD-V)")
        } else {
            report.problems.append(
                "the CPU flags in \(cpuinfo) have neither vmx nor svm, so KVM cannot run "
                    + "guests (enable virtualization in the firmware, or nested "
                    + "virtualization when this host is itself a VM)")
        }
        return report
    }

    /// Checks that the device exists and belongs to the kvm group with mode 0660.
    func inspectDevice() -> StepReport {
        var report = StepReport()
        var info = stat()
        guard stat(device, &info) == 0 else {
            report.problems.append(
                "\(device) not found: load the kvm_intel or kvm_amd module, or enable "
                    + "virtualization in the firmware")
            return report
        }
        guard info.st_mode & S_IFMT == S_IFCHR else {
            report.problems.append("\(device) is not a character device")
            return report
        }
        let mode = info.st_mode & 0o777
        report.findings.append(
            "\(device) present (mode \(octal(mode)), \(info.st_uid):\(info.st_gid))")
        if KVMStep.kvmGroupID() != info.st_gid || mode != 0o660 {
            let device = self.device
            report.changes.append(
                Change("give \(device) to group kvm with mode 0660") {
                    guard let gid = KVMStep.kvmGroupID() else {
                        throw KFCError.notFound("group kvm", "not in the group database")
                    }
                    try SystemCall.retrying("chown \(device)") { chown(device, 0, gid) }
                    try SystemCall.retrying("chmod \(device)") { chmod(device, 0o660) }
                })
        } else {
            report.findings.append("\(device) belongs to group kvm with mode 0660")
        }
        return report
    }

    /// Checks that the kvm group exists: through the group database on the running host,
    /// in the root's /etc/group otherwise, where `groupadd --prefix` adds it.
    func inspectGroup(_ context: ProvisioningContext) throws -> StepReport {
        var report = StepReport()
        let root = context.options.root
        var arguments = ["--system", "kvm"]
        if root == "/" {
            if KVMStep.kvmGroupID() != nil {
                report.findings.append("the kvm group exists")
                return report
            }
        } else {
            let groupFile = try context.checkedPath("/etc/group")
            guard FileSystem.exists(groupFile) else {
                report.skipped.append("the kvm group: \(groupFile) not found")
                return report
            }
            let lines = String(decoding: try FileSystem.read(groupFile), as: UTF8.self)
                .split(separator: "\n")
            if lines.contains(where: { $0.hasPrefix("kvm:") }) {
                report.findings.append("the kvm group exists in \(groupFile)")
                return report
            }
            arguments = ["--prefix", root] + arguments
        }
        report.changes.append(
            Change("create the system group kvm") {
                try Command("groupadd", arguments).run(logger: context.logger)
            })
        return report
    }

    /// The group ID of `kvm` on the running host, or nil when the group does not exist.
    static func kvmGroupID() -> gid_t? {
        guard let entry = getgrnam("kvm") else { return nil }
        return entry.pointee.gr_gid
    }
}
