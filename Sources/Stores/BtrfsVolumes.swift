import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// btrfs subvolumes: a pending version is a subvolume, a version a read-only snapshot of
/// it, clones are writable snapshots, and replication uses `btrfs send` and `btrfs receive`.
struct BtrfsVolumes: FolderVolumes {
    let logger: Logger
    var cloneMethod: String { "btrfs-snapshot" }
    var payloadKind: String { "btrfs" }

    /// The inode number of every subvolume's top folder on btrfs.
    static let subvolumeInode = 256

    /// Rejects `root` unless it is on a btrfs filesystem.
    static func checkFilesystem(_ root: String) throws {
        let type = try Command("stat", ["-f", "-c", "%T", "--", root]).output()
        guard type == "btrfs" else {
            throw KFCError.invalid(
                "btrfs:\(root)", "not on a btrfs filesystem; use dir:\(root) for a plain folder")
        }
    }

    func createPending(_ path: String) throws {
        guard !FileSystem.exists(path) else {
            throw KFCError.failed("create subvolume \(path)", "it exists already")
        }
        try btrfs(["subvolume", "create", path])
    }

    func seal(pending: String, final: String) throws {
        try setTopLevelWritable(pending, false)
        // The read-only snapshot appears whole at `final`, so readers never see a part.
        try btrfs(["subvolume", "snapshot", "-r", pending, final])
        try btrfs(["subvolume", "delete", pending])
    }

    func removeFolder(_ path: String) throws {
        guard FileSystem.exists(path) else { return }
        if isSubvolume(path) {
            try btrfs(["subvolume", "delete", path])
        } else {
            try? setTopLevelWritable(path, true)
            try FileSystem.remove(path)
        }
    }

    func cloneFolder(_ source: String, to destination: String) throws {
        do {
            try btrfs(["subvolume", "snapshot", source, destination])
        } catch {
            // Outside the store's filesystem a snapshot is impossible, so copy instead.
            logger.info("snapshot failed; copying", [("path", destination), ("error", "\(error)")])
            try Command("cp", ["--reflink=auto", "-a", "--", source, destination]).run(
                logger: logger)
        }
        try setTopLevelWritable(destination, true)
    }

    func isComplete(_ path: String) throws -> Bool {
        guard FileSystem.exists("\(path)/\(VersionLayout.manifest)"), isSubvolume(path) else {
            return false
        }
        let output = try Command("btrfs", ["property", "get", "-ts", path, "ro"]).output(
            logger: logger)
        return output.trimmingCharacters(in: .whitespaces) == "ro=true"
    }

    /// Writes a `btrfs send` stream of the snapshot `folder` to `spool`, against `base`.
    func send(_ folder: String, base: String?, to spool: String) throws {
        let parent = base.map { ["-p", $0] } ?? []
        try btrfs(["send", "-q"] + parent + ["-f", spool, folder])
    }

    /// Receives a `btrfs receive` stream into `parent`, where it becomes `final`, and runs
    /// `check` on it; a failed receive or check deletes the received subvolume.
    func receive(
        _ spool: String, into parent: String, final: String, base: String?,
        check: (String) throws -> Void
    ) throws {
        try FileSystem.createDirectory(parent)
        do {
            try btrfs(["receive", "-f", spool, parent])
            guard FileSystem.exists(final) else {
                throw KFCError.invalid(spool, "the btrfs stream carries another subvolume name")
            }
            try check(final)
        } catch {
            try? removeFolder(final)
            throw error
        }
    }

    private func isSubvolume(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && info.st_ino == BtrfsVolumes.subvolumeInode
            && info.st_mode & S_IFMT == S_IFDIR
    }

    private func btrfs(_ arguments: [String]) throws {
        try Command("btrfs", arguments).run(logger: logger)
    }
}
