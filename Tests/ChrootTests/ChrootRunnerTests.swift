import Archives
import Chroot
import Foundation
import KFCCore
import TestSupport
import Testing

@Suite("Chroot runner", .enabled(if: TestEnvironment.isRoot && TestEnvironment.hasFixtures,
    "needs root (namespaces, chroot) and the Alpine fixture"))
struct ChrootRunnerTests {
    /// An unpacked minirootfs in a fresh folder, with a work folder beside it.
    private func alpineTree() throws -> (root: String, work: String, top: String) {
        let top = try TestEnvironment.temporaryDirectory()
        let root = "\(top)/root"
        let work = "\(top)/work"
        try FileSystem.createDirectory(root)
        try FileSystem.createDirectory(work)
        _ = try Unpacker.unpack(TestEnvironment.alpineTarball, into: root, logger: .silent)
        return (root, work, top)
    }

    @Test("step runs inside the tree with proc, sys and dev mounted")
    func stepSeesItsMounts() throws {
        let tree = try alpineTree()
        defer { try? FileSystem.remove(tree.top) }
        let script = """
            set -eu
            test -f /etc/alpine-release
            test -e /proc/self/status
            test -d /sys/kernel
            echo probe > /dev/null
            grep -q ' /proc ' /proc/mounts
            echo "pid=$$" > /result
            hostname kfc-test-step
            hostname >> /result
            """
        let step = SetupStep(name: "probe", script: script, network: false)
        try ChrootRunner.run(step, root: tree.root, workDirectory: tree.work, epoch: nil,
            logger: .silent)
        let result = String(decoding: try FileSystem.read("\(tree.root)/result"), as: UTF8.self)
        #expect(result.contains("kfc-test-step"))
        #expect(result.contains("pid=1\n"), "the step runs in a PID namespace of its own")
        #expect(mountPoints(below: tree.root).isEmpty)
        #expect(ProcessInfo.processInfo.hostName != "kfc-test-step")
    }

    @Test("failing step reports its status and last output, and leaves no mount")
    func failingStep() throws {
        let tree = try alpineTree()
        defer { try? FileSystem.remove(tree.top) }
        let step = SetupStep(name: "setup", script: "echo about to fail\nexit 7", network: false)
        #expect {
            try ChrootRunner.run(step, root: tree.root, workDirectory: tree.work, epoch: nil,
                logger: .silent)
        } throws: { error in
            let failure = error.asKFCError()
            return failure.description.contains("setup step 'setup'")
                && failure.description.contains("status 7")
                && failure.details.contains("about to fail")
        }
        #expect(mountPoints(below: tree.root).isEmpty)
    }

    @Test("killed step leaves no mount behind")
    func killedStep() throws {
        let tree = try alpineTree()
        defer { try? FileSystem.remove(tree.top) }
        let step = SetupStep(name: "slow", script: "sleep 30", network: false)
        #expect(throws: KFCError.self) {
            try ChrootRunner.run(step, root: tree.root, workDirectory: tree.work, epoch: nil,
                timeout: 1, logger: .silent)
        }
        #expect(mountPoints(below: tree.root).isEmpty)
    }

    @Test("host resolv.conf is present only during a network step")
    func resolvConfIsLent() throws {
        let tree = try alpineTree()
        defer { try? FileSystem.remove(tree.top) }
        #expect(!FileSystem.exists("\(tree.root)/etc/resolv.conf"))
        let step = SetupStep(
            name: "network", script: "cat /etc/resolv.conf > /copied; test -f /etc/resolv.conf",
            network: true)
        try ChrootRunner.run(step, root: tree.root, workDirectory: tree.work, epoch: nil,
            logger: .silent)
        let host = (try? FileSystem.read("/etc/resolv.conf")) ?? Data()
        #expect(try FileSystem.read("\(tree.root)/copied") == host)
        #expect(!FileSystem.exists("\(tree.root)/etc/resolv.conf"))
    }

    @Test("tree's own resolv.conf is kept unchanged")
    func ownResolvConfKept() throws {
        let tree = try alpineTree()
        defer { try? FileSystem.remove(tree.top) }
        let own = Data("nameserver 127.0.0.53\n".utf8)
        try own.write(to: URL(fileURLWithPath: "\(tree.root)/etc/resolv.conf"))
        let step = SetupStep(name: "network", script: "echo changed >> /etc/resolv.conf",
            network: true)
        try ChrootRunner.run(step, root: tree.root, workDirectory: tree.work, epoch: nil,
            logger: .silent)
        #expect(try FileSystem.read("\(tree.root)/etc/resolv.conf") == own)
    }

    @Test("step without network sees only loopback")
    func isolatedNetwork() throws {
        let tree = try alpineTree()
        defer { try? FileSystem.remove(tree.top) }
        let step = SetupStep(name: "links", script: "ls /sys/class/net > /links", network: false)
        try ChrootRunner.run(step, root: tree.root, workDirectory: tree.work, epoch: nil,
            logger: .silent)
        let links = String(decoding: try FileSystem.read("\(tree.root)/links"), as: UTF8.self)
        #expect(links.split(separator: "\n") == ["lo"])
    }
}
