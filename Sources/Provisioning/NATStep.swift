import Foundation
import KFCCore
import Recipes

/// Step 7: microVM traffic masqueraded out of the uplink. With nftables one table of our own
/// (`table ip kfc`), loaded atomically from a file and replaced as a whole; iptables chains
/// only where nftables is missing. A systemd unit loads the same file at boot.
public struct NATStep: ProvisioningStep {
    public let name = "nat"
    public let summary = "microVM traffic is masqueraded and forwarded through the uplink"

    /// The ruleset files and the boot unit, as paths on the host.
    static let nftablesFile = "/etc/kfc/nat.nft"
    static let iptablesFile = "/etc/kfc/nat.iptables"
    static let unitFile = "/etc/systemd/system/kfc-nat.service"
    static let unitLink = "/etc/systemd/system/multi-user.target.wants/kfc-nat.service"

    /// A step for the configured range and uplink.
    public init() {}

    public func inspect(_ context: ProvisioningContext) throws -> StepReport {
        let uplink = try context.uplink()
        let range = context.config.range
        var report = StepReport()
        let origin = context.config.uplink == nil ? " (the interface of the default route)" : ""
        report.findings.append("masquerade \(range) out of \(uplink)\(origin)")
        guard let backend = NATStep.backend(context) else {
            let place = context.live ? "" : " under \(context.options.root)"
            report.problems.append(
                "neither nft nor iptables is installed\(place); install nftables or set nat")
            return report
        }
        guard backend == .nftables else {
            let rules = IPTablesRules(range: range, uplink: uplink)
            let unit = NATStep.iptablesUnit(rules)
            report.merge(try inspectFiles(NATStep.iptablesFile, rules.file, unit: unit, context))
            if context.live { report.merge(try inspectLoadedChains(rules, context)) }
            return report
        }
        let rules = NFTablesRuleset(range: range, uplink: uplink)
        let unit = NATStep.nftablesUnit
        report.merge(try inspectFiles(NATStep.nftablesFile, rules.file, unit: unit, context))
        if context.live { report.merge(try inspectLoadedTable(rules, context)) }
        return report
    }

    /// Checks the rules file, the boot unit and the link that enables it; when not live,
    /// also records that loading is skipped.
    func inspectFiles(_ path: String, _ rules: String, unit: String, _ context: ProvisioningContext)
        throws -> StepReport
    {
        var report = try ManagedFile(path, rules).inspect(context)
        report.merge(try ManagedFile(NATStep.unitFile, unit).inspect(context))
        report.merge(
            try ManagedLink(path: NATStep.unitLink, target: NATStep.unitFile).inspect(context))
        if !context.live {
            report.skipped.append("loading the rules of \(path): \(context.liveSkipReason)")
        }
        return report
    }

    /// The configured backend; for `auto` nftables when `nft` is installed (on the running
    /// system when live, else under the root), else iptables. Nil when neither is there.
    static func backend(_ context: ProvisioningContext) -> HostConfig.NATBackend? {
        func installed(_ name: String) -> Bool {
            if context.live { return context.hasProgram(name) }
            return ["/usr/sbin/", "/sbin/", "/usr/bin/"].contains {
                FileSystem.exists(context.path($0 + name))
            }
        }
        switch context.config.nat {
        case .auto:
            if installed("nft") { return .nftables }
            return installed("iptables") ? .iptables : nil
        case .nftables, .iptables:
            return context.config.nat
        }
    }

    /// Compares the loaded `table ip kfc` with `rules`.
    func inspectLoadedTable(_ rules: NFTablesRuleset, _ context: ProvisioningContext) throws
        -> StepReport
    {
        var report = StepReport()
        let listing = try context.networkCommand("nft", ["list", "table", "ip", "kfc"])
            .result(logger: context.logger)
        if listing.status == 0, rules.matches(listing: listing.outputText) {
            report.findings.append("table ip kfc is loaded as intended")
            return report
        }
        let summary =
            listing.status == 0
            ? "replace table ip kfc (the loaded rules differ)" : "load table ip kfc"
        let path = context.path(NATStep.nftablesFile)
        report.changes.append(
            Change(summary) {
                try context.networkCommand("nft", ["-f", path]).run(logger: context.logger)
            })
        return report
    }

    /// Compares our iptables chains and the jumps to them with `rules`.
    func inspectLoadedChains(_ rules: IPTablesRules, _ context: ProvisioningContext) throws
        -> StepReport
    {
        var report = StepReport()
        var stale: [String] = []
        var jumps: [Change] = []
        for chain in rules.chains {
            let listing = try context.networkCommand(
                "iptables", ["-t", chain.table, "-S", chain.name]
            ).result(logger: context.logger)
            if listing.status != 0 || !rules.matches(chain, listing: listing.outputText) {
                stale.append(chain.name)
            }
            let table = ["-t", chain.table]
            let jump = [chain.builtin, "-j", chain.name]
            let check = try context.networkCommand("iptables", table + ["-C"] + jump)
                .result(logger: context.logger)
            if check.status != 0 {
                jumps.append(
                    Change("add a jump from \(chain.builtin) to \(chain.name)") {
                        try context.networkCommand("iptables", table + ["-I"] + jump)
                            .run(logger: context.logger)
                    })
            }
        }
        if !stale.isEmpty {
            let path = context.path(NATStep.iptablesFile)
            report.changes.append(
                Change("load chains \(stale.joined(separator: ", "))") {
                    try context.networkCommand("iptables-restore", ["--noflush", path])
                        .run(logger: context.logger)
                })
        }
        report.changes += jumps
        if report.changes.isEmpty { report.findings.append("iptables chains loaded as intended") }
        return report
    }

    static let nftablesUnit = unit(
        description: "NAT for kfc microVMs (nftables table ip kfc)",
        commands: ["ExecStart=/usr/sbin/nft -f \(nftablesFile)"])

    static func iptablesUnit(_ rules: IPTablesRules) -> String {
        // iptables has no "add unless present", so a shell runs the check-then-insert pair.
        let jumps = rules.chains.map { chain in
            let table = "iptables -t \(chain.table)"
            let jump = "\(chain.builtin) -j \(chain.name)"
            return "ExecStartPost=/bin/sh -c '\(table) -C \(jump) || \(table) -I \(jump)'"
        }
        return unit(
            description: "NAT for kfc microVMs (iptables chains KFC-*)",
            commands: ["ExecStart=/usr/sbin/iptables-restore --noflush \(iptablesFile)"] + jumps)
    }

    static func unit(description: String, commands: [String]) -> String {
        let lines =
            [
                "# Written by kfc-provision.", "[Unit]", "Description=\(description)",
                "Wants=network-pre.target", "Before=network-pre.target", "", "[Service]",
                "Type=oneshot", "RemainAfterExit=yes",
            ] + commands + ["", "[Install]", "WantedBy=multi-user.target"]
        return lines.joined(separator: "\n") + "\n"
    }
}
