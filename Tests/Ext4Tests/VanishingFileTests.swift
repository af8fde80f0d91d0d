import Foundation
import KFCCore
import TestSupport
import Testing

@testable import Ext4

@Suite("ext4 writer with a source that changes")
struct VanishingFileTests {
    /// Scans `source`, lets `change` alter it, then writes the scanned tree.
    private func writeAfterChange(
        _ folder: String, _ change: (TreeBuilder) throws -> Void
    ) throws -> KFCError? {
        let source = folder + "/tree"
        let tree = try DirectoryScanner.scan(source, logger: .silent)
        try change(TreeBuilder(root: source))
        let settings = try Ext4Writer.Settings(Ext4Options(epoch: 1_000))
        do {
            _ = try Ext4Writer.write(
                tree: tree, source: source, image: folder + "/out.ext4", settings, .silent
            ) { filesystem, fd, hasher in
                let copier = ContentCopier(
                    filesystem: filesystem, imageFD: fd, tree: tree, root: source,
                    hasher: hasher, logger: .silent)
                try copier.copyAll()
                return (copier.extents, copier.dataBlocks)
            }
            return nil
        } catch let error as KFCError {
            return error
        }
    }

    private func makeSource() throws -> String {
        let folder = try TestEnvironment.temporaryDirectory("kfc-ext4-vanish")
        try FileSystem.createDirectory(folder + "/tree")
        let tree = TreeBuilder(root: folder + "/tree")
        try tree.file("kept", Array("stays".utf8))
        try tree.file("victim", [UInt8](repeating: 1, count: 100_000))
        return folder
    }

    @Test("file removed after scan fails")
    func removedFile() throws {
        let folder = try makeSource()
        defer { try? FileSystem.remove(folder) }
        let failure = try writeAfterChange(folder) { tree in
            try tree.call("unlink", unlink(folder + "/tree/victim"))
        }
        #expect(failure?.description.contains("victim") == true)
        #expect(!FileSystem.exists(folder + "/out.ext4"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["tree"])
    }

    @Test("file shrunk after scan fails")
    func shrunkFile() throws {
        let folder = try makeSource()
        defer { try? FileSystem.remove(folder) }
        let failure = try writeAfterChange(folder) { tree in
            try tree.call("truncate", truncate(folder + "/tree/victim", 10))
        }
        #expect(failure?.description.contains("changed") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["tree"])
    }

    @Test("file swapped for symlink fails")
    func replacedBySymlink() throws {
        let folder = try makeSource()
        defer { try? FileSystem.remove(folder) }
        let failure = try writeAfterChange(folder) { tree in
            try tree.call("unlink", unlink(folder + "/tree/victim"))
            try tree.symlink(Array("victim".utf8), to: Array("/etc/passwd".utf8))
        }
        #expect(failure != nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder) == ["tree"])
    }
}
