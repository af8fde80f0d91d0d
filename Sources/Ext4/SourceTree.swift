import Foundation

/// The kind of one entry of a tree, as ext4 stores it in an inode's mode.
enum EntryKind: UInt8, Sendable {
    case regular, directory, symlink, characterDevice, blockDevice, fifo, socket

    /// The file type bits of `st_mode`, which are the same in Linux and ext4.
    var modeBits: UInt16 {
        switch self {
        case .regular: 0o100000
        case .directory: 0o040000
        case .symlink: 0o120000
        case .characterDevice: 0o020000
        case .blockDevice: 0o060000
        case .fifo: 0o010000
        case .socket: 0o140000
        }
    }

    /// The file type byte of a directory entry (`EXT2_FT_*`).
    var directoryEntryType: UInt8 {
        switch self {
        case .regular: 1
        case .directory: 2
        case .characterDevice: 3
        case .blockDevice: 4
        case .fifo: 5
        case .socket: 6
        case .symlink: 7
        }
    }

    /// The kind for the file type bits of `mode`, or nil for bits Linux does not define.
    init?(mode: UInt32) {
        switch mode & 0o170000 {
        case 0o100000: self = .regular
        case 0o040000: self = .directory
        case 0o120000: self = .symlink
        case 0o020000: self = .characterDevice
        case 0o060000: self = .blockDevice
        case 0o010000: self = .fifo
        case 0o140000: self = .socket
        default: return nil
        }
    }
}

/// A point in time with nanoseconds, as in `struct timespec`.
struct Timestamp: Equatable, Sendable {
    var seconds: Int64
    var nanoseconds: UInt32

    /// Returns this time, or `epoch` when this time is later.
    func clamped(to epoch: Int64) -> Timestamp {
        seconds >= epoch ? Timestamp(seconds: epoch, nanoseconds: 0) : self
    }
}

/// One extended attribute: its full name (`user.x`, `security.capability`) and value.
struct ExtendedAttribute: Equatable, Sendable {
    var name: [UInt8]
    var value: [UInt8]
}

/// One entry of the tree to write, with everything the image records about it.
struct SourceEntry {
    /// The name in its parent directory, as bytes (any byte but `/` and NUL).
    var name: [UInt8]
    /// The index of the parent directory; the root is its own parent.
    var parent: Int
    var kind: EntryKind
    /// The permission bits, setuid, setgid and sticky included (`mode & 0o7777`).
    var permissions: UInt16
    var uid: UInt32
    var gid: UInt32
    /// The apparent size in bytes for regular files, the target length for symlinks.
    var size: Int64 = 0
    var deviceMajor: UInt32 = 0
    var deviceMinor: UInt32 = 0
    var accessTime: Timestamp
    var modificationTime: Timestamp
    var changeTime: Timestamp
    /// Extended attributes sorted by name.
    var attributes: [ExtendedAttribute] = []
    /// The symlink target as bytes.
    var target: [UInt8] = []
    /// For a hard link after the first: the index of the first entry of its group.
    var hardLinkOf: Int?
    /// For directories: the indices of the children, sorted by name bytes.
    var children: [Int] = []
    /// For the first entry of a hard-link group: the number of entries in the group.
    var linkCount: Int = 1
    /// The source's device and inode numbers, checked again when the content is read.
    var sourceDevice: UInt64 = 0
    var sourceInode: UInt64 = 0
}

/// A tree to write: entries in an order where each directory's children are contiguous
/// and sorted by name bytes, the root at index 0.
struct SourceTree {
    var entries: [SourceEntry] = []

    /// Returns the path of entry `index` from the root, for messages (`/` for the root).
    func path(of index: Int) -> String {
        var parts: [[UInt8]] = []
        var current = index
        while current != 0 {
            parts.append(entries[current].name)
            current = entries[current].parent
        }
        let bytes = parts.reversed().flatMap { [UInt8(ascii: "/")] + $0 }
        return bytes.isEmpty ? "/" : String(decoding: bytes, as: UTF8.self)
    }

    /// The number of entries below the root.
    var count: Int { entries.count - 1 }

    /// The sum of the apparent sizes of regular files, hard links counted once.
    var contentBytes: Int64 {
        entries.reduce(0) { total, entry in
            entry.kind == .regular && entry.hardLinkOf == nil ? total + entry.size : total
        }
    }
}
