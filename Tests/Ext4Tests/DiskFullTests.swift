import Ext4
import Foundation
import KFCCore
import TestSupport
import Testing

@Suite("ext4 writer on a full disk")
struct DiskFullTests {
    @Test(
        "full disk leaves no image",
        .enabled(if: TestEnvironment.isRoot, "needs root to mount a small tmpfs"))
    func diskFull() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-full")
        defer { try? FileSystem.remove(folder) }
        let source = folder + "/tree"
        try FileSystem.createDirectory(source)
        // Written bytes, not a hole, so the image needs 8 MiB of real blocks.
        try TreeBuilder(root: source).file("big", [UInt8](repeating: 0x5a, count: 8 << 20))

        let small = folder + "/small"
        try FileSystem.createDirectory(small)
        try Command("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", small]).run()
        defer { _ = try? Command("umount", [small]).run() }

        var failure: KFCError?
        do {
            _ = try Ext4Writer.write(
                directory: source, to: small + "/out.ext4", options: Ext4Options(epoch: 1_000),
                logger: .silent)
        } catch let error as KFCError {
            failure = error
        }
        #expect(failure?.description.contains("no space left") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: small).isEmpty)
    }
}
