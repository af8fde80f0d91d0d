import Foundation
import KFCCore
import Stores
import TestSupport
import Testing

@Suite("Directory replication")
struct DirectoryReplicationTests {
    let root: String
    let source: DirectoryStore
    let target: DirectoryStore

    init() throws {
        root = try TestEnvironment.temporaryDirectory("kfc-dir-replication")
        source = try DirectoryStore(root: "\(root)/source", logger: .silent)
        target = try DirectoryStore(root: "\(root)/target", logger: .silent)
    }

    @Test("full and incremental streams arrive identical")
    func fullThenIncremental() throws {
        defer { try? removeStore(root) }
        let first = try FakeVersions.publish(source)
        try source.recordVerification(FakeVersions.passing, name: "alpine",
            version: first.version)
        let second = try publishChanged(source)

        let full = try sendToFile(source, root: root, version: first.version, base: nil)
        let received = try receiveFile(target, full)
        #expect(received.relativeManifest == (try source.manifest(
            VersionReference(name: "alpine", selector: first.version))).relativeManifest)
        try expectSameTree(first, received)

        let delta = try sendToFile(source, root: root, version: second.version,
            base: first.version)
        #expect(try FileSystem.size(delta) < FileSystem.size(full))
        let receivedSecond = try receiveFile(target, delta)
        #expect(receivedSecond.relativeManifest == second.relativeManifest)
        try expectSameTree(second, receivedSecond)
        #expect(!FileSystem.exists("\(receivedSecond.tree)/etc/link"))
        #expect(try target.versions(name: "alpine").count == 2)
        #expect(try entries("\(root)/target/tmp").isEmpty)
    }

    @Test("cut or altered stream publishes nothing", arguments: ["cut", "altered", "header"])
    func damagedStream(damage: String) throws {
        defer { try? removeStore(root) }
        let manifest = try FakeVersions.publish(source)
        let stream = try sendToFile(source, root: root, version: manifest.version, base: nil)
        var data = try FileSystem.read(stream)
        switch damage {
        case "cut": data = data.prefix(data.count / 2)
        case "altered": data[data.count - 100] ^= 0xff
        default: data = data.prefix(20)
        }
        try data.write(to: URL(fileURLWithPath: stream))
        #expect(throws: KFCError.self) { try receiveFile(target, stream) }
        #expect(try target.versions(name: nil).isEmpty)
        #expect(try entries("\(root)/target/tmp").isEmpty)
        #expect(try entries("\(root)/target/images").allSatisfy {
            try entries("\(root)/target/images/\($0)").isEmpty
        })
    }

    @Test("incremental without its base is rejected")
    func incrementalNeedsBase() throws {
        defer { try? removeStore(root) }
        let first = try FakeVersions.publish(source)
        let second = try publishChanged(source)
        let delta = try sendToFile(source, root: root, version: second.version,
            base: first.version)
        let error = #expect(throws: KFCError.self) { try receiveFile(target, delta) }
        #expect(error?.description.contains("base version") == true)
        #expect(try target.versions(name: nil).isEmpty)
    }
}

/// Publishes a second version that changes a file, removes the symlink and adds a folder.
func publishChanged(_ store: any Store) throws -> VersionManifest {
    let pending = try store.beginVersion(name: "alpine", prefix: "3.20.3")
    var manifest = try FakeVersions.write(pending, content: "two", created: nil)
    try FileSystem.remove("\(pending.path)/rootfs/etc/link")
    try FileSystem.createDirectory("\(pending.path)/rootfs/var/lib")
    try FileSystem.writeAtomically(Data("new".utf8), to: "\(pending.path)/rootfs/var/lib/x")
    manifest.kernel?.source = "test"
    return try store.publish(pending, manifest: manifest)
}

/// Sends `alpine@version` to a file under `root` and returns its path.
func sendToFile(_ store: any Store, root: String, version: String, base: String?) throws
    -> String
{
    let path = "\(root)/\(version)-\(base ?? "full").stream"
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
        throw KFCError.failed("create \(path)", "could not create the file")
    }
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    try store.send(name: "alpine", version: version, base: base, to: handle)
    return path
}

/// Receives the stream file at `path`.
@discardableResult
func receiveFile(_ store: any Store, _ path: String) throws -> VersionManifest {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    return try store.receive(from: handle)
}

/// Expects the trees and images of two versions to match in content, modes and owners.
func expectSameTree(_ sent: VersionManifest, _ received: VersionManifest) throws {
    let listing: (String) throws -> String = { folder in
        try Command("find", [folder, "-printf", "%P %y %m %U:%G %s %l\n"]).output()
            .split(separator: "\n").sorted().joined(separator: "\n")
    }
    #expect(try listing(sent.tree) == listing(received.tree))
    #expect(try Digest.ofFile(received.image.path).hex == received.image.sha256)
    #expect(try Digest.ofFile(sent.image.path) == Digest.ofFile(received.image.path))
    #expect(try FileSystem.read("\(received.tree)/etc/release")
        == FileSystem.read("\(sent.tree)/etc/release"))
}

extension VersionManifest {
    /// The manifest with its paths made relative to its version folder, to compare stores.
    var relativeManifest: VersionManifest {
        var copy = self
        let folder = String(image.path[..<(image.path.lastIndex(of: "/") ?? image.path.endIndex)])
        let strip: (String) -> String = { $0.hasPrefix(folder + "/") ?
            String($0.dropFirst(folder.count + 1)) : $0 }
        copy.tree = strip(tree)
        copy.image.path = strip(image.path)
        copy.kernel?.path = strip(kernel?.path ?? "")
        return copy
    }
}
