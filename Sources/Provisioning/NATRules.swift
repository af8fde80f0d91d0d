import Foundation
import Recipes

/// The nftables table `ip kfc`: masquerade from the microVM range out of the uplink, and
/// forwarding both ways between them.
public struct NFTablesRuleset: Sendable, Equatable {
    /// The microVM range.
    public var range: IPv4Network
    /// The interface microVM traffic leaves through.
    public var uplink: String

    /// Creates the ruleset for `range` and `uplink`.
    public init(range: IPv4Network, uplink: String) {
        self.range = range
        self.uplink = uplink
    }

    /// The table as `nft list table ip kfc` prints it (nftables 1.0.6), so the loaded table
    /// can be compared with it.
    // NOTE: a packet passes every base chain on its hook (nftables wiki, "Configuring
    // chains"), so a forward drop in another firewall's table still drops what this accepts.
    public var table: String {
        """
        table ip kfc {
        \tchain postrouting {
        \t\ttype nat hook postrouting priority srcnat; policy accept;
        \t\tip saddr \(range) oifname "\(uplink)" masquerade
        \t}

        \tchain forward {
        \t\ttype filter hook forward priority filter; policy accept;
        \t\tip saddr \(range) oifname "\(uplink)" accept
        \t\tip daddr \(range) iifname "\(uplink)" ct state established,related accept
        \t}
        }

        """
    }

    /// The file for `nft -f`. It creates the table when missing, so that the delete cannot
    /// fail, then deletes and recreates it; nft runs the whole file as one transaction.
    public var file: String {
        "#!/usr/sbin/nft -f\n# Written by kfc-provision; replaced as a whole on every apply.\n"
            + "table ip kfc\ndelete table ip kfc\n" + table
    }

    /// Whether `listing` (the output of `nft list table ip kfc`) is this table, ignoring
    /// indentation and blank lines.
    public func matches(listing: String) -> Bool {
        NFTablesRuleset.normalized(listing) == NFTablesRuleset.normalized(table)
    }

    static func normalized(_ text: String) -> [String] {
        text.split(separator: "\n")
            .map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
    }
}

/// The same rules for hosts without nftables: two chains of our own that iptables-restore
/// fills, and a jump to each from the built-in chain.
public struct IPTablesRules: Sendable, Equatable {
    /// The microVM range.
    public var range: IPv4Network
    /// The interface microVM traffic leaves through.
    public var uplink: String

    /// A chain of our own and the built-in chain that jumps to it.
    public struct Chain: Sendable, Equatable {
        public var table: String
        public var builtin: String
        public var name: String
        /// The rules as `iptables -S NAME` prints them, after the `-N NAME` line.
        public var rules: [String]
    }

    /// Creates the rules for `range` and `uplink`.
    public init(range: IPv4Network, uplink: String) {
        self.range = range
        self.uplink = uplink
    }

    /// The chains, in the order they are restored.
    public var chains: [Chain] {
        [
            Chain(
                table: "nat", builtin: "POSTROUTING", name: "KFC-POSTROUTING",
                rules: ["-A KFC-POSTROUTING -s \(range) -o \(uplink) -j MASQUERADE"]),
            Chain(
                table: "filter", builtin: "FORWARD", name: "KFC-FORWARD",
                rules: [
                    "-A KFC-FORWARD -s \(range) -o \(uplink) -j ACCEPT",
                    "-A KFC-FORWARD -d \(range) -i \(uplink) -m conntrack "
                        + "--ctstate RELATED,ESTABLISHED -j ACCEPT",
                ]),
        ]
    }

    /// The file for `iptables-restore --noflush`. Declaring a chain empties it, so a restore
    /// replaces our rules and leaves every other chain alone.
    public var file: String {
        var lines = ["# Written by kfc-provision; replaced as a whole on every apply."]
        for chain in chains {
            lines += ["*\(chain.table)", ":\(chain.name) - [0:0]"] + chain.rules + ["COMMIT"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Whether `listing` (the output of `iptables -t TABLE -S NAME`) is `chain` as intended.
    public func matches(_ chain: Chain, listing: String) -> Bool {
        let lines = listing.split(separator: "\n").map { String($0) }
        return lines == ["-N \(chain.name)"] + chain.rules
    }
}
