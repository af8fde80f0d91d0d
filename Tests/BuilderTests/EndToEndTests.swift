import Archives
import Builder
import Foundation
import KFCCore
import Stores
import TestSupport
import Testing
import VMM

@Suite(
    "Build alpine-minimal end to end",
    .enabled(if: TestEnvironment.isRoot && TestEnvironment.hasFixtures,
        "needs root (chroot, namespaces, loop mounts) and the fixtures"))
struct EndToEndTests {
    /// The entries the recipe changes; ttyS0 is in the minirootfs' securetty already.
    static let changedByRecipe: Set<String> = [
        "etc", "etc/inittab", "etc/hostname", "etc/shadow",
    ]

    @Test("image matches the unpacked tarball plus the recipe's changes")
    func imageMatchesTree() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let manifest = try fixture.build(try fixture.minimalRecipe())
        #expect(manifest.name == "alpine-minimal")
        #expect(manifest.version == "3.20.3-1")
        #expect(manifest.sources.first?.sha256 == TestEnvironment.alpineSHA256)
        #expect(manifest.kernel?.version == "6.1.192")
        #expect(try Digest.ofFile(manifest.image.path).hex == manifest.image.sha256)

        let fsck = try Command("e2fsck", ["-fn", manifest.image.path]).result()
        #expect(fsck.status == 0, "e2fsck: \(fsck.outputText)")

        let mount = try LoopMount(manifest.image.path)
        defer { mount.unmount() }
        var inImage = try TreeDump.entries(mount.point)
        #expect(inImage.removeValue(forKey: "lost+found")?.type == "dir")
        let tree = try TreeDump.entries(manifest.tree).mapValues { entry in
            var clamped = entry
            clamped.modificationSeconds = min(entry.modificationSeconds, manifest.epoch)
            return clamped
        }
        #expect(TreeDump.differences(tree, inImage) == [])

        let reference = try TestEnvironment.temporaryDirectory("kfc-reference")
        defer { try? FileSystem.remove(reference) }
        _ = try Unpacker.unpack(TestEnvironment.alpineTarball, into: reference, logger: .silent)
        let unpacked = try TreeDump.entries(reference)
        let changed = TreeDump.differences(unpacked, try TreeDump.entries(manifest.tree))
            .map { String($0.prefix { $0 != ":" }) }
        #expect(Set(changed) == Self.changedByRecipe)
    }

    @Test("recipe's changes are in the image")
    func recipeChangesApplied() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let manifest = try fixture.build(try fixture.minimalRecipe())
        let mount = try LoopMount(manifest.image.path)
        defer { mount.unmount() }
        let text = { (path: String) in
            String(decoding: (try? FileSystem.read("\(mount.point)/\(path)")) ?? Data(), as: UTF8.self)
        }
        #expect(text("etc/hostname") == "kfc-minimal\n")
        #expect(text("etc/inittab").contains("ttyS0::respawn:/sbin/getty -L 115200 ttyS0"))
        #expect(text("etc/securetty").split(separator: "\n").contains("ttyS0"))
        #expect(text("etc/shadow").hasPrefix("root:$6$kfcgoldenimage$"))
        var shadow = stat()
        #expect(lstat("\(mount.point)/etc/shadow", &shadow) == 0)
        #expect(shadow.st_mode & 0o7777 == 0o640)
        #expect(shadow.st_gid == 42)
    }

    @Test("two builds of the same inputs give byte-identical images")
    func reproducible() throws {
        let first = try BuildFixture()
        let second = try BuildFixture()
        defer {
            first.remove()
            second.remove()
        }
        let one = try first.build(try first.minimalRecipe())
        sleep(1)
        let two = try second.build(try second.minimalRecipe())
        #expect(one.image.sha256 == two.image.sha256)
        #expect(one.image.uuid == two.image.uuid)
    }

    @Test(
        "image boots under qemu to a login prompt",
        .enabled(if: TestEnvironment.hasTools("qemu-system-x86_64"), "needs qemu-system-x86_64"))
    func bootsToLogin() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let manifest = try fixture.build(try fixture.minimalRecipe())
        let kernel = try #require(manifest.kernel)
        let work = "\(fixture.top)/boot"
        try FileSystem.createDirectory(work)
        // The guest mounts its root read-write, so it boots a copy, never the version.
        let copy = "\(work)/rootfs.ext4"
        try Command("cp", ["--sparse=always", manifest.image.path, copy]).run()
        let request = BootRequest(
            kernel: kernel.path, image: copy, marker: "login:", workDirectory: work, timeout: 90)
        let outcome = try QEMUDriver(accelerators: [.tcg]).boot(request, logger: .silent)
        #expect(outcome.reachedMarker, "serial console: \(outcome.lastLines().joined(separator: "\n"))")
        #expect(try Digest.ofFile(manifest.image.path).hex == manifest.image.sha256)
    }
}

@Suite(
    "Rebuild",
    .enabled(if: TestEnvironment.isRoot && TestEnvironment.hasFixtures,
        "needs root (chroot, namespaces) and the fixtures"))
struct RebuildTests {
    @Test("version rebuilds to the same digest")
    func rebuildMatches() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let manifest = try fixture.build(try fixture.minimalRecipe())
        let result = try ImageBuilder.rebuild(
            manifest, darksite: TestEnvironment.fixtures, cacheDirectory: fixture.cache,
            logger: .silent)
        #expect(result.matches)
        #expect(result.actual == manifest.image.sha256)
    }

    @Test("changed recipe is rejected, not rebuilt")
    func changedRecipe() throws {
        let fixture = try BuildFixture()
        defer { fixture.remove() }
        let recipe = try fixture.minimalRecipe()
        let manifest = try fixture.build(recipe)
        _ = try fixture.minimalRecipe { $0 + "\n# edited\n" }
        #expect {
            try ImageBuilder.rebuild(
                manifest, darksite: TestEnvironment.fixtures, cacheDirectory: fixture.cache,
                logger: .silent)
        } throws: { error in
            "\(error)".contains("changed since the build")
        }
    }
}
