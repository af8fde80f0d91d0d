import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// The operations a folder-based store uses to make, seal, copy and remove version
/// folders: plain folders for `dir:` stores, subvolumes and snapshots for `btrfs:` stores.
protocol FolderVolumes: Sendable {
    /// The `method` recorded for clones.
    var cloneMethod: String { get }
    /// The `kind` of payload `send` writes.
    var payloadKind: String { get }

    /// Creates the empty pending folder `path`; throws `EEXIST` as `.failed` when taken.
    func createPending(_ path: String) throws

    /// Turns the finished pending folder into the read-only version folder `final`, so
    /// that `final` appears complete or not at all.
    func seal(pending: String, final: String) throws

    /// Removes a version, pending or received folder and everything in it.
    func removeFolder(_ path: String) throws

    /// Makes a writable copy of the version folder `source` at `destination`.
    func cloneFolder(_ source: String, to destination: String) throws

    /// Whether the folder under `images/` is a whole version rather than a leftover.
    func isComplete(_ path: String) throws -> Bool
}

/// Plain folders: publish is a rename(2), clones are reflinks where the filesystem can.
struct PlainVolumes: FolderVolumes {
    let logger: Logger
    var cloneMethod: String { "reflink-or-copy" }
    var payloadKind: String { "tar" }

    func createPending(_ path: String) throws {
        try SystemCall.retrying("create folder \(path)") { mkdir(path, 0o755) }
    }

    func seal(pending: String, final: String) throws {
        try syncTree(pending)
        try SystemCall.retrying("rename \(pending) to \(final)") { rename(pending, final) }
        try syncFolder((final as NSString).deletingLastPathComponent)
        try setTopLevelWritable(final, false)
    }

    func removeFolder(_ path: String) throws {
        guard FileSystem.exists(path) else { return }
        try? setTopLevelWritable(path, true)
        try FileSystem.remove(path)
    }

    func cloneFolder(_ source: String, to destination: String) throws {
        try Command("cp", ["--reflink=auto", "-a", "--", source, destination]).run(
            logger: logger)
        try setTopLevelWritable(destination, true)
    }

    func isComplete(_ path: String) throws -> Bool {
        FileSystem.exists("\(path)/\(VersionLayout.manifest)")
    }
}

/// Sets or clears the write bits of a version folder and the files directly in it, but
/// not inside the tree, whose modes stay as the image has them.
func setTopLevelWritable(_ folder: String, _ writable: Bool) throws {
    for entry in try topLevelFiles(folder) + [folder] {
        var info = stat()
        try SystemCall.retrying("stat \(entry)") { lstat(entry, &info) }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFDIR else { continue }
        if entry != folder, kind == S_IFDIR { continue }
        let mode = writable ? info.st_mode | S_IWUSR : info.st_mode & ~(S_IWUSR | S_IWGRP | S_IWOTH)
        try SystemCall.retrying("chmod \(entry)") { chmod(entry, mode & 0o7777) }
    }
}

/// The paths of the entries directly in `folder`.
func topLevelFiles(_ folder: String) throws -> [String] {
    do {
        return try FileManager.default.contentsOfDirectory(atPath: folder).sorted().map {
            "\(folder)/\($0)"
        }
    } catch {
        throw KFCError.failed("list \(folder)", FileSystem.describe(error))
    }
}

/// Flushes every regular file and folder under `path` to disk with fsync(2); symlinks and
/// device nodes have no data of their own to flush.
func syncTree(_ path: String) throws {
    let enumerator = FileManager.default.enumerator(atPath: path)
    var paths = [path]
    while let relative = enumerator?.nextObject() as? String {
        paths.append("\(path)/\(relative)")
    }
    for entry in paths {
        var info = stat()
        try SystemCall.retrying("stat \(entry)") { lstat(entry, &info) }
        let kind = info.st_mode & S_IFMT
        guard kind == S_IFREG || kind == S_IFDIR else { continue }
        let fd = try SystemCall.retrying("open \(entry)") {
            open(entry, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        }
        defer { close(fd) }
        try SystemCall.retrying("fsync \(entry)") { fsync(fd) }
    }
}

/// Flushes the entries of the folder `path` (after a rename into it).
func syncFolder(_ path: String) throws {
    let fd = try SystemCall.retrying("open \(path)") {
        open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    }
    defer { close(fd) }
    try SystemCall.retrying("fsync \(path)") { fsync(fd) }
}
