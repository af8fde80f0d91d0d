import Ext4
import Foundation
import KFCCore
import TestSupport
import Testing

@Suite("ext4 image boots a microVM")
struct BootTests {
    @Test(
        "Alpine image boots and is writable",
        .enabled(if: TestEnvironment.hasFixtures, "needs the fixture folder"),
        .enabled(
            if: TestEnvironment.hasTools("qemu-system-x86_64", "e2fsck", "tar"),
            "needs qemu-system-x86_64, e2fsck and tar"))
    func alpineBoots() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-boot")
        defer { try? FileSystem.remove(folder) }
        let source = folder + "/tree"
        try FileSystem.createDirectory(source)
        try Command("tar", ["-xzf", TestEnvironment.alpineTarball, "-C", source]).run()
        // The kernel runs this as init: it writes through the journal, then reboots. A file
        // is used because qemu appends to the command line, so nothing may follow "--".
        let script = """
            #!/bin/sh
            echo kfc-marker-start
            cat /etc/alpine-release
            echo written > /root/probe
            cat /root/probe
            sync
            echo kfc-marker-end
            reboot -f

            """
        try TreeBuilder(root: source).file("check.sh", Array(script.utf8), mode: 0o755)
        let image = folder + "/rootfs.ext4"
        _ = try Ext4Writer.write(
            directory: source, to: image, options: Ext4Options(epoch: 1_800_000_000),
            logger: .silent)

        let arguments = [
            "-M", "microvm,accel=tcg,acpi=off", "-m", "128", "-nodefaults", "-no-user-config",
            "-nographic", "-serial", "stdio", "-no-reboot", "-kernel", TestEnvironment.kernel,
            "-append", "console=ttyS0 reboot=k panic=1 pci=off root=/dev/vda rw init=/check.sh",
            "-drive", "id=root,file=\(image),format=raw,if=none",
            "-device", "virtio-blk-device,drive=root",
        ]
        let result = try Command("qemu-system-x86_64", arguments).result(timeout: 180)
        let console = result.outputText
        #expect(console.contains("kfc-marker-start"), "console:\n\(console.suffix(2000))")
        #expect(console.contains("3.20.3"))
        #expect(console.contains("written"))
        #expect(console.contains("kfc-marker-end"))
        #expect(!console.contains("EXT4-fs error"))

        let check = try checkImage(image)
        #expect(check.status == 0, "e2fsck -fn after the boot:\n\(check.output)")
        #expect(try Ext4Image(path: image).read("/root/probe") == Data("written\n".utf8))
    }
}
