import Foundation
import KFCCore

extension ZFSStore {
    public func versions(name: String?) throws -> [VersionManifest] {
        if let name { try Names.validate(name, as: "image name") }
        let catalog = try ZFSCatalog(scope: name.map(dataset) ?? "\(parent)/golden", zfs: zfs)
        var result: [VersionManifest] = []
        for target in catalog.properties.keys where target.contains("@") {
            guard let manifest = try catalog.manifest(target) else { continue }
            result.append(manifest)
        }
        return result.sorted { $0.name != $1.name ? $0.name < $1.name : Names.isOlder($0, $1) }
    }

    public func manifest(_ reference: VersionReference) throws -> VersionManifest {
        try resolveReference(reference, in: self)
    }

    public func recordVerification(
        _ record: VersionManifest.VerificationRecord, name: String, version: String
    ) throws {
        _ = try readManifest(name, version)
        let target = snapshot(name, version)
        let previous = try zfs.localProperties(target)[target] ?? [:]
        let parts = previous["kfc:verified.parts"].flatMap { Int($0) } ?? 0
        try zfs.setChunked(
            "kfc:verified", try encodeRecord(record), on: target, previousParts: parts)
    }

    /// The manifest of a published version, with its verification record and absolute paths.
    func readManifest(_ name: String, _ version: String) throws -> VersionManifest {
        try Names.validate(name, as: "image name")
        let catalog = try ZFSCatalog(scope: dataset(name), zfs: zfs)
        guard let manifest = try catalog.manifest(snapshot(name, version)) else {
            throw KFCError.notFound("\(name)@\(version)", "no such version in \(spec)")
        }
        return manifest
    }

    /// The folder a version's files can be read from; see `ZFSCatalog.contentFolder`.
    func contentFolder(_ name: String, _ version: String) throws -> String {
        try ZFSCatalog(scope: dataset(name), zfs: zfs).contentFolder(
            dataset: dataset(name), version: version)
    }

    /// Runs `body` with the manifest of a version whose files can be read, cloning the
    /// snapshot to a temporary read-only dataset when its folder is not reachable.
    func withContents<T>(_ manifest: VersionManifest, _ body: (VersionManifest) throws -> T)
        throws -> T
    {
        if FileSystem.exists(manifest.image.path) { return try body(manifest) }
        let temporary = "\(parent)/tmp/\(manifest.name)-\(manifest.version)-\(getpid())"
        try zfs.run(["clone", "-o", "readonly=on", "-o", "kfc:temporary=yes",
            snapshot(manifest.name, manifest.version), temporary])
        defer { destroyTemporary(temporary) }
        let relative = manifest.relative(to: try contentFolder(manifest.name, manifest.version))
        return try body(relative.absolute(in: try mountpoint(temporary)))
    }

    /// Destroys a temporary clone; one that cannot be destroyed now is left for gc.
    func destroyTemporary(_ target: String) {
        do {
            try zfs.destroy(target)
        } catch {
            logger.warning("could not destroy a temporary clone; gc destroys it",
                [("dataset", target), ("error", "\(error)")])
        }
    }
}
