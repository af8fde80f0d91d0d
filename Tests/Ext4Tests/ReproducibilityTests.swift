import Ext4
import Foundation
import KFCCore
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("ext4 reproducibility")
struct ReproducibilityTests {
    /// The entries of the test tree, created in the given order.
    private static let files: [(String, String)] = (0..<400).map {
        ("folder-\($0 % 7)/file-\($0)", "content of file \($0)\n")
    }

    /// Creates the tree under `root` in the order of `order`, with times from `clock`.
    private static func build(_ root: String, order: [Int], clock: Int) throws {
        let tree = TreeBuilder(root: root)
        for folder in 0..<7 { try tree.directory("folder-\(folder)") }
        for index in order {
            let (path, content) = files[index]
            try tree.file(path, Array(content.utf8))
            try tree.times(Array(path.utf8), seconds: clock + index, nanoseconds: index)
            try tree.attribute(Array(path.utf8), "user.index", Array("\(index)".utf8))
        }
        try tree.symlink(Array("link".utf8), to: Array("folder-0/file-0".utf8))
        try tree.hardLink("folder-1/hard", to: "folder-0/file-0")
    }

    @Test("same tree gives identical images")
    func identicalImages() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-reproducible")
        defer { try? FileSystem.remove(folder) }
        let first = folder + "/first"
        let second = folder + "/second/nested"
        try FileSystem.createDirectory(first)
        try FileSystem.createDirectory(second)
        try ReproducibilityTests.build(first, order: Array(0..<400), clock: 1_900_000_000)
        var shuffled = Array(0..<400)
        shuffled.shuffle()
        try ReproducibilityTests.build(second, order: shuffled, clock: 2_000_000_000)

        // The epoch is older than both clocks, so every time is clamped to it.
        let options = Ext4Options(epoch: 1_700_000_000)
        let one = try Ext4Writer.write(
            directory: first, to: folder + "/one.ext4", options: options, logger: .silent)
        // A later second on the wall clock, which no field of the image may show.
        Thread.sleep(forTimeInterval: 1.1)
        let two = try Ext4Writer.write(
            directory: second, to: folder + "/two.ext4", options: options, logger: .silent)
        #expect(one.uuid == two.uuid)
        let digestOne = try Digest.ofFile(folder + "/one.ext4")
        let digestTwo = try Digest.ofFile(folder + "/two.ext4")
        #expect(digestOne == digestTwo)
    }

    @Test("different content changes UUID")
    func contentChangesUUID() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-uuid")
        defer { try? FileSystem.remove(folder) }
        let tree = TreeBuilder(root: folder + "/tree")
        try FileSystem.createDirectory(folder + "/tree")
        try tree.file("a", Array("same size one".utf8))
        let options = Ext4Options(epoch: 1_000)
        let before = try Ext4Writer.write(
            directory: folder + "/tree", to: folder + "/a.ext4", options: options, logger: .silent)
        try tree.file("a", Array("same size two".utf8))
        let after = try Ext4Writer.write(
            directory: folder + "/tree", to: folder + "/b.ext4", options: options, logger: .silent)
        #expect(before.uuid != after.uuid)
    }

    @Test("given UUID is kept")
    func givenUUID() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-given-uuid")
        defer { try? FileSystem.remove(folder) }
        try FileSystem.createDirectory(folder + "/tree")
        let uuid = UUID(uuidString: "0f3c2a9e-8d1b-4c6e-9a7f-5b2d1e0c4a38")!
        let summary = try Ext4Writer.write(
            directory: folder + "/tree", to: folder + "/a.ext4",
            options: Ext4Options(label: "given", uuid: uuid, epoch: 1_000), logger: .silent)
        #expect(summary.uuid == uuid)
        let image = try Ext4Image(path: folder + "/a.ext4")
        #expect(image.uuid == uuid)
        #expect(image.label == "given")
    }

    @Test(
        "same archive gives identical images",
        .enabled(if: TestEnvironment.hasFixtures, "needs the fixture folder"))
    func identicalArchiveImages() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-archive")
        defer { try? FileSystem.remove(folder) }
        let options = Ext4Options(epoch: 1_800_000_000)
        var digests: [Digest] = []
        for name in ["one", "two"] {
            let image = "\(folder)/\(name).ext4"
            _ = try Ext4Writer.write(
                archive: TestEnvironment.alpineTarball, to: image, options: options,
                logger: .silent)
            digests.append(try Digest.ofFile(image))
        }
        #expect(digests[0] == digests[1])
        let reader = try Ext4Image(path: "\(folder)/one.ext4")
        let inittab = try reader.read("/etc/inittab")
        #expect(String(decoding: inittab, as: UTF8.self).contains("::sysinit:"))
        let shadow = try reader.stat("/etc/shadow")
        #expect(shadow.permissions == 0o640)
        #expect(shadow.gid == 42)
        #expect(try reader.readlink("/bin/sh") == Array("/bin/busybox".utf8))
    }
}
