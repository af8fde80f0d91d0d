import Foundation
import KFCCore
import Stores
import Testing

@Suite("Push plan")
struct PushPlanTests {
    @Test("receive command line")
    func receiveCommandLine() throws {
        let plan = try PushPlan(url: "ssh://ops@host.example:2222", remoteStore: "zfs:tank/fc")
        let command = plan.receiveCommand()
        #expect(command.executable == "ssh")
        #expect(command.arguments == [
            "-o", "BatchMode=yes", "-p", "2222", "--", "ops@host.example",
            "'kfc-image' 'receive' '--store' 'zfs:tank/fc'",
        ])
    }

    @Test("list command without port or store")
    func listCommandLine() throws {
        let plan = try PushPlan(url: "ssh://host")
        #expect(plan.listCommand(name: "alpine").arguments == [
            "-o", "BatchMode=yes", "--", "host", "'kfc-image' 'list' 'alpine' '--json'",
        ])
    }

    @Test("quotes survive the remote shell")
    func quoting() throws {
        let plan = try PushPlan(url: "ssh://host", remoteStore: "dir:/srv/it's")
        #expect(plan.receiveCommand().arguments.last
            == "'kfc-image' 'receive' '--store' 'dir:/srv/it'\\''s'")
    }

    @Test("invalid targets are rejected",
        arguments: ["host", "ssh://", "ssh://host:port", "ssh://-oProxyCommand=x", "ssh://h/p"])
    func invalidTargets(url: String) {
        #expect(throws: KFCError.self) { try PushPlan(url: url) }
    }

    @Test("base is the newest shared version")
    func base() throws {
        let root = try FileSystem.makeTemporaryDirectory(prefix: "kfc-push")
        defer { try? removeStore(root) }
        let store = try DirectoryStore(root: root, logger: .silent)
        try FakeVersions.publish(store)
        try FakeVersions.publish(store, content: "two")
        try FakeVersions.publish(store, content: "three")
        let local = try store.versions(name: "alpine")
        #expect(PushPlan.base(local: local, remote: ["3.20.3-1", "3.20.3-2"]) == "3.20.3-2")
        #expect(PushPlan.base(local: local, remote: ["9-1"]) == nil)
    }
}
