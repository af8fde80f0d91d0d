import Ext4
import Foundation
import KFCCore
import TestSupport
import Testing

@Suite("ext4 image reader")
struct ReaderTests {
    /// Writes a small tree and opens its image.
    private static func makeImage(_ folder: String) throws -> Ext4Image {
        let source = folder + "/tree"
        try FileSystem.createDirectory(source)
        let tree = TreeBuilder(root: source)
        try tree.directory("etc")
        try tree.file("etc/hostname", Array("golden\n".utf8), mode: 0o600)
        try tree.file(Array("etc/".utf8) + [0xff, 0x41], Array("not utf-8".utf8))
        try tree.symlink(Array("hostname-link".utf8), to: Array("/etc/hostname".utf8))
        try tree.symlink(Array("long-link".utf8), to: [UInt8](repeating: 0x61, count: 300))
        try tree.attribute(Array("etc/hostname".utf8), "user.role", Array("test".utf8))
        try tree.times(Array("etc/hostname".utf8), seconds: 500, nanoseconds: 123_456_789)
        let image = folder + "/reader.ext4"
        _ = try Ext4Writer.write(
            directory: source, to: image,
            options: Ext4Options(label: "reader", epoch: 1_000), logger: .silent)
        return try Ext4Image(path: image)
    }

    @Test("lists folders sorted by name bytes")
    func list() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-reader")
        defer { try? FileSystem.remove(folder) }
        let image = try ReaderTests.makeImage(folder)
        let root = try image.list("/")
        #expect(root.map(\.name) == ["etc", "hostname-link", "long-link", "lost+found"])
        let etc = try image.list("/etc")
        #expect(etc.map(\.nameBytes) == [Array("hostname".utf8), [0xff, 0x41]])
        #expect(image.label == "reader")
        #expect(image.features.contains("metadata_csum"))
        #expect(image.features.contains("has_journal"))
    }

    @Test("reads files through symlinks inside the image")
    func read() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-reader")
        defer { try? FileSystem.remove(folder) }
        let image = try ReaderTests.makeImage(folder)
        #expect(try image.read("/etc/hostname") == Data("golden\n".utf8))
        #expect(try image.read("/hostname-link") == Data("golden\n".utf8))
        #expect(try image.readlink("/hostname-link") == Array("/etc/hostname".utf8))
        #expect(try image.readlink("/long-link") == [UInt8](repeating: 0x61, count: 300))
    }

    @Test("stat reports mode, times and xattrs")
    func stat() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-reader")
        defer { try? FileSystem.remove(folder) }
        let image = try ReaderTests.makeImage(folder)
        let entry = try image.stat("/etc/hostname")
        #expect(entry.kind == .regular)
        #expect(entry.permissions == 0o600)
        #expect(entry.size == 7)
        #expect(entry.modificationTime == 500)
        #expect(entry.modificationNanoseconds == 123_456_789)
        #expect(try image.stat("/hostname-link").kind == .symlink)
        let attributes = try image.attributes("/etc/hostname")
        #expect(attributes.map(\.name) == ["user.role"])
        #expect(attributes.first?.value == Array("test".utf8))
    }

    @Test("missing paths and wrong kinds")
    func errors() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-reader")
        defer { try? FileSystem.remove(folder) }
        let image = try ReaderTests.makeImage(folder)
        #expect(throws: KFCError.self) { try image.stat("/no/such") }
        #expect(throws: KFCError.self) { try image.read("/etc") }
        #expect(throws: KFCError.self) { try image.list("/etc/hostname") }
        #expect(throws: KFCError.self) { try image.readlink("/etc/hostname") }
        #expect(throws: KFCError.self) { try Ext4Image(path: folder + "/tree/etc/hostname") }
    }

    @Test(
        "reads an image that mke2fs made",
        .enabled(if: TestEnvironment.hasTools("mke2fs"), "needs mke2fs"))
    func mke2fsImage() throws {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-reader-mke2fs")
        defer { try? FileSystem.remove(folder) }
        let source = folder + "/tree"
        try FileSystem.createDirectory(source)
        let tree = TreeBuilder(root: source)
        try tree.directory("etc")
        try tree.file("etc/motd", Array("welcome\n".utf8))
        for index in 0..<500 { try tree.file("etc/entry-\(index)") }
        try tree.symlink(Array("motd".utf8), to: Array("etc/motd".utf8))
        let image = folder + "/mke2fs.ext4"
        try Command(
            "mke2fs", ["-q", "-F", "-t", "ext4", "-d", source, image, "16M"]
        ).run()

        let reader = try Ext4Image(path: image)
        #expect(try reader.read("/motd") == Data("welcome\n".utf8))
        #expect(try reader.list("/etc").count == 501)
        #expect(try reader.readlink("/motd") == Array("etc/motd".utf8))
        #expect(reader.features.contains("extent"))
        #expect(reader.features.allSatisfy { !$0.contains("0x") })
    }
}
