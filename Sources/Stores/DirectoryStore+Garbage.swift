import Foundation
import KFCCore

extension DirectoryStore {
    /// Removes pending folders no live build holds, version folders without a manifest,
    /// verification records of removed versions and records of clones whose folder is gone.
    public func collectGarbage() throws -> [String] {
        var removed = try removeAbandonedTemporaries()
        for name in try imageNames() {
            guard let lock = try FileLock.attempt(lockPath(name)) else {
                logger.info("image busy; gc skips it", [("name", name)])
                continue
            }
            try withExtendedLifetime(lock) {
                removed += try removeIncompleteVersions(name)
            }
        }
        removed += try removeStaleRecords()
        for line in removed { logger.info("removed", [("item", line)]) }
        return removed
    }

    private func removeAbandonedTemporaries() throws -> [String] {
        var removed: [String] = []
        for entry in try entries("\(root)/tmp") {
            let path = "\(root)/tmp/\(entry)"
            // A live build, receive or removal holds an flock on its entry.
            guard let lock = try FileLock.attempt(path) else { continue }
            try withExtendedLifetime(lock) { try volumes.removeFolder(path) }
            removed.append("temporary \(path)")
        }
        return removed
    }

    private func removeIncompleteVersions(_ name: String) throws -> [String] {
        let folder = "\(root)/images/\(name)"
        var removed: [String] = []
        for entry in try entries(folder) {
            let path = "\(folder)/\(entry)"
            let complete = try volumes.isComplete(path)
            guard !complete else { continue }
            try volumes.removeFolder(path)
            removed.append("incomplete version \(path)")
        }
        return removed
    }

    private func removeStaleRecords() throws -> [String] {
        var removed: [String] = []
        for name in try entries("\(root)/verified") {
            let versions = Set(try publishedVersions(name))
            for file in try entries("\(root)/verified/\(name)") {
                guard !versions.contains(String(file.dropLast(".json".count))) else { continue }
                try FileSystem.remove("\(root)/verified/\(name)/\(file)")
                removed.append("verification record of \(name)@\(file.dropLast(5))")
            }
        }
        for (file, record) in try cloneRecordFiles(name: nil)
        where !FileSystem.exists(record.path) {
            try FileSystem.remove(file)
            removed.append("record of the removed clone \(record.path)")
        }
        return removed
    }
}
