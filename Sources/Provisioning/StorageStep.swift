import Foundation
import KFCCore
import Recipes

/// Step 5: where golden images live. On a ZFS store the base dataset, with the spec's
/// properties over the defaults (compression and recordsize), and its `golden` and
/// `functions` children; otherwise the store's folder.
public struct StorageStep: ProvisioningStep {
    public let name = "storage"
    public let summary = "the golden image store exists"

    /// The child datasets made under a ZFS store's dataset.
    static let children = ["golden", "functions"]

    /// A step for the configured store.
    public init() {}

    public func inspect(_ context: ProvisioningContext) throws -> StepReport {
        switch try context.config.storeLocation {
        case .folder(let path):
            return try ManagedFolder(path: path, mode: 0o755).inspect(context)
        case .zfs(let dataset, let properties):
            guard context.live else {
                var report = StepReport()
                report.skipped.append("ZFS datasets under \(dataset): \(context.liveSkipReason)")
                return report
            }
            return try inspectZFS(dataset: dataset, properties: properties, context)
        }
    }

    func inspectZFS(dataset: String, properties: [ZFSProperty], _ context: ProvisioningContext)
        throws -> StepReport
    {
        var report = StepReport()
        guard context.hasProgram("zfs"), context.hasProgram("zpool") else {
            report.problems.append("the store is \(context.config.store) but zfs is not installed")
            return report
        }
        let pool = String(dataset.prefix { $0 != "/" })
        let poolCheck = try Command("zpool", ["list", "-H", "-o", "name", pool])
            .result(logger: context.logger)
        guard poolCheck.status == 0 else {
            let reason = Command.tail(poolCheck.errorOutput, count: 1).first ?? "failed"
            report.problems.append("ZFS pool \(pool) not found (zpool list: \(reason))")
            return report
        }
        report.merge(try inspectBase(dataset, properties, context))
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

    /// Checks the base dataset and its properties; the children inherit them.
    func inspectBase(
        _ dataset: String, _ properties: [ZFSProperty], _ context: ProvisioningContext
    ) throws -> StepReport {
        var report = StepReport()
        let names = properties.map(\.name).joined(separator: ",")
        let query = try Command("zfs", ["get", "-H", "-p", "-o", "property,value", names, dataset])
            .result(logger: context.logger)
        let settings = properties.map(\.assignment).joined(separator: ", ")
        guard query.status == 0 else {
            let options = properties.flatMap { ["-o", $0.assignment] }
            report.changes.append(
                Change("create dataset \(dataset) (\(settings))") {
                    try Command("zfs", ["create", "-p"] + options + [dataset])
                        .run(logger: context.logger)
                })
            return report
        }
        var current: [String: String] = [:]
        for line in query.outputText.split(separator: "\n") {
            let fields = line.split(separator: "\t").map(String.init)
            if fields.count == 2 { current[fields[0]] = fields[1] }
        }
        for property in properties where !StorageStep.matches(property, current[property.name]) {
            let was = current[property.name] ?? "unset"
            report.changes.append(
                Change("set \(property.assignment) on \(dataset) (was \(was))") {
                    try Command("zfs", ["set", property.assignment, dataset])
                        .run(logger: context.logger)
                })
        }
        if report.changes.isEmpty { report.findings.append("dataset \(dataset) has \(settings)") }
        return report
    }

    /// Whether `current` (as `zfs get -p` prints it, sizes in bytes) is `property`'s value.
    static func matches(_ property: ZFSProperty, _ current: String?) -> Bool {
        guard let current else { return false }
        if current == property.value { return true }
        guard let bytes = property.bytes, let currentBytes = Int64(current) else { return false }
        return bytes == currentBytes
    }
}
