import Foundation
import KFCCore

/// Step 5: where golden images live. On a ZFS store the base dataset (with the configured
/// compression and recordsize) and its `golden` and `functions` children; otherwise the
/// store's folder.
public struct StorageStep: ProvisioningStep {
    public let name = "storage"
    public let summary = "the golden image store exists"

    /// The child datasets made under a ZFS store's dataset.
    static let children = ["golden", "functions"]

    /// A step for the configured store.
    public init() {}

    public func inspect(_ context: ProvisioningContext) throws -> StepReport {
        let spec = context.config.store
        let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else {
            throw KFCError.invalid("store", "invalid store spec '\(spec)'")
        }
        if parts[0] != "zfs" {
            return try ManagedFolder(path: parts[1], mode: 0o755).inspect(context)
        }
        guard context.live else {
            var report = StepReport()
            report.skipped.append("ZFS datasets under \(parts[1]): \(context.liveSkipReason)")
            return report
        }
        return try inspectZFS(dataset: parts[1], context)
    }

    func inspectZFS(dataset: String, _ context: ProvisioningContext) throws -> StepReport {
        var report = StepReport()
        guard context.hasProgram("zfs"), context.hasProgram("zpool") else {
            report.problems.append("the store is \(context.config.store) but zfs is not installed")
            return report
        }
        let pool = String(dataset.prefix { $0 != "/" })
        let poolCheck = try Command("zpool", ["list", "-H", "-o", "name", pool])
            .result(logger: context.logger)
        guard poolCheck.status == 0 else {
            report.problems.append(
                "ZFS pool \(pool) not found (zpool list: "
                    + "\(Command.tail(poolCheck.errorOutput, count: 1).first ?? "failed"))")
            return report
        }
        report.merge(try inspectBase(dataset, context))
        for child in StorageStep.children.map({ "\(dataset)/\($0)" }) {
            let exists =
                try Command("zfs", ["list", "-H", "-o", "name", child])
                .result(logger: context.logger).status == 0
            if exists {
                report.findings.append("dataset \(child) exists")
            } else {
                report.changes.append(
                    Change("create dataset \(child)") {
                        try Command("zfs", ["create", child]).run(logger: context.logger)
                    })
            }
        }
        return report
    }

    /// Checks the base dataset and its compression and recordsize properties.
    func inspectBase(_ dataset: String, _ context: ProvisioningContext) throws -> StepReport {
        var report = StepReport()
        let config = context.config
        let wanted = ["compression": config.compression, "recordsize": "\(config.recordsizeBytes)"]
        let query = try Command(
            "zfs", ["get", "-H", "-p", "-o", "property,value", "compression,recordsize", dataset]
        ).result(logger: context.logger)
        guard query.status == 0 else {
            let summary =
                "create dataset \(dataset) (compression=\(config.compression), "
                + "recordsize=\(config.recordsize))"
            report.changes.append(
                Change(summary) {
                    try Command(
                        "zfs",
                        [
                            "create", "-p", "-o", "compression=\(config.compression)",
                            "-o", "recordsize=\(config.recordsize)", dataset,
                        ]
                    ).run(logger: context.logger)
                })
            return report
        }
        var current: [String: String] = [:]
        for line in query.outputText.split(separator: "\n") {
            let fields = line.split(separator: "\t").map(String.init)
            if fields.count == 2 { current[fields[0]] = fields[1] }
        }
        for property in ["compression", "recordsize"] {
            let value = wanted[property] ?? ""
            guard current[property] != value else { continue }
            let setting = property == "compression" ? value : config.recordsize
            let summary =
                "set \(property)=\(setting) on \(dataset) (was \(current[property] ?? "?"))"
            report.changes.append(
                Change(summary) {
                    try Command("zfs", ["set", "\(property)=\(setting)", dataset])
                        .run(logger: context.logger)
                })
        }
        if report.changes.isEmpty {
            report.findings.append(
                "dataset \(dataset) has compression=\(config.compression) "
                    + "and recordsize=\(config.recordsize)")
        }
        return report
    }
}
