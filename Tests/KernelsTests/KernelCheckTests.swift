import Foundation
import KFCCore
import Kernels
import TestSupport
import Testing

@Suite("Kernel check", .enabled(if: TestEnvironment.hasFixtures, "needs the fixture folder"))
struct KernelCheckTests {
    @Test("fixture vmlinux is a bootable microVM kernel")
    func fixtureKernel() throws {
        let report = try KernelCheck.check(path: KernelFixtures.vmlinux)
        #expect(report.version == KernelFixtures.release)
        #expect(report.banner?.hasPrefix("Linux version 6.1.192 (") == true)
        #expect(report.banner?.contains("#") == true)
        #expect(report.entry == 0x100_0000)
        #expect(report.pvh == 0x100_05f0)
        #expect(report.segments.count == 3)
        #expect(report.configSource == "embedded")
        #expect(report.problems == [])
        #expect(report.notes == [])
        #expect(report.isBootable)
        let names = report.options.map(\.name)
        #expect(names == RequiredOption.microVM.map(\.name))
        #expect(report.options.allSatisfy { $0.state == .builtIn })
    }

    @Test("bzImage is rejected naming extract", arguments: KernelFixtures.compressions)
    func bzImageRejected(compression: String) {
        let path = KernelFixtures.bzImage(compression)
        let message = KernelFixtures.errorMessage { _ = try KernelCheck.check(path: path) }
        #expect(message?.contains("bzImage") == true)
        #expect(message?.contains("kfc-image kernel extract") == true)
        #expect(message?.hasPrefix(path) == true)
    }

    @Test("bzImage renamed vmlinux is rejected")
    func renamedBzImage() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let bytes = Array(try FileSystem.read(KernelFixtures.bzImage("gzip")))
        let path = try KernelFixtures.write(bytes, "vmlinux", in: folder)
        let message = KernelFixtures.errorMessage { _ = try KernelCheck.check(path: path) }
        #expect(message?.contains("compressed bzImage") == true)
        #expect(message?.contains("kfc-image kernel extract \(path) vmlinux") == true)
    }

    @Test("truncated ELF kernel is rejected")
    func truncatedKernel() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let bytes = Array(try FileSystem.read(KernelFixtures.vmlinux))
        let cut = try KernelFixtures.write(Array(bytes.prefix(4 << 20)), "cut", in: folder)
        let message = KernelFixtures.errorMessage { _ = try KernelCheck.check(path: cut) }
        #expect(message?.contains("truncated: PT_LOAD segment") == true)
        #expect(message?.contains("the file has 4194304 bytes") == true)

        let stub = try KernelFixtures.write(Array(bytes.prefix(40)), "stub", in: folder)
        let short = KernelFixtures.errorMessage { _ = try KernelCheck.check(path: stub) }
        #expect(short?.contains("too short for an ELF header") == true)
    }

    @Test("program ELF is not a kernel")
    func programRejected() throws {
        let message = KernelFixtures.errorMessage { _ = try KernelCheck.check(path: "/bin/true") }
        #expect(message?.contains("/bin/true: a dynamically linked program") == true)
        #expect(message?.contains("not a kernel") == true)
    }

    @Test("text file is not a kernel")
    func textRejected() throws {
        let message = KernelFixtures.errorMessage {
            _ = try KernelCheck.check(path: KernelFixtures.config)
        }
        #expect(message?.contains("not a kernel: no ELF header (first bytes 23 0a 23") == true)
    }

    @Test("arm64 kernels are rejected on x86_64")
    func arm64Rejected() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        // The arm64 Image header: 64 bytes with the magic "ARM\x64" at 0x38.
        var header = [UInt8](repeating: 0, count: 64)
        header.replaceSubrange(0x38..<0x3c, with: [0x41, 0x52, 0x4d, 0x64])
        let image = try KernelFixtures.write(header, "Image", in: folder)
        let imageMessage = KernelFixtures.errorMessage { _ = try KernelCheck.check(path: image) }
        #expect(imageMessage?.contains("arm64 Image kernel") == true)

        // An ELF kernel whose e_machine is EM_AARCH64 (183).
        let elfBytes = try KernelFixtures.patched(KernelFixtures.vmlinux, at: 18, with: [183, 0])
        let elf = try KernelFixtures.write(elfBytes, "vmlinux-arm64", in: folder)
        let elfMessage = KernelFixtures.errorMessage { _ = try KernelCheck.check(path: elf) }
        #expect(elfMessage?.contains("built for aarch64") == true)
    }

    @Test("small guest memory is a problem")
    func smallMemory() throws {
        let report = try KernelCheck.check(path: KernelFixtures.vmlinux, memoryMiB: 16)
        #expect(!report.isBootable)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.contains("needs at least 29 MiB") == true)
    }

    @Test("kernel without embedded config")
    func missingConfig() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let path = try KernelFixtures.kernelWithoutConfig(in: folder)

        let report = try KernelCheck.check(path: path)
        #expect(report.options.isEmpty)
        #expect(report.configSource == nil)
        #expect(report.isBootable)
        #expect(report.notes.first?.contains("could not be checked") == true)

        let withFile = try KernelCheck.check(path: path, configPath: KernelFixtures.config)
        #expect(withFile.configSource == KernelFixtures.config)
        #expect(withFile.options.allSatisfy { $0.state == .builtIn })
        #expect(withFile.notes.isEmpty)
    }

    @Test("modules and missing options are problems")
    func moduleOptions() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let kernel = try KernelFixtures.kernelWithoutConfig(in: folder)
        let original = String(decoding: try FileSystem.read(KernelFixtures.config), as: UTF8.self)
        let edited = original
            .replacingOccurrences(of: "CONFIG_VIRTIO_BLK=y", with: "CONFIG_VIRTIO_BLK=m")
            .replacingOccurrences(of: "CONFIG_SERIO_I8042=y\n", with: "")
        let config = try KernelFixtures.write(Array(edited.utf8), "config", in: folder)

        let report = try KernelCheck.check(path: kernel, configPath: config)
        let states = Dictionary(uniqueKeysWithValues: report.options.map { ($0.name, $0.state) })
        #expect(states["VIRTIO_BLK"] == .module)
        #expect(states["SERIO_I8042"] == .missing)
        #expect(states["VIRTIO_MMIO"] == .builtIn)
        #expect(report.problems.count == 2)
        #expect(report.problems.contains { $0.hasPrefix("CONFIG_VIRTIO_BLK=m must be built in") })
        #expect(report.problems.contains { $0.hasPrefix("CONFIG_SERIO_I8042 is not set") })
    }

    @Test("config parser reads values and unset lines")
    func configParser() {
        let config = KernelConfig(
            text: "# comment\nCONFIG_A=y\nCONFIG_B=m\n# CONFIG_C is not set\nCONFIG_D=\"x\"\n")
        #expect(config.state(of: "A") == .builtIn)
        #expect(config.state(of: "B") == .module)
        #expect(config.state(of: "C") == .missing)
        #expect(config.state(of: "D") == .missing)
        #expect(config.values["D"] == "\"x\"")
    }
}
