import Foundation

/// One inode of an ext4 image as `Ext4Image` reports it.
public struct Ext4Entry: Sendable, Equatable {
    /// The kind of file, from the inode's mode.
    public enum Kind: Sendable, Equatable {
        case regular, directory, symlink, characterDevice, blockDevice, fifo, socket
    }

    /// The name in its folder as stored (any bytes but `/` and NUL); empty for the root.
    public var nameBytes: [UInt8]
    /// The inode number.
    public var inode: UInt32
    public var kind: Kind
    /// The permission bits with setuid, setgid and sticky (`mode & 0o7777`).
    public var permissions: UInt16
    public var uid: UInt32
    public var gid: UInt32
    /// The size in bytes (for a symlink, the target's length).
    public var size: Int64
    /// The bytes of blocks allocated to the inode (`i_blocks` in bytes), xattr block
    /// included; smaller than `size` for a sparse file.
    public var allocatedBytes: Int64
    public var linkCount: Int
    /// Seconds since 1970 and nanoseconds of the last modification.
    public var modificationTime: Int64
    public var modificationNanoseconds: UInt32
    /// Seconds since 1970 and nanoseconds of the last access.
    public var accessTime: Int64
    public var accessNanoseconds: UInt32
    /// Seconds since 1970 of the last inode change.
    public var changeTime: Int64
    /// Major and minor device numbers of a device node; 0 otherwise.
    public var deviceMajor: UInt32
    public var deviceMinor: UInt32
    /// The inode flags (`i_flags`), such as `EXT4_EXTENTS_FL` (0x80000).
    public var flags: UInt32

    /// The name as text, bytes that are not UTF-8 replaced by U+FFFD.
    public var name: String { String(decoding: nameBytes, as: UTF8.self) }
}
