import Foundation
import KFCCore

extension ZFSStore {
    /// Removes what failed or killed operations left: image datasets a dead build was
    /// writing (rolled back), snapshots without a manifest, temporary datasets, clones whose
    /// folder is gone or unmounted, and unlocked stream spools.
    public func collectGarbage() throws -> [String] {
        var removed: [String] = []
        let catalog = try ZFSCatalog(scope: "\(parent)/golden", zfs: zfs)
        let golden = catalog.properties
        let prefix = "\(parent)/golden/"
        let names = catalog.filesystems.filter { $0.hasPrefix(prefix) }.map {
            String($0.dropFirst(prefix.count))
        }
        for name in names {
            guard let build = try FileLock.attempt(buildLockPath(name)) else {
                logger.info("image busy; gc skips it", [("name", name)])
                continue
            }
            try withExtendedLifetime(build) {
                removed += try collectImage(name, properties: golden)
            }
        }
        removed += try collectDatasets()
        removed += try collectSpools()
        for line in removed { logger.info("removed", [("item", line)]) }
        return removed
    }

    private func collectImage(_ name: String, properties: [String: [String: String]]) throws
        -> [String]
    {
        var removed: [String] = []
        for version in try snapshotNames(name) {
            let target = snapshot(name, version)
            guard ZFS.chunked("kfc:manifest", in: properties[target] ?? [:]) == nil else {
                continue
            }
            try zfs.destroy(target)
            removed.append("snapshot without a manifest \(target)")
        }
        if let pending = properties[dataset(name)]?["kfc:pending"] {
            discardContents(name)
            removed.append("unfinished build \(name)@\(pending) in \(dataset(name))")
        } else if try snapshotNames(name).isEmpty, zfs.exists(dataset(name)) {
            // What a receive killed before its first snapshot was complete leaves.
            try zfs.destroy(dataset(name), recursive: true)
            removed.append("image dataset without versions \(dataset(name))")
        }
        return removed
    }

    private func collectDatasets() throws -> [String] {
        var removed: [String] = []
        for (target, properties) in try zfs.localProperties("\(parent)/tmp")
        where properties["kfc:temporary"] == "yes" {
            try zfs.destroy(target)
            removed.append("temporary dataset \(target)")
        }
        for clone in try clones(name: nil) {
            guard let target = clone.dataset else { continue }
            let mounted = (try? isMounted(target)) ?? false
            guard !mounted || !FileSystem.exists(clone.path) else { continue }
            try zfs.destroy(target)
            removed.append("unreferenced clone \(target) of \(clone.name)@\(clone.version)")
        }
        return removed
    }

    private func collectSpools() throws -> [String] {
        let folder = "\(scratch)/spool"
        guard FileSystem.isDirectory(folder) else { return [] }
        var removed: [String] = []
        for entry in try topLevelFiles(folder) {
            guard let lock = try FileLock.attempt(entry) else { continue }
            try withExtendedLifetime(lock) { try FileSystem.remove(entry) }
            removed.append("stream spool \(entry)")
        }
        return removed
    }
}
