import Foundation
import KFCCore

/// One reading of the datasets and snapshots under a scope, so that listing N versions
/// runs a fixed number of `zfs` commands rather than several per version.
struct ZFSCatalog {
    /// The locally set properties by dataset or snapshot name.
    var properties: [String: [String: String]] = [:]
    /// The mountpoints of mounted filesystems by dataset name.
    var mountpoints: [String: String] = [:]
    /// The snapshot names (after the `@`) of each dataset, oldest first.
    var snapshots: [String: [String]] = [:]
    /// Every filesystem under the scope, the scope included, sorted.
    var filesystems: [String] = []

    /// Reads everything under `scope`; an absent scope gives an empty catalog.
    init(scope: String, zfs: ZFS) throws {
        properties = try zfs.localProperties(scope)
        guard !properties.isEmpty || zfs.exists(scope) else { return }
        for row in try zfs.rows(["list", "-H", "-t", "filesystem", "-o",
            "name,mountpoint,mounted", "-r", scope]) where row.count == 3
        {
            filesystems.append(row[0])
            if row[2] == "yes", row[1].hasPrefix("/") { mountpoints[row[0]] = row[1] }
        }
        filesystems.sort()
        for row in try zfs.rows(["list", "-H", "-t", "snapshot", "-o", "name", "-s",
            "creation", "-r", scope])
        {
            let parts = row[0].split(separator: "@", maxSplits: 1).map(String.init)
            if parts.count == 2 { snapshots[parts[0], default: []].append(parts[1]) }
        }
    }

    /// The folder a version's files can be read from: the snapshot folder under
    /// `.zfs/snapshot`, or the dataset's own mountpoint for the newest version while no
    /// build is writing into it.
    ///
    /// NOTE: zfs-fuse has no `.zfs` folder, so there the paths of older versions name a
    /// folder that does not exist. `withContents` clones such versions to read them.
    func contentFolder(dataset: String, version: String) throws -> String {
        guard let mount = mountpoints[dataset] else {
            throw KFCError.failed(dataset, "the dataset is not mounted at a path")
        }
        let snapshotFolder = "\(mount)/.zfs/snapshot/\(version)"
        if FileSystem.isDirectory("\(mount)/.zfs/snapshot") { return snapshotFolder }
        let isNewest = snapshots[dataset]?.last == version
        let building = properties[dataset]?["kfc:pending"] != nil
        return isNewest && !building ? mount : snapshotFolder
    }

    /// The manifest stored on the snapshot `target`, with its verification record and
    /// absolute paths; nil when it has none (yet).
    func manifest(_ target: String) throws -> VersionManifest? {
        let values = properties[target] ?? [:]
        guard let data = ZFS.chunked("kfc:manifest", in: values) else { return nil }
        var manifest = try withContext("read the manifest of \(target)") {
            try VersionManifest.decode(data)
        }
        if let verified = ZFS.chunked("kfc:verified", in: values) {
            manifest.verified = try withContext("read the verification record of \(target)") {
                try JSONDecoder().decode(VersionManifest.VerificationRecord.self, from: verified)
            }
        }
        let dataset = String(target.prefix { $0 != "@" })
        return manifest.absolute(
            in: try contentFolder(dataset: dataset, version: manifest.version))
    }
}
