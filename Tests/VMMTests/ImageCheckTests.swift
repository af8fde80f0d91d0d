import Foundation
import KFCCore
import Kernels
import TestSupport
import Testing
import VMM

@Suite(
    "Image check",
    .enabled(if: BootFixtures.canBuildImages, "needs fixtures, tar and debugfs"))
struct ImageCheckTests {
    @Test("Alpine image passes")
    func alpinePasses() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let image = try BootFixtures.alpineImage(in: folder)
        let kernel = try KernelCheck.check(path: TestEnvironment.kernel)
        let report = try ImageCheck.check(
            image: image, kernel: kernel, requiredPaths: ["/bin/sh"])
        #expect(report.problems == [])
        #expect(report.resolvedInit == "/bin/busybox")
        #expect(report.interpreter == "/lib/ld-musl-x86_64.so.1")
    }

    @Test("removed init is named")
    func removedInit() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let image = try BootFixtures.alpineImage(in: folder) { tree in
            try FileSystem.remove("\(tree)/sbin/init")
        }
        let report = try ImageCheck.check(image: image, kernel: nil)
        #expect(report.problems == [
            "init /sbin/init not found in the image: /sbin/init does not exist",
        ])
        #expect(report.resolvedInit == nil)
    }

    @Test("links resolve inside the image")
    func linksInsideImage() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        // /usr/bin/qemu-system-x86_64 exists on the host but not in the image, so a check
        // that followed the link on the host would wrongly pass.
        let image = try BootFixtures.alpineImage(in: folder) { tree in
            try BootFixtures.link("\(tree)/sbin/init", to: "/usr/bin/qemu-system-x86_64")
            try BootFixtures.link("\(tree)/sbin/relative-init", to: "../bin/../bin/busybox")
        }
        let report = try ImageCheck.check(image: image, kernel: nil)
        #expect(report.problems == [
            "init /sbin/init not found in the image: /usr/bin/qemu-system-x86_64 does not exist",
        ])
        let relative = try ImageCheck.check(
            image: image, kernel: nil, initPath: "/sbin/relative-init")
        #expect(relative.problems == [])
        #expect(relative.resolvedInit == "/bin/busybox")
    }

    @Test("missing interpreter is named")
    func missingInterpreter() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let image = try BootFixtures.alpineImage(in: folder) { tree in
            try FileSystem.remove("\(tree)/lib/ld-musl-x86_64.so.1")
        }
        let report = try ImageCheck.check(image: image, kernel: nil)
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.contains(
            "needs the interpreter /lib/ld-musl-x86_64.so.1, which is not in the image") == true)
    }

    @Test("symlink loops are reported")
    func symlinkLoop() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let image = try BootFixtures.alpineImage(in: folder) { tree in
            try BootFixtures.link("\(tree)/sbin/init", to: "/sbin/loop")
            try BootFixtures.link("\(tree)/sbin/loop", to: "/sbin/init")
        }
        let report = try ImageCheck.check(image: image, kernel: nil)
        #expect(report.problems == [
            "init /sbin/init not found in the image: more than 40 symlinks",
        ])
    }

    @Test("old kernel cannot mount new features")
    func oldKernelFeatures() throws {
        let folder = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(folder) }
        let image = try BootFixtures.alpineImage(in: folder)
        var kernel = try KernelCheck.check(path: TestEnvironment.kernel)
        kernel.version = "3.10.0"
        let report = try ImageCheck.check(image: image, kernel: kernel)
        // The Ext4 writer enables metadata_csum (Linux 3.18 and later) by default.
        #expect(report.problems.contains {
            $0.contains("ext4 feature metadata_csum, which Linux 3.10.0 cannot mount")
        })
    }

    @Test("non-ext4 file is rejected")
    func notExt4() throws {
        do {
            _ = try ImageCheck.check(image: TestEnvironment.kernel, kernel: nil)
            Issue.record("a kernel file was accepted as an image")
        } catch {
            #expect(error.asKFCError().reason.contains("not an ext2/3/4 filesystem image"))
        }
    }
}
