// The ext2fs module header also exports sys/xattr.h, which Swift's Glibc module omits.
internal import CExt2fs
import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// Everything the tests compare about one entry of a tree on a mounted file system.
struct EntrySnapshot: Equatable, CustomStringConvertible {
    var kind: UInt32
    var permissions: UInt32
    var uid: UInt32
    var gid: UInt32
    var size: Int64
    var contentDigest: String?
    var target: [UInt8]?
    var device: UInt64
    var attributes: [String: [UInt8]]
    var modification: Timestamp
    var access: Timestamp

    struct Timestamp: Equatable {
        var seconds: Int64
        var nanoseconds: Int
    }

    var description: String {
        "kind \(String(kind, radix: 8)) mode \(String(permissions, radix: 8)) "
            + "owner \(uid):\(gid) size \(size) digest \(contentDigest ?? "-") "
            + "device \(device) mtime \(modification) atime \(access) "
            + "xattrs \(attributes.keys.sorted())"
    }
}

/// A tree read with lstat, readlink and llistxattr, keyed by byte path from its top.
struct TreeSnapshot {
    var entries: [[UInt8]: EntrySnapshot] = [:]
    /// Paths of non-folders sharing an inode, each group sorted, groups sorted.
    var hardLinkGroups: [[[UInt8]]] = []

    /// Reads the tree below `root`.
    init(root: String) throws {
        var groups: [String: [[UInt8]]] = [:]
        try walk(Array(root.utf8), relative: [], groups: &groups)
        hardLinkGroups = groups.values.filter { $0.count > 1 }
            .map { $0.sorted { $0.lexicographicallyPrecedes($1) } }
            .sorted { $0[0].lexicographicallyPrecedes($1[0]) }
    }

    private mutating func walk(
        _ absolute: [UInt8], relative: [UInt8], groups: inout [String: [[UInt8]]]
    ) throws {
        // readlink may update a symlink's access time, so it runs before lstat. The writer
        // stats before it reads the link, so it records the time this lstat sees.
        let target = TreeSnapshot.readLink(absolute)
        var info = stat()
        guard TreeSnapshot.withPath(absolute, { lstat($0, &info) }) == 0 else {
            throw KFCError.failed("lstat \(String(decoding: absolute, as: UTF8.self))", "failed")
        }
        let kind = UInt32(info.st_mode) & 0o170000
        var entry = EntrySnapshot(
            kind: kind, permissions: UInt32(info.st_mode) & 0o7777, uid: info.st_uid,
            gid: info.st_gid, size: kind == 0o040000 ? 0 : Int64(info.st_size),
            device: kind == 0o020000 || kind == 0o060000 ? UInt64(info.st_rdev) : 0,
            attributes: TreeSnapshot.attributes(absolute),
            modification: .init(
                seconds: Int64(info.st_mtim.tv_sec), nanoseconds: info.st_mtim.tv_nsec),
            access: .init(seconds: Int64(info.st_atim.tv_sec), nanoseconds: info.st_atim.tv_nsec))
        if kind == 0o100000 {
            entry.contentDigest = try TreeSnapshot.digest(absolute)
        }
        if kind == 0o120000 { entry.target = target }
        entries[relative] = entry
        if kind != 0o040000, info.st_nlink > 1 {
            groups["\(info.st_dev):\(info.st_ino)", default: []].append(relative)
        }
        guard kind == 0o040000 else { return }
        for name in try TreeSnapshot.names(absolute) {
            try walk(absolute + [0x2f] + name, relative: relative + [0x2f] + name, groups: &groups)
        }
    }

    static func withPath<T>(_ path: [UInt8], _ body: (UnsafePointer<CChar>) -> T) -> T {
        (path + [0]).withUnsafeBufferPointer {
            $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: $0.count, body)
        }
    }

    /// O_NOATIME, so reading a tree leaves the access times the tests compare.
    static let noAccessTime: Int32 = 0o1000000

    static func digest(_ path: [UInt8]) throws -> String {
        let fd = withPath(path) { open($0, O_RDONLY | noAccessTime) }
        guard fd >= 0 else { throw KFCError.failed("open for digest", "failed") }
        defer { close(fd) }
        let hasher = Digest.Hasher(.sha256)
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count >= 0 else { throw KFCError.failed("read for digest", "failed") }
            if count == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
        }
        return hasher.finish().hex
    }

    static func names(_ path: [UInt8]) throws -> [[UInt8]] {
        let fd = withPath(path) { open($0, O_RDONLY | O_DIRECTORY | noAccessTime) }
        guard fd >= 0, let stream = fdopendir(fd) else {
            throw KFCError.failed("opendir \(String(decoding: path, as: UTF8.self))", "failed")
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while let item = readdir(stream) {
            let name = withUnsafeBytes(of: &item.pointee.d_name) { Array($0.prefix { $0 != 0 }) }
            if name != [0x2e], name != [0x2e, 0x2e] { names.append(name) }
        }
        return names
    }

    static func readLink(_ path: [UInt8]) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: 4097)
        let count = withPath(path) { readlink($0, &buffer, buffer.count) }
        return buffer.prefix(max(0, count)).map { UInt8(bitPattern: $0) }
    }

    static func attributes(_ path: [UInt8]) -> [String: [UInt8]] {
        var list = [CChar](repeating: 0, count: 65536)
        let size = withPath(path) { llistxattr($0, &list, list.count) }
        guard size > 0 else { return [:] }
        var result: [String: [UInt8]] = [:]
        let names = list.prefix(size).split(separator: 0).map {
            String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        for name in names {
            var value = [UInt8](repeating: 0, count: 65536)
            let count = withPath(path) { lgetxattr($0, name, &value, value.count) }
            result[name] = Array(value.prefix(max(0, count)))
        }
        return result
    }
}
