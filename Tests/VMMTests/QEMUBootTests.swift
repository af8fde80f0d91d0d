import Foundation
import KFCCore
import TestSupport
import Testing
import VMM

@Suite(
    "QEMU boot", .serialized,
    .enabled(if: BootFixtures.canBoot, "needs fixtures, tar, debugfs and qemu-system-x86_64"))
struct QEMUBootTests {
    @Test("verify boots Alpine to the marker")
    func verifyAlpine() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let image = try BootFixtures.alpineImage(in: folder)
        let before = try Digest.ofFile(image)
        let scratch = "\(folder)/scratch"
        try FileSystem.createDirectory(scratch)

        let outcome = try Verifier.verify(
            image: image, kernel: TestEnvironment.kernel,
            options: VerifyOptions(vmm: .qemu, timeout: 60, scratchFolder: scratch))
        #expect(outcome.reachedMarker, "\(outcome.failure ?? "") \(outcome.lastLines())")
        #expect(outcome.failure == nil)
        #expect(outcome.vmm.hasPrefix("qemu-"))
        let seconds = try #require(outcome.secondsToMarker)
        #expect(seconds > 0)
        #expect(seconds < 60)
        print("verify: \(outcome.vmm) reached the marker after \(seconds) s")
        #expect(outcome.serialLog.contains("Linux version 6.1.192"))
        #expect(try Digest.ofFile(image) == before, "the golden image was modified")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch) == [])
        #expect(BootFixtures.livingChildren(named: "qemu-system") == [])
    }

    @Test("verify names a removed init")
    func verifyWithoutInit() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let image = try BootFixtures.alpineImage(in: folder) { tree in
            try FileSystem.remove("\(tree)/sbin/init")
        }
        do {
            _ = try Verifier.verify(image: image, kernel: TestEnvironment.kernel)
            Issue.record("an image without /sbin/init was verified")
        } catch {
            let message = error.asKFCError().description
            #expect(message.hasPrefix(image))
            #expect(message.contains("init /sbin/init not found in the image"))
        }
    }

    @Test("missing init in the guest is diagnosed")
    func guestInitMissing() throws {
        let outcome = try bootAlpine(
            commandLine: BootRequest.commandLine(init: "/sbin/no-such-init"))
        #expect(!outcome.reachedMarker)
        let failure = try #require(outcome.failure)
        #expect(failure.contains("the init was not found or could not run"))
        #expect(failure.contains("/sbin/no-such-init"))
    }

    @Test("missing root device is diagnosed")
    func rootDeviceMissing() throws {
        let outcome = try bootAlpine(
            commandLine: "console=ttyS0 reboot=k panic=1 pci=off root=/dev/vdb rw")
        #expect(!outcome.reachedMarker)
        let failure = try #require(outcome.failure)
        #expect(failure.hasPrefix("no root device"))
        #expect(failure.contains("CONFIG_VIRTIO_MMIO"))
    }

    @Test("unknown filesystem is diagnosed")
    func unknownFilesystem() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        // 64 MiB of zeros: a disk the kernel finds, with no filesystem on it.
        let image = "\(folder)/zero.img"
        try Command("truncate", ["-s", "64M", image]).run()
        let request = BootRequest(
            kernel: TestEnvironment.kernel, image: image, marker: "never-printed",
            workDirectory: folder, timeout: 30)
        let outcome = try QEMUDriver(accelerators: [.tcg]).boot(request, logger: .silent)
        #expect(!outcome.reachedMarker)
        let failure = try #require(outcome.failure)
        #expect(failure.hasPrefix("filesystem not recognised"))
        #expect(failure.contains("CONFIG_EXT4_FS"))
    }

    @Test("timeout shows the console")
    func timeout() throws {
        // The Alpine init runs, but nothing prints this marker.
        let outcome = try bootAlpine(
            commandLine: BootRequest.commandLine(init: "/sbin/init"), timeout: 4)
        #expect(!outcome.reachedMarker)
        #expect(outcome.failure == "timed out before the marker appeared")
        #expect(!outcome.lastLines().isEmpty)
        #expect(BootFixtures.livingChildren(named: "qemu-system") == [])
    }

    @Test("bad kernel file fails before booting")
    func badKernel() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let image = try BootFixtures.alpineImage(in: folder)
        let bzImage = "\(TestEnvironment.fixtures)/bzImage-6.1.192-microvm-x86_64-gzip"
        do {
            _ = try Verifier.verify(image: image, kernel: bzImage)
            Issue.record("a bzImage was booted")
        } catch {
            #expect(error.asKFCError().description.contains("kfc-image kernel extract"))
        }
    }

    /// Boots an Alpine image with TCG and `commandLine`, waiting for a marker nothing prints.
    private func bootAlpine(commandLine: String, timeout: Double = 30) throws -> BootOutcome {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let image = try BootFixtures.alpineImage(in: folder)
        let request = BootRequest(
            kernel: TestEnvironment.kernel, image: image, marker: "never-printed",
            workDirectory: folder, commandLine: commandLine, timeout: timeout)
        return try QEMUDriver(accelerators: [.tcg]).boot(request, logger: .silent)
    }
}
