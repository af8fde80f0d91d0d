import Foundation
import KFCCore
import TestSupport
import Testing
import VMM

/// Whether the real Firecracker program and /dev/kvm are present.
private let canRunFirecracker =
    BootFixtures.canBuildImages && TestEnvironment.hasTools("firecracker")
    && FileSystem.exists("/dev/kvm")

@Suite(
    "Firecracker driver", .serialized,
    .enabled(if: canRunFirecracker, "needs firecracker on PATH, /dev/kvm and the fixtures"))
struct FirecrackerTests {
    @Test("configuration is accepted")
    func configurationAccepted() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let image = try BootFixtures.alpineImage(in: folder)
        let work = "\(folder)/work"
        try FileSystem.createDirectory(work)
        let request = BootRequest(
            kernel: TestEnvironment.kernel, image: image, marker: "never-printed",
            workDirectory: work, timeout: 10)

        // Every PUT must be accepted for boot() to return; a rejection throws.
        let outcome = try FirecrackerDriver().boot(request, logger: .silent)
        #expect(outcome.vmm == "firecracker")
        #expect(!outcome.reachedMarker)
        let failure = try #require(outcome.failure)
        // On a host whose KVM fails the guest, the failure names KVM and the fallback.
        if failure.contains("KVM") {
            #expect(failure.contains("--vmm qemu"))
        }
        #expect(!FileSystem.exists("\(work)/firecracker.socket"))
        #expect(BootFixtures.livingChildren(named: "firecracker") == [])
    }

    @Test("missing kernel is rejected by the API")
    func missingKernelRejected() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let request = BootRequest(
            kernel: "\(folder)/no-such-vmlinux", image: TestEnvironment.kernel, marker: "x",
            workDirectory: folder, timeout: 5)
        do {
            _ = try FirecrackerDriver().boot(request, logger: .silent)
            Issue.record("Firecracker accepted a missing kernel")
        } catch {
            let failure = error.asKFCError()
            #expect(failure.context == "firecracker PUT /boot-source")
            #expect(failure.reason.hasPrefix("rejected with HTTP 400: The kernel file cannot"))
        }
        #expect(!FileSystem.exists("\(folder)/firecracker.socket"))
        #expect(BootFixtures.livingChildren(named: "firecracker") == [])
    }

    @Test("invalid machine config is rejected")
    func invalidMachineConfig() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let request = BootRequest(
            kernel: TestEnvironment.kernel, image: TestEnvironment.kernel, marker: "x",
            workDirectory: folder, timeout: 5, vcpus: 0)
        do {
            _ = try FirecrackerDriver().boot(request, logger: .silent)
            Issue.record("Firecracker accepted zero vCPUs")
        } catch {
            let failure = error.asKFCError()
            #expect(failure.context == "firecracker PUT /machine-config")
            #expect(failure.reason.hasPrefix("rejected with HTTP 400"))
        }
    }
}
