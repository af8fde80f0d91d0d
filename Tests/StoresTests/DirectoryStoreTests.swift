import Foundation
import KFCCore
import Stores
import TestSupport
import Testing

#if canImport(Glibc)
    import Glibc
#endif

@Suite("Directory store")
struct DirectoryStoreTests {
    let root: String
    let store: DirectoryStore

    init() throws {
        root = try TestEnvironment.temporaryDirectory("kfc-dirstore")
        store = try DirectoryStore(root: root, logger: .silent)
    }

    @Test("versions count up per prefix")
    func versionsCountUp() throws {
        defer { try? removeStore(root) }
        let first = try FakeVersions.publish(store)
        let second = try FakeVersions.publish(store, content: "two")
        let other = try FakeVersions.publish(store, prefix: "3.21.0")
        #expect(first.version == "3.20.3-1")
        #expect(second.version == "3.20.3-2")
        #expect(other.version == "3.21.0-1")
        #expect(try store.versions(name: "alpine").map(\.version)
            == ["3.20.3-1", "3.20.3-2", "3.21.0-1"])
    }

    @Test("published version is read-only with absolute paths")
    func publishedIsReadOnly() throws {
        defer { try? removeStore(root) }
        let manifest = try FakeVersions.publish(store)
        let folder = "\(root)/images/alpine/3.20.3-1"
        #expect(manifest.image.path == "\(folder)/rootfs.ext4")
        #expect(manifest.tree == "\(folder)/rootfs")
        #expect(try mode(folder) & 0o222 == 0)
        #expect(try mode("\(folder)/rootfs.ext4") & 0o222 == 0)
        #expect(try mode("\(folder)/manifest.json") & 0o222 == 0)
        // The tree keeps its own modes.
        #expect(try mode("\(folder)/rootfs/etc") & 0o777 == 0o755)
        #expect(try mode("\(folder)/rootfs/etc/shadow") & 0o777 == 0o640)
        let stored = try VersionManifest.decode(try FileSystem.read("\(folder)/manifest.json"))
        #expect(stored.image.path == "rootfs.ext4")
        #expect(try store.manifest(VersionReference(parsing: "alpine")) == manifest)
        #expect(try entries("\(root)/tmp").isEmpty)
    }

    @Test("concurrent builds get distinct versions")
    func concurrentBuilds() async throws {
        defer { try? removeStore(root) }
        let versions = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<6 {
                group.addTask {
                    let other = try DirectoryStore(root: root, logger: .silent)
                    return try FakeVersions.publish(other, content: "v\(index)").version
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(Set(versions).count == 6)
        #expect(Set(versions) == Set((1...6).map { "3.20.3-\($0)" }))
    }

    @Test("discard leaves no pending folder")
    func discardRemovesFolder() throws {
        defer { try? removeStore(root) }
        let discarded = try store.beginVersion(name: "alpine", prefix: "1.0")
        store.discard(discarded)
        #expect(!FileSystem.exists(discarded.path))
        #expect(try entries("\(root)/tmp").isEmpty)
    }

    @Test("gc removes a killed build's folder only", .enabled(if: TestEnvironment.hasTools("flock")))
    func garbageAfterKilledBuild() throws {
        defer { try? removeStore(root) }
        let leftover = "\(root)/tmp/alpine@1.0-1"
        try FileSystem.createDirectory("\(leftover)/rootfs")

        // A build process holds an flock on its folder until it dies. The shell replaces
        // itself with sleep, so the process killed below is the one holding the lock.
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/bin/sh")
        holder.arguments = ["-c", "exec 9<\"$0\"; flock 9; exec sleep 30", leftover]
        try holder.run()
        defer { if holder.isRunning { kill(holder.processIdentifier, SIGKILL) } }
        try waitUntilLocked(leftover)
        #expect(try store.collectGarbage().isEmpty)
        #expect(FileSystem.exists(leftover))

        kill(holder.processIdentifier, SIGKILL)
        holder.waitUntilExit()
        let removed = try store.collectGarbage()
        #expect(removed == ["temporary \(leftover)"])
        #expect(!FileSystem.exists(leftover))
        #expect(try store.beginVersion(name: "alpine", prefix: "1.0").version == "1.0-1")
    }

    @Test("gc keeps the folder of a live build")
    func garbageKeepsLiveBuild() throws {
        defer { try? removeStore(root) }
        let pending = try store.beginVersion(name: "alpine", prefix: "1.0")
        let other = try DirectoryStore(root: root, logger: .silent)
        #expect(try other.collectGarbage().isEmpty)
        #expect(FileSystem.exists(pending.path))
        store.discard(pending)
    }

    @Test("publish rejects a manifest of another version")
    func publishRejectsForeignManifest() throws {
        defer { try? removeStore(root) }
        let pending = try store.beginVersion(name: "alpine", prefix: "1.0")
        var manifest = try FakeVersions.write(pending, content: "x", created: nil)
        manifest.version = "9.9-9"
        #expect(throws: KFCError.self) { try store.publish(pending, manifest: manifest) }
        #expect(!FileSystem.exists(pending.path))
        #expect(try store.versions(name: nil).isEmpty)
    }

    @Test("invalid names are rejected", arguments: ["", "../x", "a/b", "a@b", ".hidden"])
    func invalidNames(name: String) throws {
        defer { try? removeStore(root) }
        #expect(throws: KFCError.self) { try store.beginVersion(name: name, prefix: "1") }
    }

    @Test("verification is recorded beside the version")
    func verification() throws {
        defer { try? removeStore(root) }
        let manifest = try FakeVersions.publish(store)
        try store.recordVerification(FakeVersions.passing, name: "alpine",
            version: manifest.version)
        let read = try store.manifest(VersionReference(name: "alpine", selector: "3.20.3-1"))
        #expect(read.verified == FakeVersions.passing)
        #expect(throws: KFCError.self) {
            try store.recordVerification(FakeVersions.passing, name: "alpine", version: "0-1")
        }
    }
}

/// The permission bits of `path`, not following symlinks.
func mode(_ path: String) throws -> mode_t {
    var info = stat()
    try SystemCall.retrying("stat \(path)") { lstat(path, &info) }
    return info.st_mode & 0o7777
}

/// The sorted names in `folder`.
func entries(_ folder: String) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
}

/// Removes a test store, first giving back the write bits publishing took away.
func removeStore(_ root: String) throws {
    _ = try Command("chmod", ["-R", "u+w", root]).result()
    try FileSystem.remove(root)
}

/// Waits up to 5 s until another process holds an flock on `path`.
func waitUntilLocked(_ path: String) throws {
    for _ in 0..<500 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        defer { close(fd) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 { return }
        flock(fd, LOCK_UN)
        usleep(10_000)
    }
    throw KFCError.failed("lock \(path)", "the lock holder did not start")
}
