import Archives
import Foundation
import KFCCore
import TestSupport
import Testing

@Suite("Unpacker")
struct UnpackerTests {
    @Test(
        "Alpine minirootfs unpacks with owners, modes and links",
        .enabled(if: TestEnvironment.isRoot && TestEnvironment.hasFixtures, "needs root and fixtures"))
    func alpineUnpacks() throws {
        let root = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(root) }
        let summary = try Unpacker.unpack(TestEnvironment.alpineTarball, into: root, logger: .silent)
        #expect(summary.entries == 518)

        var shadow = stat()
        #expect(lstat("\(root)/etc/shadow", &shadow) == 0)
        #expect(shadow.st_mode & 0o7777 == 0o640)
        #expect(shadow.st_gid == 42)

        let target = try FileManager.default.destinationOfSymbolicLink(atPath: "\(root)/bin/ls")
        #expect(target == "/bin/busybox")

        var busybox = stat()
        #expect(lstat("\(root)/bin/busybox", &busybox) == 0)
        #expect(busybox.st_mode & 0o4000 == 0, "busybox is not setuid in the minirootfs")
        #expect(busybox.st_mtim.tv_sec > 1_700_000_000)
    }

    @Test("entry with '..' is rejected before anything is written outside")
    func dotDotRejected() throws {
        let work = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(work) }
        let archive = try makeTar(in: work, entries: ["../escaped.txt": "x"])
        let root = "\(work)/root"
        try FileSystem.createDirectory(root)
        #expect {
            try Unpacker.unpack(archive, into: root, logger: .silent)
        } throws: { error in
            "\(error)".contains("'../escaped.txt' leaves the root")
        }
        #expect(!FileSystem.exists("\(work)/escaped.txt"))
    }

    @Test("entry below a symlink that points outside is rejected")
    func symlinkEscapeRejected() throws {
        let work = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(work) }
        let outside = "\(work)/outside"
        try FileSystem.createDirectory(outside)
        let staging = "\(work)/staging"
        try FileSystem.createDirectory(staging)
        try FileManager.default.createSymbolicLink(atPath: "\(staging)/link", withDestinationPath: outside)
        try FileSystem.createDirectory("\(work)/other/link")
        try Data("evil".utf8).write(to: URL(fileURLWithPath: "\(work)/other/link/file"))
        let archive = "\(work)/evil.tar"
        try Command("tar", ["-cf", archive, "-C", staging, "link"]).run()
        try Command("tar", ["-rf", archive, "-C", "\(work)/other", "link/file"]).run()

        let root = "\(work)/root"
        try FileSystem.createDirectory(root)
        #expect(throws: KFCError.self) {
            try Unpacker.unpack(archive, into: root, logger: .silent)
        }
        #expect(!FileSystem.exists("\(outside)/file"))
    }

    @Test("a file that is not an archive gives an error naming it")
    func notAnArchive() throws {
        let work = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(work) }
        let path = "\(work)/plain.txt"
        try Data("hello, this is not a tarball".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try Unpacker.unpack(path, into: work, logger: .silent)
        } throws: { error in
            "\(error)".contains("plain.txt")
        }
    }

    @Test("raw stream decompression reads gzip and rejects plain data")
    func rawStream() throws {
        let work = try TestEnvironment.temporaryDirectory()
        defer { try? FileSystem.remove(work) }
        let text = Data(String(repeating: "kfc golden image ", count: 1000).utf8)
        try text.write(to: URL(fileURLWithPath: "\(work)/data"))
        try Command("gzip", ["-k", "\(work)/data"]).run()
        let compressed = try FileSystem.read("\(work)/data.gz")
        #expect(try RawStream.decompress(compressed, context: "data.gz") == text)
        #expect(RawStream.filterName(compressed) == "gzip")
        #expect(throws: KFCError.self) { try RawStream.decompress(text, context: "data") }
    }

    /// Writes a tar with the given names and contents through Python's tarfile, which keeps
    /// names such as `../x` that GNU tar would strip.
    private func makeTar(in folder: String, entries: [String: String]) throws -> String {
        let archive = "\(folder)/test.tar"
        let pairs = entries.map { "(\"\($0.key)\", b\"\($0.value)\")" }.joined(separator: ",")
        let script = """
            import io, tarfile
            with tarfile.open("\(archive)", "w") as t:
                for name, data in [\(pairs)]:
                    info = tarfile.TarInfo(name); info.size = len(data)
                    t.addfile(info, io.BytesIO(data))
            """
        try Command("python3", ["-c", script]).run()
        return archive
    }
}
