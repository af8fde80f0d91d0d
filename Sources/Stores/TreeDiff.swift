import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// The difference between two version folders, for incremental `tar-delta` streams.
///
/// NOTE: extended attributes and hard links are not compared. A change that touches only
/// an xattr is not sent, and a hard link whose other name did not change arrives as a copy.
struct TreeDiff {
    /// Paths, relative to the new folder, whose entry is new or differs; parents come first.
    var changed: [String] = []
    /// Paths present in the base that the new folder lacks or has as another type.
    var removed: [String] = []

    /// Compares the folders `base` and `new` entry by entry.
    init(base: String, new: String) throws {
        try compare(base: base, new: new, relative: "")
    }

    private mutating func compare(base: String, new: String, relative: String) throws {
        let baseNames = Set(try listing(join(base, relative)))
        for name in try listing(join(new, relative)) {
            let path = relative.isEmpty ? name : "\(relative)/\(name)"
            let newEntry = try EntryInfo(join(new, path))
            let baseEntry = baseNames.contains(name) ? try EntryInfo(join(base, path)) : nil
            if let baseEntry, baseEntry.kind != newEntry.kind { removed.append(path) }
            let same = try baseEntry.map { try $0.matches(newEntry) } ?? false
            if !same { changed.append(path) }
            if newEntry.kind == S_IFDIR {
                if baseEntry?.kind == S_IFDIR {
                    try compare(base: base, new: new, relative: path)
                } else {
                    try addAll(new: new, relative: path)
                }
            }
        }
        let newNames = Set(try listing(join(new, relative)))
        for name in baseNames.subtracting(newNames).sorted() {
            removed.append(relative.isEmpty ? name : "\(relative)/\(name)")
        }
    }

    private mutating func addAll(new: String, relative: String) throws {
        for name in try listing(join(new, relative)) {
            let path = "\(relative)/\(name)"
            changed.append(path)
            if try EntryInfo(join(new, path)).kind == S_IFDIR {
                try addAll(new: new, relative: path)
            }
        }
    }

    private func join(_ folder: String, _ relative: String) -> String {
        relative.isEmpty ? folder : "\(folder)/\(relative)"
    }

    private func listing(_ folder: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).sorted()
        } catch {
            throw KFCError.failed("list \(folder)", FileSystem.describe(error))
        }
    }
}

/// The lstat(2) fields a delta compares, and the path to compare contents.
private struct EntryInfo {
    let path: String
    let kind: mode_t
    let info: stat

    init(_ path: String) throws {
        var info = stat()
        try SystemCall.retrying("stat \(path)") { lstat(path, &info) }
        self.path = path
        self.info = info
        kind = info.st_mode & S_IFMT
    }

    /// Whether `other` has the same type, metadata and content.
    func matches(_ other: EntryInfo) throws -> Bool {
        let a = info
        let b = other.info
        guard kind == other.kind, a.st_mode == b.st_mode, a.st_uid == b.st_uid,
            a.st_gid == b.st_gid, a.st_rdev == b.st_rdev,
            a.st_mtim.tv_sec == b.st_mtim.tv_sec, a.st_mtim.tv_nsec == b.st_mtim.tv_nsec
        else { return false }
        switch kind {
        case S_IFREG:
            guard a.st_size == b.st_size else { return false }
            return try sameContent(path, other.path)
        case S_IFLNK:
            let first = try FileManager.default.destinationOfSymbolicLink(atPath: path)
            return first == (try FileManager.default.destinationOfSymbolicLink(atPath: other.path))
        default:
            return true
        }
    }
}

/// Whether two regular files have the same bytes.
private func sameContent(_ first: String, _ second: String) throws -> Bool {
    let a = try FileHandle(forReadingFrom: URL(fileURLWithPath: first))
    defer { try? a.close() }
    let b = try FileHandle(forReadingFrom: URL(fileURLWithPath: second))
    defer { try? b.close() }
    while true {
        let left = try a.read(upToCount: 1 << 20) ?? Data()
        let right = try b.read(upToCount: 1 << 20) ?? Data()
        if left != right { return false }
        if left.isEmpty { return true }
    }
}
