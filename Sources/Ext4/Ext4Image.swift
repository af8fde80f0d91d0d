internal import CExt2fs
import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// An ext4 image opened read-only through libext2fs, to list folders and read files.
///
/// Paths are absolute inside the image. Symlinks in the middle of a path are followed
/// inside the image, and an absolute target starts at the image's root. `stat` and
/// `readlink` do not follow the last component, but `list` and `read` do.
public final class Ext4Image {
    /// The image file, for messages.
    public let path: String
    let handle: ext2_filsys

    /// Opens the image at `path` without writing to it.
    public init(path: String) throws {
        guard FileSystem.exists(path) else { throw KFCError.notFound(path, "image not found") }
        var opened: ext2_filsys?
        try Ext2fsCall.check(
            ext2fs_open2(path, nil, EXT2_FLAG_64BITS, 0, 0, kfc_unix_io_manager(), &opened),
            "open the ext4 image \(path)")
        guard let opened else { throw KFCError(.bug, "open \(path)", "no handle returned") }
        handle = opened
        self.path = path
    }

    deinit {
        var closing: ext2_filsys? = handle
        ext2fs_close_free(&closing)
    }

    /// The names of the features that are on, in mke2fs spelling.
    public var features: [String] { Ext4Features(superblock: kfc_superblock(handle)).names }
    /// The file system UUID.
    public var uuid: UUID {
        UUID(uuid: kfc_superblock(handle).pointee.s_uuid)
    }
    /// The volume label.
    public var label: String {
        let bytes = withUnsafeBytes(of: kfc_superblock(handle).pointee.s_volume_name) {
            Array($0.prefix { $0 != 0 })
        }
        return String(decoding: bytes, as: UTF8.self)
    }
    /// The number of blocks and their size in bytes.
    public var blockCount: Int64 { Int64(kfc_blocks_count(handle)) }
    public var blockSize: Int { Int(handle.pointee.blocksize) }
    /// The number of inodes, used and free.
    public var inodeCount: Int64 { Int64(kfc_superblock(handle).pointee.s_inodes_count) }
    /// The free blocks and inodes the superblock records.
    public var freeBlocks: Int64 { Int64(kfc_free_blocks_count(handle)) }
    public var freeInodes: Int64 { Int64(kfc_superblock(handle).pointee.s_free_inodes_count) }

    /// Returns the entry at `path`, not following a final symlink.
    public func stat(_ path: String) throws -> Ext4Entry { try stat(Array(path.utf8)) }

    /// Returns the entry at the byte path `path`, not following a final symlink.
    public func stat(_ path: [UInt8]) throws -> Ext4Entry {
        let number = try lookUp(path, follow: false)
        let name = path.split(separator: UInt8(ascii: "/")).last.map(Array.init) ?? []
        return try entry(number, name: name, path: path)
    }

    /// Returns the entries of the folder at `path` (without `.` and `..`), sorted by name
    /// bytes.
    public func list(_ path: String) throws -> [Ext4Entry] { try list(Array(path.utf8)) }

    /// Returns the entries of the folder at the byte path `path`, sorted by name bytes.
    public func list(_ path: [UInt8]) throws -> [Ext4Entry] {
        let number = try lookUp(path, follow: true)
        let names = try directoryEntries(number, path: path)
        return try names.map { name, child in
            try entry(child, name: name, path: path + [UInt8(ascii: "/")] + name)
        }.sorted { $0.nameBytes.lexicographicallyPrecedes($1.nameBytes) }
    }

    /// Returns the target of the symlink at `path`.
    public func readlink(_ path: String) throws -> [UInt8] { try readlink(Array(path.utf8)) }

    /// Returns the target of the symlink at the byte path `path`.
    public func readlink(_ path: [UInt8]) throws -> [UInt8] {
        let number = try lookUp(path, follow: false)
        var inode = try readInode(number, path: path)
        guard inode.i_mode & 0o170000 == 0o120000 else {
            throw KFCError.invalid(display(path), "is not a symlink")
        }
        let size = Int(inode.i_size)
        let fast = withSmall(&inode) { ext2fs_is_fast_symlink($0) } != 0
        if fast {
            return withUnsafeBytes(of: inode.i_block) { Array($0.prefix(size)) }
        }
        return Array(try read(number, offset: 0, length: size, path: path))
    }

    /// Reads the whole content of the file at `path`, following symlinks inside the image.
    public func read(_ path: String) throws -> Data {
        var data = Data()
        try read(path) { data.append($0) }
        return data
    }

    /// Passes the content of the file at `path` to `body` in pieces of up to 1 MiB.
    public func read(_ path: String, _ body: (Data) throws -> Void) throws {
        let bytes = Array(path.utf8)
        let number = try lookUp(bytes, follow: true)
        let found = try entry(number, name: [], path: bytes)
        guard found.kind == .regular else {
            throw KFCError.invalid(display(bytes), "is not a regular file")
        }
        let size = found.size
        var offset: Int64 = 0
        while offset < size {
            let length = Int(min(Int64(1 << 20), size - offset))
            try body(try read(number, offset: offset, length: length, path: bytes))
            offset += Int64(length)
        }
    }

    /// `length` bytes of the file at `path` from `offset` (fewer at its end).
    public func read(_ path: String, offset: Int64, length: Int) throws -> Data {
        let bytes = Array(path.utf8)
        let number = try lookUp(bytes, follow: true)
        guard try entry(number, name: [], path: bytes).kind == .regular else {
            throw KFCError.invalid(display(bytes), "is not a regular file")
        }
        return try read(number, offset: offset, length: length, path: bytes)
    }

    /// Returns the extended attributes of the entry at `path`, with POSIX ACLs in the Linux
    /// xattr form.
    public func attributes(_ path: String) throws -> [(name: String, value: [UInt8])] {
        try attributes(Array(path.utf8))
    }

    func display(_ path: [UInt8]) -> String {
        "\(self.path):\(String(decoding: path, as: UTF8.self))"
    }
}
