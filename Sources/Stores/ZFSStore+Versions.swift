import Foundation
import KFCCore

extension ZFSStore {
    public func versions(name: String?) throws -> [VersionManifest] {
        let scope = name.map(dataset) ?? "\(parent)/golden"
        if let name { try Names.validate(name, as: "image name") }
        let all = try zfs.localProperties(scope)
        var result: [VersionManifest] = []
        for (target, properties) in all where target.contains("@") {
            guard let manifest = try decodeManifest(target, properties) else { continue }
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
        let target = snapshot(name, version)
        guard zfs.exists(target),
            let properties = try zfs.localProperties(target)[target],
            let manifest = try decodeManifest(target, properties)
        else {
            throw KFCError.notFound("\(name)@\(version)", "no such version in \(spec)")
        }
        return manifest
    }

    /// The manifest stored on the snapshot `target`; nil when it has none (yet).
    func decodeManifest(_ target: String, _ properties: [String: String]) throws
        -> VersionManifest?
    {
        guard let data = ZFS.chunked("kfc:manifest", in: properties) else { return nil }
        var manifest = try withContext("read the manifest of \(target)") {
            try VersionManifest.decode(data)
        }
        if let verified = ZFS.chunked("kfc:verified", in: properties) {
            manifest.verified = try withContext("read the verification record of \(target)") {
                try JSONDecoder().decode(VersionManifest.VerificationRecord.self, from: verified)
            }
        }
        return manifest.absolute(in: try contentFolder(manifest.name, manifest.version))
    }

    /// Where a version's files can be read: the snapshot folder under `.zfs/snapshot`, or
    /// the dataset's own mountpoint for the newest version while no build is writing.
    ///
    /// NOTE: zfs-fuse has no `.zfs` folder, so there the paths of older versions name a
    /// folder that does not exist. `withContents` clones such versions to read them.
    func contentFolder(_ name: String, _ version: String) throws -> String {
        let target = dataset(name)
        let mount = try mountpoint(target)
        let snapshotFolder = "\(mount)/.zfs/snapshot/\(version)"
        if FileSystem.isDirectory("\(mount)/.zfs/snapshot") { return snapshotFolder }
        let properties = try zfs.localProperties(target)[target] ?? [:]
        let isNewest = try snapshotNames(name).last == version
        return isNewest && properties["kfc:pending"] == nil ? mount : snapshotFolder
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
