import Foundation
import KFCCore
import Stores
import TestSupport
import Testing

@Suite("Channels and clones")
struct ChannelTests {
    let root: String
    let store: DirectoryStore

    init() throws {
        root = try TestEnvironment.temporaryDirectory("kfc-channels")
        store = try DirectoryStore(root: root, logger: .silent)
    }

    @Test("promote and rollback move a channel")
    func promoteAndRollback() throws {
        defer { try? removeStore(root) }
        try FakeVersions.publish(store)
        try FakeVersions.publish(store, content: "two")
        let first = try store.promote(
            name: "alpine", version: "3.20.3-1", channel: "stable", requireVerified: false)
        #expect(first.history.isEmpty)
        let second = try store.promote(
            name: "alpine", version: "3.20.3-2", channel: "stable", requireVerified: false)
        #expect(second.history == ["3.20.3-1"])
        #expect(try store.manifest(VersionReference(parsing: "alpine@stable")).version
            == "3.20.3-2")

        let back = try store.rollback(name: "alpine", channel: "stable")
        #expect(back.version == "3.20.3-1")
        #expect(back.history.isEmpty)
        #expect(try store.manifest(VersionReference(parsing: "alpine@stable")).version
            == "3.20.3-1")
        #expect(throws: KFCError.self) { try store.rollback(name: "alpine", channel: "stable") }
    }

    @Test("promote rejects an altered image")
    func promoteRejectsAlteredImage() throws {
        defer { try? removeStore(root) }
        let manifest = try FakeVersions.publish(store)
        _ = try Command("chmod", ["u+w", manifest.image.path]).run()
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: manifest.image.path))
        try handle.seek(toOffset: 4096)
        handle.write(Data("tampered".utf8))
        try handle.close()
        let error = #expect(throws: KFCError.self) {
            try store.promote(
                name: "alpine", version: manifest.version, channel: "stable",
                requireVerified: false)
        }
        #expect(error?.description.contains("sha256") == true)
        #expect(try store.channels(name: "alpine").isEmpty)
    }

    @Test("require-verified needs a passing record")
    func requireVerified() throws {
        defer { try? removeStore(root) }
        let manifest = try FakeVersions.publish(store)
        #expect(throws: KFCError.self) {
            try store.promote(
                name: "alpine", version: manifest.version, channel: "stable",
                requireVerified: true)
        }
        var failing = FakeVersions.passing
        failing.passed = false
        try store.recordVerification(failing, name: "alpine", version: manifest.version)
        #expect(throws: KFCError.self) {
            try store.promote(
                name: "alpine", version: manifest.version, channel: "stable",
                requireVerified: true)
        }
        try store.recordVerification(
            FakeVersions.passing, name: "alpine", version: manifest.version)
        let record = try store.promote(
            name: "alpine", version: manifest.version, channel: "stable", requireVerified: true)
        #expect(record.version == manifest.version)
    }

    @Test("remove rejects a version a channel names")
    func removeRejectsChannelTarget() throws {
        defer { try? removeStore(root) }
        try FakeVersions.publish(store)
        try FakeVersions.publish(store, content: "two")
        try store.promote(name: "alpine", version: "3.20.3-1", channel: "stable",
            requireVerified: false)
        try store.promote(name: "alpine", version: "3.20.3-2", channel: "stable",
            requireVerified: false)
        let error = #expect(throws: KFCError.self) {
            try store.remove(name: "alpine", version: "3.20.3-2")
        }
        #expect(error?.description.contains("stable") == true)
        try store.remove(name: "alpine", version: "3.20.3-1")
        #expect(try store.versions(name: "alpine").map(\.version) == ["3.20.3-2"])
        #expect(try store.channels(name: "alpine").first?.history == [])
        #expect(try entries("\(root)/tmp").isEmpty)
    }

    @Test("clone is a writable copy")
    func cloneIsWritable() throws {
        defer { try? removeStore(root) }
        try FakeVersions.publish(store)
        try store.promote(name: "alpine", version: "3.20.3-1", channel: "stable",
            requireVerified: false)
        let destination = "\(root)/vm1"
        let record = try store.clone(VersionReference(parsing: "alpine@stable"), to: destination)
        #expect(record.version == "3.20.3-1")
        #expect(try mode(destination) & 0o200 != 0)
        #expect(try mode("\(destination)/rootfs.ext4") & 0o200 != 0)
        #expect(try mode("\(destination)/rootfs/etc/shadow") == 0o640)
        #expect(try FileSystem.read("\(destination)/rootfs/etc/release") == Data("one".utf8))
        #expect(try store.clones(name: "alpine") == [record])
        #expect(throws: KFCError.self) {
            try store.clone(VersionReference(parsing: "alpine"), to: destination)
        }

        try removeStore(destination)
        #expect(try store.collectGarbage() == ["record of the removed clone \(destination)"])
        #expect(try store.clones(name: nil).isEmpty)
    }
}
