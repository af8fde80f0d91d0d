import Foundation
import KFCCore
import Provisioning
import TestSupport
import Testing

@Suite("binaries step")
struct BinariesStepTests {
    func apply(_ host: ScratchHost) throws -> [String] {
        try host.provisioner(try host.config(), only: ["binaries"]).apply().first?.applied ?? []
    }

    @Test("working binaries are installed with their version")
    func workingBinariesInstalled() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let applied = try apply(host)
        #expect(applied.count == 3)
        #expect(applied.first?.hasPrefix("install /usr/local/bin/firecracker from ") == true)
        #expect(applied.first?.hasSuffix(", firecracker v1.7.0)") == true)
        let result = try Command(host.root + "/usr/local/bin/jailer", ["--version"]).output()
        #expect(result == "jailer v1.7.0")
    }

    @Test("binary that fails --version is rejected")
    func failingBinaryRejected() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        try ScratchHost.script("\(host.binaries)/firectl", "exit 2")
        let error = #expect(throws: KFCError.self) { try apply(host) }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("step binaries: \(host.binaries)/firectl does not run"))
        #expect(message.contains("'--version' exited with status 2"))
        #expect(!FileSystem.exists(host.root + "/usr/local/bin/firecracker"))
    }

    @Test("binary that cannot execute is rejected")
    func unexecutableBinaryRejected() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        try FileSystem.writeAtomically(
            Data("not a program".utf8), to: "\(host.binaries)/jailer",
            mode: 0o755)
        let error = #expect(throws: KFCError.self) { try apply(host) }
        let message = error?.description ?? ""
        #expect(message.hasPrefix("step binaries: \(host.binaries)/jailer does not run: "))
        #expect(!FileSystem.exists(host.root + "/usr/local/bin/jailer"))
    }

    @Test("same digest is left alone")
    func sameDigestLeftAlone() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let marker = "\(host.folder)/ran"
        try ScratchHost.script(
            "\(host.binaries)/firecracker", "touch \(marker); echo firecracker v1.7.0")
        #expect(try apply(host).count == 3)
        #expect(FileSystem.exists(marker))
        try FileSystem.remove(marker)

        // The installed copy matches, so the source is neither run nor copied again.
        let before = try treeListing(host.root)
        #expect(try apply(host).isEmpty)
        #expect(try treeListing(host.root) == before)
        #expect(!FileSystem.exists(marker))
    }

    @Test("changed binary is replaced")
    func changedBinaryReplaced() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        _ = try apply(host)
        try ScratchHost.script("\(host.binaries)/firecracker", "echo 'firecracker v1.8.0'")
        let applied = try apply(host)
        #expect(applied.count == 1)
        #expect(applied.first?.hasPrefix("replace /usr/local/bin/firecracker") == true)
        let result = try Command(host.root + "/usr/local/bin/firecracker", ["--version"]).output()
        #expect(result == "firecracker v1.8.0")
    }

    @Test("release asset names are found")
    func releaseAssetNames() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        try FileSystem.remove("\(host.binaries)/firecracker")
        try ScratchHost.script("\(host.binaries)/firecracker-v1.7.0-x86_64", "echo fc 1.7.0")
        try ScratchHost.script("\(host.binaries)/firecracker-v1.7.0-x86_64.debug", "exit 1")
        let applied = try apply(host)
        #expect(applied.first?.contains("firecracker-v1.7.0-x86_64 (") == true)

        try ScratchHost.script("\(host.binaries)/firecracker-v1.8.0-x86_64", "echo fc 1.8.0")
        let error = #expect(throws: KFCError.self) { try apply(host) }
        #expect(error?.description.contains("several candidates for firecracker") == true)
    }

    @Test("missing folder and program are reported")
    func missingFolderAndProgram() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        try FileSystem.remove("\(host.binaries)/firectl")
        let error = #expect(throws: KFCError.self) { try apply(host) }
        #expect(error?.description == "step binaries: \(host.binaries): firectl not found")

        try FileSystem.remove(host.binaries)
        let missing = #expect(throws: KFCError.self) { try apply(host) }
        #expect(missing?.description.contains("binaries folder \(host.binaries) not found") == true)
    }
}
