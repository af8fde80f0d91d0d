import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

extension DirectoryStore {
    public func clone(_ reference: VersionReference, to destination: String) throws
        -> CloneRecord
    {
        let manifest = try manifest(reference)
        let context = "clone \(manifest.reference) to \(destination)"
        guard destination.hasPrefix("/") else {
            throw KFCError.usage("\(context): the destination must be an absolute path")
        }
        guard !FileSystem.exists(destination) else {
            throw KFCError.failed(context, "the destination exists already")
        }
        let source = versionFolder(manifest.name, manifest.version)
        do {
            try volumes.cloneFolder(source, to: destination)
        } catch {
            // A copy cut short by a full disk or a signal is removed rather than left half.
            try? volumes.removeFolder(destination)
            throw error.asKFCError().within(context)
        }
        let record = CloneRecord(
            name: manifest.name, version: manifest.version, path: destination,
            method: volumes.cloneMethod, created: timestampNow())
        let folder = "\(root)/clones/\(manifest.name)"
        try FileSystem.createDirectory(folder)
        try FileSystem.writeAtomically(
            try encodeRecord(record), to: "\(folder)/\(cloneIdentifier(destination)).json")
        logger.info("clone made", [("version", manifest.reference), ("path", destination)])
        return record
    }

    public func clones(name: String?) throws -> [CloneRecord] {
        try cloneRecordFiles(name: name).map(\.1)
    }

    /// Every clone record with the file it is stored in.
    func cloneRecordFiles(name: String?) throws -> [(String, CloneRecord)] {
        let names = try name.map { [$0] } ?? entries("\(root)/clones")
        var records: [(String, CloneRecord)] = []
        for image in names {
            let folder = "\(root)/clones/\(image)"
            for file in try entries(folder) where file.hasSuffix(".json") {
                let path = "\(folder)/\(file)"
                let record = try withContext("read \(path)") {
                    try JSONDecoder().decode(CloneRecord.self, from: try FileSystem.read(path))
                }
                records.append((path, record))
            }
        }
        return records.sorted { ($0.1.name, $0.1.path) < ($1.1.name, $1.1.path) }
    }

    /// Removes a version. Clones of folder stores are independent copies, so they do not
    /// keep a version alive; channels pointing at it do.
    public func remove(name: String, version: String) throws {
        try withNameLock(name) {
            _ = try readManifest(name, version)
            try detachFromChannels(name: name, version: version)
            let folder = versionFolder(name, version)
            if volumes is PlainVolumes {
                // Moving the folder out of images/ first makes the removal all or nothing
                // for readers; a cut removal leaves a tmp folder for gc.
                let doomed = "\(root)/tmp/\(name)@\(version).removing"
                try SystemCall.retrying("rename \(folder) to \(doomed)") { rename(folder, doomed) }
                try volumes.removeFolder(doomed)
            } else {
                try volumes.removeFolder(folder)
            }
            try FileSystem.remove("\(root)/verified/\(name)/\(version).json")
            logger.info("version removed", [("name", name), ("version", version)])
        }
    }

    /// A file name for the clone record of `destination`: its path's digest, shortened.
    func cloneIdentifier(_ destination: String) -> String {
        String(Digest.of(Data(destination.utf8)).hex.prefix(16))
    }
}
