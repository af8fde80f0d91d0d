import Foundation
import KFCCore
import Provisioning
import Recipes
import TestSupport
import Testing

@Suite("apply to a throwaway root")
struct RootApplyTests {
    /// The files and links the file-level steps write, and a line each must contain.
    static let expectedFiles = [
        "/etc/udev/rules.d/65-kfc-kvm.rules": "GROUP=\"kvm\", MODE=\"0660\"",
        "/etc/tmpfiles.d/kfc.conf": "d /run/firecracker 0755 root root -",
        "/etc/sysctl.d/99-firecracker.conf": "net.ipv4.ip_forward = 1",
        "/etc/kfc/nat.nft": "ip saddr 172.16.0.0/16 oifname \"eth9\" masquerade",
        "/etc/systemd/system/kfc-nat.service": "ExecStart=/usr/sbin/nft -f /etc/kfc/nat.nft",
        "/usr/local/bin/firecracker": "firecracker v1.7.0",
        "/usr/local/bin/jailer": "jailer v1.7.0",
        "/usr/local/bin/firectl": "firectl v1.7.0",
        "/usr/local/bin/kfc-image": "usage: kfc-image",
        "/usr/local/bin/kfc-provision": "usage: kfc-provision",
    ]

    static let expectedFolders = [
        "/var/lib/firecracker/rootfs", "/srv/functions", "/srv/jailer", "/var/lib/kfc",
    ]

    @Test("apply writes each step's files")
    func applyWritesFiles() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        _ = try host.provisioner(try host.config()).apply()

        for (path, line) in RootApplyTests.expectedFiles {
            let text = String(decoding: try FileSystem.read(host.root + path), as: UTF8.self)
            #expect(text.contains(line), "\(path) lacks '\(line)'")
        }
        for path in RootApplyTests.expectedFolders {
            #expect(FileSystem.isDirectory(host.root + path), "\(path) missing")
            #expect(try permissionBits(host.root + path) == 0o755)
        }
        let link = host.root + "/etc/systemd/system/multi-user.target.wants/kfc-nat.service"
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: link)
        #expect(target == "/etc/systemd/system/kfc-nat.service")
        #expect(try permissionBits(host.root + "/usr/local/bin/firecracker") == 0o755)
        #expect(!FileSystem.exists(host.root + "/run/firecracker"))
    }

    @Test("second apply changes nothing")
    func secondApplyIsIdempotent() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let provisioner = try host.provisioner(try host.config())
        let first = try provisioner.apply()
        #expect(first.reduce(0) { $0 + $1.applied.count } > 10)
        let before = try treeListing(host.root)

        let second = try provisioner.apply()
        for outcome in second {
            #expect(outcome.applied.isEmpty, "\(outcome.step) changed: \(outcome.applied)")
        }
        #expect(try treeListing(host.root) == before)
    }

    @Test("plan changes nothing")
    func planChangesNothing() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let provisioner = try host.provisioner(try host.config())
        let empty = try treeListing(host.root)
        let planned = provisioner.inspect()
        #expect(try treeListing(host.root) == empty)
        #expect(planned.allSatisfy { $0.error == nil })
        let folders = planned.first { $0.step == "folders" }?.report?.changes.map(\.summary)
        #expect(folders?.contains("create folder /srv/jailer (0755 0:0)") == true)

        _ = try provisioner.apply()
        let applied = try treeListing(host.root)
        let replanned = provisioner.inspect()
        #expect(try treeListing(host.root) == applied)
        #expect(replanned.allSatisfy { $0.isSatisfied })
    }

    @Test("live parts are skipped with a reason")
    func livePartsSkipped() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let outcomes = try host.provisioner(try host.config()).apply()
        let skipped = Dictionary(
            uniqueKeysWithValues: outcomes.map {
                ($0.step, $0.report?.skipped ?? [])
            })
        for step in ["kvm", "folders", "sysctl", "nat", "golden-image"] {
            #expect(
                skipped[step]?.contains { $0.contains("not live under --root") } == true, "\(step)")
        }
        #expect(skipped["binaries"]?.isEmpty == true)
    }

    @Test("failing step stops the run and a rerun continues")
    func failingStepStopsRun() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        try ScratchHost.script("\(host.binaries)/jailer", "echo 'jailer: bad binary' >&2; exit 3")
        let provisioner = try host.provisioner(try host.config())

        let error = #expect(throws: KFCError.self) { try provisioner.apply() }
        #expect(error?.context == "step binaries")
        #expect(error?.description.contains("exited with status 3: jailer: bad binary") == true)
        #expect(FileSystem.exists(host.root + "/etc/udev/rules.d/65-kfc-kvm.rules"))
        #expect(!FileSystem.exists(host.root + "/usr/local/bin/firecracker"))
        #expect(!FileSystem.exists(host.root + "/srv/jailer"))

        try ScratchHost.script("\(host.binaries)/jailer", "echo 'jailer v1.7.0'")
        let rerun = try provisioner.apply()
        #expect(rerun.first { $0.step == "kvm" }?.applied.isEmpty == true)
        #expect(FileSystem.exists(host.root + "/srv/jailer"))
    }

    @Test("changed config replaces the NAT file")
    func changedConfigReplacesFile() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        _ = try host.provisioner(try host.config()).apply()
        let outcomes = try host.provisioner(try host.config("range: 10.20.0.0/16"), only: ["nat"])
            .apply()
        #expect(outcomes.first?.applied == ["update /etc/kfc/nat.nft"])
        let text = String(
            decoding: try FileSystem.read(host.root + "/etc/kfc/nat.nft"), as: UTF8.self)
        #expect(text.contains("ip daddr 10.20.0.0/16 iifname \"eth9\""))
    }

    @Test("wrong mode and owner are repaired")
    func wrongModeRepaired() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let provisioner = try host.provisioner(try host.config(), only: ["folders"])
        _ = try provisioner.apply()
        chmod(host.root + "/srv/jailer", 0o700)
        chown(host.root + "/srv/functions", 1000, 1000)

        let applied = try provisioner.apply().first?.applied ?? []
        #expect(applied.contains("change mode of /srv/jailer from 0700 to 0755"))
        #expect(applied.contains("change owner of /srv/functions from 1000:1000 to 0:0"))
        #expect(try permissionBits(host.root + "/srv/jailer") == 0o755)
    }

    @Test("symlink out of the root is rejected")
    func symlinkOutOfRootRejected() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let outside = "\(host.folder)/outside"
        try FileSystem.createDirectory(outside)
        symlink(outside, host.root + "/srv")

        let provisioner = try host.provisioner(try host.config(), only: ["folders"])
        let error = #expect(throws: KFCError.self) { try provisioner.apply() }
        #expect(error?.description.contains("\(host.root)/srv: is a symbolic link") == true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: outside).isEmpty)
    }

    @Test("unknown step name is a usage error")
    func unknownStepName() throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let error = #expect(throws: KFCError.self) {
            try host.provisioner(try host.config(), only: ["firewall"])
        }
        #expect(error?.kind == .usage)
        #expect(error?.description.contains("steps: kvm, binaries") == true)
    }

    @Test(
        "boot units pass systemd-analyze verify",
        .enabled(if: TestEnvironment.hasTools("systemd-analyze"), "needs systemd-analyze"),
        arguments: ["nftables", "iptables"])
    func bootUnitsVerify(backend: String) throws {
        let host = try ScratchHost()
        defer { host.remove() }
        _ = try host.provisioner(try host.config("nat: \(backend)"), only: ["nat"]).apply()
        let unit = host.root + "/etc/systemd/system/kfc-nat.service"
        let result = try Command("systemd-analyze", ["verify", unit]).result(timeout: 30)
        #expect(result.status == 0, "\(result.errorText)")
        let text = String(decoding: try FileSystem.read(unit), as: UTF8.self)
        let file = backend == "nftables" ? "/etc/kfc/nat.nft" : "/etc/kfc/nat.iptables"
        #expect(text.contains(file))
    }
}
