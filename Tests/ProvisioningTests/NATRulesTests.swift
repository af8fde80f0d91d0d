import Foundation
import Provisioning
import Recipes
import Testing

@Suite("NAT rules")
struct NATRulesTests {
    let range = IPv4Network("10.9.0.0/16")!

    @Test("nft file deletes and recreates the table")
    func nftFileReplacesTable() {
        let rules = NFTablesRuleset(range: range, uplink: "eth1")
        let lines = rules.file.split(separator: "\n").map(String.init)
        #expect(lines.first == "#!/usr/sbin/nft -f")
        #expect(lines.firstIndex(of: "table ip kfc") == 2)
        #expect(lines.firstIndex(of: "delete table ip kfc") == 3)
        #expect(lines.contains("\t\tip saddr 10.9.0.0/16 oifname \"eth1\" masquerade"))
        #expect(lines.contains("\t\tip saddr 10.9.0.0/16 oifname \"eth1\" accept"))
        #expect(
            lines.contains(
                "\t\tip daddr 10.9.0.0/16 iifname \"eth1\" ct state established,related accept"))
        #expect(rules.file.hasSuffix(rules.table))
    }

    @Test("listing match ignores layout only")
    func listingMatchIgnoresLayout() {
        let rules = NFTablesRuleset(range: range, uplink: "eth1")
        let spaced = rules.table.replacingOccurrences(of: "\t", with: "    ") + "\n\n"
        #expect(rules.matches(listing: spaced))
        let other = NFTablesRuleset(range: range, uplink: "eth2")
        #expect(!rules.matches(listing: other.table))
        let extra = rules.table.replacingOccurrences(
            of: "masquerade\n", with: "masquerade\n\t\tcounter accept\n")
        #expect(!rules.matches(listing: extra))
    }

    @Test("iptables file declares our chains only")
    func iptablesFile() {
        let rules = IPTablesRules(range: range, uplink: "eth1")
        let lines = rules.file.split(separator: "\n").map(String.init)
        #expect(
            Array(lines.dropFirst()) == [
                "*nat", ":KFC-POSTROUTING - [0:0]",
                "-A KFC-POSTROUTING -s 10.9.0.0/16 -o eth1 -j MASQUERADE", "COMMIT",
                "*filter", ":KFC-FORWARD - [0:0]",
                "-A KFC-FORWARD -s 10.9.0.0/16 -o eth1 -j ACCEPT",
                "-A KFC-FORWARD -d 10.9.0.0/16 -i eth1 -m conntrack --ctstate RELATED,ESTABLISHED "
                    + "-j ACCEPT",
                "COMMIT",
            ])
        #expect(!rules.file.contains("POSTROUTING -j"))
    }

    @Test("iptables listing match")
    func iptablesListingMatch() {
        let rules = IPTablesRules(range: range, uplink: "eth1")
        let chain = rules.chains[0]
        let listing =
            "-N KFC-POSTROUTING\n-A KFC-POSTROUTING -s 10.9.0.0/16 -o eth1 -j MASQUERADE\n"
        #expect(rules.matches(chain, listing: listing))
        #expect(!rules.matches(chain, listing: "-N KFC-POSTROUTING\n"))
    }
}
