import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// Reads a directory tree into a `SourceTree` with `openat` and `fstatat`, never following
/// a symlink below the top folder, so nothing outside the tree is ever read.
struct DirectoryScanner {
    /// The folder being read, for messages.
    let root: String
    let logger: Logger
    private var tree = SourceTree()
    /// First entries of hard-link groups by the source's full (st_dev, st_ino) pair.
    private var firstLinks: [DeviceInode: Int] = [:]

    private struct DeviceInode: Hashable {
        var device: UInt64
        var inode: UInt64
    }

    /// Reads the tree below `root`; the top folder itself may be reached through a symlink.
    static func scan(_ root: String, logger: Logger) throws -> SourceTree {
        var scanner = DirectoryScanner(root: root, logger: logger)
        let fd = try SystemCall.retrying("open \(root)") {
            openWithoutAccessTime(AT_FDCWD, root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        defer { close(fd) }
        var info = stat()
        try SystemCall.retrying("stat \(root)") { fstat(fd, &info) }
        var entry = try scanner.makeEntry(name: [], parent: 0, info: info)
        entry.attributes = scanner.attributes(path: Array("/proc/self/fd/\(fd)".utf8), for: root)
        scanner.tree.entries.append(entry)
        try scanner.scanDirectory(fd: fd, index: 0)
        return scanner.tree
    }

    private init(root: String, logger: Logger) {
        self.root = root
        self.logger = logger
    }

    /// Appends the children of directory `index` (open as `fd`), then descends into the
    /// subdirectories in name order.
    ///
    /// NOTE: one descriptor stays open per level, so a tree nested deeper than the process's
    /// descriptor limit (often 1024) fails with EMFILE.
    private mutating func scanDirectory(fd: Int32, index: Int) throws {
        let names = try DirectoryScanner.names(in: fd, path: display(index))
        var children: [Int] = []
        children.reserveCapacity(names.count)
        for name in names {
            children.append(try addEntry(name: name, parent: index, directoryFD: fd))
        }
        tree.entries[index].children = children
        for child in children where tree.entries[child].kind == .directory {
            let childFD = try openDirectory(child, in: fd)
            defer { close(childFD) }
            try scanDirectory(fd: childFD, index: child)
        }
    }

    /// Stats `name` in `directoryFD` without following it and appends its entry.
    private mutating func addEntry(name: [UInt8], parent: Int, directoryFD: Int32) throws -> Int {
        let index = tree.entries.count
        var info = stat()
        let where_ = "\(display(parent))/\(String(decoding: name, as: UTF8.self))"
        _ = try withCString(name) { cName in
            try SystemCall.retrying("stat \(where_)") {
                fstatat(directoryFD, cName, &info, AT_SYMLINK_NOFOLLOW)
            }
        }
        var entry = try makeEntry(name: name, parent: parent, info: info)
        if entry.kind == .symlink {
            entry.target = try DirectoryScanner.linkTarget(name, in: directoryFD, path: where_)
            entry.size = Int64(entry.target.count)
        }
        let procPath = Array("/proc/self/fd/\(directoryFD)/".utf8) + name
        entry.attributes = attributes(path: procPath, for: where_)
        if entry.kind != .directory, info.st_nlink > 1 {
            let key = DeviceInode(device: UInt64(info.st_dev), inode: UInt64(info.st_ino))
            if let first = firstLinks[key] {
                entry.hardLinkOf = first
                tree.entries[first].linkCount += 1
            } else {
                firstLinks[key] = index
            }
        }
        tree.entries.append(entry)
        return index
    }

    /// Returns the entry for `info`, with times, owner, mode and device numbers.
    private func makeEntry(name: [UInt8], parent: Int, info: stat) throws -> SourceEntry {
        guard let kind = EntryKind(mode: UInt32(info.st_mode)) else {
            throw KFCError.invalid(
                "scan \(root)", "entry of unknown type (mode \(String(info.st_mode, radix: 8)))")
        }
        var entry = SourceEntry(
            name: name, parent: parent, kind: kind,
            permissions: UInt16(info.st_mode & 0o7777), uid: info.st_uid, gid: info.st_gid,
            accessTime: Timestamp(info.st_atim), modificationTime: Timestamp(info.st_mtim),
            changeTime: Timestamp(info.st_ctim))
        if kind == .regular { entry.size = Int64(info.st_size) }
        if kind == .characterDevice || kind == .blockDevice {
            let device = UInt64(info.st_rdev)
            entry.deviceMajor = UInt32(((device >> 8) & 0xfff) | ((device >> 32) & ~0xfff))
            entry.deviceMinor = UInt32((device & 0xff) | ((device >> 12) & ~0xff))
        }
        entry.sourceDevice = UInt64(info.st_dev)
        entry.sourceInode = UInt64(info.st_ino)
        return entry
    }

    /// Opens subdirectory `index` of `directoryFD` without following symlinks and checks
    /// that it is still the directory that was scanned.
    private func openDirectory(_ index: Int, in directoryFD: Int32) throws -> Int32 {
        try DirectoryScanner.openChecked(
            tree.entries[index], in: directoryFD, path: display(index),
            flags: O_RDONLY | O_DIRECTORY)
    }

    private func display(_ index: Int) -> String {
        let inside = tree.path(of: index)
        return inside == "/" ? root : root + inside
    }
}

extension DirectoryScanner {
    /// Opens `entry` in `directoryFD` with `flags` plus no-follow and close-on-exec, and
    /// fails when it is no longer the same inode of the same kind.
    static func openChecked(
        _ entry: SourceEntry, in directoryFD: Int32, path: String, flags: Int32
    ) throws -> Int32 {
        try openAndStat(entry, in: directoryFD, path: path, flags: flags).fd
    }

    /// Opens `entry` like `openChecked` and also returns its `fstat`.
    static func openAndStat(
        _ entry: SourceEntry, in directoryFD: Int32, path: String, flags: Int32
    ) throws -> (fd: Int32, info: stat) {
        let fd = try withCString(entry.name) { cName in
            try SystemCall.retrying("open \(path)") {
                openWithoutAccessTime(directoryFD, cName, flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)
            }
        }
        var info = stat()
        let same =
            fstat(fd, &info) == 0 && UInt64(info.st_dev) == entry.sourceDevice
            && UInt64(info.st_ino) == entry.sourceInode
        guard same else {
            close(fd)
            throw KFCError.failed(path, "changed while the image was being written")
        }
        return (fd, info)
    }

    /// Returns the names in the directory open as `fd`, without `.` and `..`, sorted by
    /// bytes.
    static func names(in fd: Int32, path: String) throws -> [[UInt8]] {
        let copy = try SystemCall.retrying("open \(path)") { dup(fd) }
        guard let stream = fdopendir(copy) else {
            let code = errno
            close(copy)
            throw SystemCall.error("read directory \(path)", errno: code)
        }
        defer { closedir(stream) }
        var names: [[UInt8]] = []
        while true {
            errno = 0
            guard let item = readdir(stream) else {
                if errno != 0 { throw SystemCall.error("read directory \(path)", errno: errno) }
                break
            }
            let name = withUnsafeBytes(of: &item.pointee.d_name) { raw in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [0x2e] || name == [0x2e, 0x2e] { continue }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }
        return names
    }

    /// Returns the target of the symlink `name` in `directoryFD`, as bytes.
    static func linkTarget(_ name: [UInt8], in directoryFD: Int32, path: String) throws
        -> [UInt8]
    {
        var buffer = [UInt8](repeating: 0, count: 4097)
        let count = try withCString(name) { cName in
            try SystemCall.retrying("read symlink \(path)") {
                buffer.withUnsafeMutableBufferPointer { raw in
                    // The buffer has 4097 bytes, so it has a base address.
                    raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count) {
                        readlinkat(directoryFD, cName, $0, raw.count)
                    }
                }
            }
        }
        guard count < 4096 else {
            throw KFCError.invalid(path, "symlink target is longer than 4095 bytes")
        }
        return Array(buffer.prefix(count))
    }
}

extension Timestamp {
    init(_ time: timespec) {
        self.init(seconds: Int64(time.tv_sec), nanoseconds: UInt32(time.tv_nsec))
    }
}

/// Calls `openat` with O_NOATIME, so writing an image leaves the source's access times as
/// they were. It retries without the flag on EPERM, which files of other owners give.
func openWithoutAccessTime(_ directoryFD: Int32, _ name: UnsafePointer<CChar>, _ flags: Int32)
    -> Int32
{
    // O_NOATIME from Linux <fcntl.h>, which Glibc's Swift module hides behind _GNU_SOURCE.
    let noAccessTime: Int32 = 0o1000000
    let fd = openat(directoryFD, name, flags | noAccessTime)
    if fd < 0, errno == EPERM { return openat(directoryFD, name, flags) }
    return fd
}

/// Calls `body` with `bytes` as a NUL-terminated C string.
func withCString<T>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) throws -> T) rethrows
    -> T
{
    try (bytes + [0]).withUnsafeBufferPointer { raw in
        // The buffer contains at least the NUL, so it has a base address, and UInt8 has the
        // size and alignment of CChar.
        try raw.baseAddress!.withMemoryRebound(to: CChar.self, capacity: raw.count, body)
    }
}
