import Foundation
import KFCCore
import Provisioning
import Recipes
import TestSupport
import Testing

/// The live network steps, run only inside a network namespace that each test creates and
/// deletes; nothing here touches the machine's own namespace.
@Suite(
    "network steps in a test namespace",
    .enabled(if: TestNamespace.available, "needs root and the ip, nft and sysctl tools"))
struct NetworkNamespaceTests {
    /// The machine's own forwarding setting, which the tests must leave as it was.
    static func hostForwarding() throws -> String {
        String(decoding: try FileSystem.read("/proc/sys/net/ipv4/ip_forward"), as: UTF8.self)
    }

    func networkProvisioner(_ host: ScratchHost, _ namespace: TestNamespace, extra: String = "")
        throws -> Provisioner
    {
        // No uplink in the config, so the step takes up0 from the namespace's default route.
        let config = try host.config(extra).withUplink(nil)
        return try host.provisioner(
            config, live: true, namespace: namespace.name, only: ["sysctl", "nat"])
    }

    /// Runs `body` with a scratch host and a fresh namespace, removing both afterwards,
    /// also when `body` throws.
    func withScratch(_ body: (ScratchHost, TestNamespace) throws -> Void) throws {
        let host = try ScratchHost()
        defer { host.remove() }
        let namespace = try TestNamespace()
        defer { namespace.remove() }
        try body(host, namespace)
    }

    @Test("NAT and forwarding load in the namespace")
    func natLoads() throws {
        let hostBefore = try NetworkNamespaceTests.hostForwarding()
        try withScratch { host, namespace in
            let outcomes = try networkProvisioner(host, namespace).apply()
            let nat = outcomes.first { $0.step == "nat" }
            #expect(nat?.applied.contains("load table ip kfc") == true)
            #expect(
                nat?.report?.findings.first
                    == "masquerade 172.16.0.0/16 out of up0 (the interface of the default route)")
            #expect(try namespace.run("sysctl", ["-n", "net.ipv4.ip_forward"]) == "1")

            let listing = try namespace.run("nft", ["list", "table", "ip", "kfc"])
            #expect(listing.contains("ip saddr 172.16.0.0/16 oifname \"up0\" masquerade"))
            #expect(listing.contains("type nat hook postrouting priority srcnat; policy accept;"))
            #expect(listing.contains("ip daddr 172.16.0.0/16 iifname \"up0\" ct state established"))
            let file = String(
                decoding: try FileSystem.read(host.root + "/etc/kfc/nat.nft"), as: UTF8.self)
            #expect(
                NFTablesRuleset(range: IPv4Network("172.16.0.0/16")!, uplink: "up0").file == file)
            #expect(try NetworkNamespaceTests.hostForwarding() == hostBefore)
        }
    }

    @Test("second apply in the namespace changes nothing")
    func secondApplyUnchanged() throws {
        try withScratch { host, namespace in
            let provisioner = try networkProvisioner(host, namespace)
            _ = try provisioner.apply()
            let handles = try namespace.run("nft", ["-a", "list", "table", "ip", "kfc"])

            let second = try provisioner.apply()
            #expect(second.allSatisfy { $0.applied.isEmpty })
            #expect(try namespace.run("nft", ["-a", "list", "table", "ip", "kfc"]) == handles)
        }
    }

    @Test("altered table is replaced as a whole")
    func alteredTableReplaced() throws {
        try withScratch { host, namespace in
            let provisioner = try networkProvisioner(host, namespace)
            _ = try provisioner.apply()
            try namespace.run(
                "nft", ["add", "rule", "ip", "kfc", "forward", "tcp", "dport", "22", "drop"])
            try namespace.run("nft", ["add", "table", "ip", "other"])

            let nat = try provisioner.apply().first { $0.step == "nat" }
            #expect(nat?.applied == ["replace table ip kfc (the loaded rules differ)"])
            let listing = try namespace.run("nft", ["list", "table", "ip", "kfc"])
            #expect(!listing.contains("dport 22"))
            let tables = try namespace.run("nft", ["list", "tables"])
            #expect(tables.contains("table ip other"))
        }
    }

    @Test("new range reloads the rules")
    func newRangeReloads() throws {
        try withScratch { host, namespace in
            _ = try networkProvisioner(host, namespace).apply()

            let changed = try networkProvisioner(host, namespace, extra: "range: 10.77.0.0/24")
            let nat = try changed.apply().first { $0.step == "nat" }
            #expect(
                nat?.applied == [
                    "update /etc/kfc/nat.nft", "replace table ip kfc (the loaded rules differ)",
                ])
            let listing = try namespace.run("nft", ["list", "table", "ip", "kfc"])
            #expect(listing.contains("ip saddr 10.77.0.0/24 oifname \"up0\" masquerade"))
            #expect(!listing.contains("172.16.0.0"))
        }
    }

    @Test(
        "iptables backend loads its chains",
        .enabled(if: TestEnvironment.hasTools("iptables", "iptables-restore"), "needs iptables"))
    func iptablesBackend() throws {
        try withScratch { host, namespace in
            let provisioner = try networkProvisioner(host, namespace, extra: "nat: iptables")
            let nat = try provisioner.apply().first { $0.step == "nat" }
            #expect(nat?.applied.contains("load chains KFC-POSTROUTING, KFC-FORWARD") == true)
            #expect(nat?.applied.contains("add a jump from FORWARD to KFC-FORWARD") == true)

            let chain = try namespace.run("iptables", ["-t", "nat", "-S", "KFC-POSTROUTING"])
            #expect(chain.contains("-A KFC-POSTROUTING -s 172.16.0.0/16 -o up0 -j MASQUERADE"))
            let second = try provisioner.apply()
            #expect(second.allSatisfy { $0.applied.isEmpty })
            let jumps = try namespace.run("iptables", ["-S", "FORWARD"])
            #expect(jumps.components(separatedBy: "-j KFC-FORWARD").count == 2)
        }
    }
}

extension HostConfig {
    /// A copy with `uplink` replaced.
    func withUplink(_ uplink: String?) -> HostConfig {
        var copy = self
        copy.uplink = uplink
        return copy
    }
}
