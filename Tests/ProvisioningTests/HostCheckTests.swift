import Foundation
import KFCCore
import Provisioning
import Recipes
import TestSupport
import Testing

@Suite("KVM step and host check")
struct HostCheckTests {
    func inspectKVM(cpuinfo: String, device: String, root: String) throws -> StepReport {
        let options = ProvisioningOptions(root: root, live: true)
        let context = ProvisioningContext(config: HostConfig(), options: options, logger: .silent)
        return try KVMStep(cpuinfo: cpuinfo, device: device).inspect(context)
    }

    @Test(
        "CPU flags decide KVM support",
        arguments: [
            ("fpu vme vmx sse2", "the CPU has vmx (Intel VT-x)"),
            ("fpu svm lm", "the CPU has svm (AMD-V)"),
        ])
    func cpuFlags(flags: String, finding: String) throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let cpuinfo = "processor\t: 0\nflags\t\t: \(flags)\n\nprocessor\t: 1\nflags\t\t: \(flags)\n"
        try FileSystem.writeAtomically(Data(cpuinfo.utf8), to: "\(folder)/cpuinfo")
        let report = try inspectKVM(cpuinfo: "\(folder)/cpuinfo", device: "/dev/null", root: folder)
        #expect(report.findings.contains(finding))
        #expect(!report.problems.contains { $0.contains("vmx") })
    }

    @Test("no vmx or svm and no device are problems")
    func noVirtualization() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        try FileSystem.writeAtomically(
            Data("flags\t\t: fpu sse2 hypervisor\n".utf8),
            to: "\(folder)/cpuinfo")
        let report = try inspectKVM(
            cpuinfo: "\(folder)/cpuinfo", device: "\(folder)/kvm", root: folder)
        #expect(report.problems.count == 2)
        #expect(report.problems.first?.contains("neither vmx nor svm") == true)
        #expect(report.problems.last?.hasPrefix("\(folder)/kvm not found") == true)
        #expect(!report.isSatisfied)
    }

    /// Reads this machine without changing it; the network parts run inside a test
    /// namespace, so no nft or sysctl command runs in the machine's own namespace.
    @Test(
        "check on this host reports /dev/kvm",
        .enabled(if: TestNamespace.available, "needs root and the ip, nft and sysctl tools"))
    func checkThisHost() throws {
        let namespace = try TestNamespace()
        defer { namespace.remove() }
        let options = ProvisioningOptions(networkNamespace: namespace.name)
        let context = ProvisioningContext(config: HostConfig(), options: options, logger: .silent)
        let outcomes = try Provisioner(context: context).inspect()
        #expect(outcomes.map(\.step) == Provisioner.standardSteps.map(\.name))

        let kvm = outcomes.first { $0.step == "kvm" }?.report
        let hasDevice = FileSystem.exists("/dev/kvm")
        #expect(kvm?.findings.contains { $0.hasPrefix("/dev/kvm present") } == hasDevice)
        for outcome in outcomes {
            let report = outcome.report
            let lines =
                (report?.findings ?? []) + (report?.problems ?? [])
                + (report?.changes.map(\.summary) ?? []) + [outcome.error?.description ?? ""]
            print("check \(outcome.step): \(outcome.isSatisfied ? "ready" : "not ready")")
            for line in lines where !line.isEmpty { print("  \(line)") }
        }
    }

    @Test("kvm group is added under a root")
    func kvmGroupUnderRoot() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let provisioner = try host.provisioner(try host.config(), only: ["kvm"])
        let skipped = provisioner.inspect().first?.report?.skipped ?? []
        #expect(skipped.contains("the kvm group: \(host.root)/etc/group not found"))

        try FileSystem.createDirectory(host.root + "/etc")
        try FileSystem.writeAtomically(Data("root:x:0:\n".utf8), to: host.root + "/etc/group")
        try FileSystem.writeAtomically(Data("root:*::\n".utf8), to: host.root + "/etc/gshadow")
        let applied = try provisioner.apply().first?.applied ?? []
        #expect(applied.contains("create the system group kvm"))
        let group = String(decoding: try FileSystem.read(host.root + "/etc/group"), as: UTF8.self)
        #expect(group.split(separator: "\n").contains { $0.hasPrefix("kvm:x:") })
        #expect(try provisioner.apply().first?.applied.isEmpty == true)
    }
}
