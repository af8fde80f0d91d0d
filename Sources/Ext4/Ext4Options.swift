import Foundation
import KFCCore

/// The size rule for an image.
public enum ImageSize: Sendable, Equatable {
    /// Computed from the tree (apparent file sizes, hard links counted once, directory
    /// blocks, file system metadata and journal), plus `headroomPercent` of the used blocks
    /// and inodes free.
    case auto(headroomPercent: Int)
    /// Exactly this many bytes, rounded down to whole 4 KiB blocks.
    case fixed(Int64)
}

/// The choices a caller makes about an image; everything else is fixed (4 KiB blocks,
/// 256-byte inodes, no reserved blocks).
public struct Ext4Options: Sendable {
    /// The image size; the default is `.auto(headroomPercent: 20)`.
    public var size: ImageSize
    /// The volume label, at most 16 bytes of UTF-8.
    public var label: String?
    /// The file system UUID; nil derives it from a digest of the tree's names, metadata
    /// and content, so the same tree gets the same UUID.
    public var uuid: UUID?
    /// Seconds since 1970 that every time field is taken from: the superblock and journal
    /// times are set to it and newer file times are clamped to it. Must be at least 1,
    /// because libext2fs reads its clock value 0 as "use the wall clock".
    public var epoch: Int64
    /// The feature names (mke2fs spelling) to enable; nil means `defaultFeatures`.
    public var features: [String]?

    /// The features of an image when `features` is nil.
    ///
    /// `ext_attr`, `large_file` and `dir_nlink` are there because e2fsck requires them once
    /// a tree has xattrs, a file of 2 GiB or more, or a directory with 65,000 subdirectories.
    public static let defaultFeatures = [
        "has_journal", "ext_attr", "dir_index", "filetype", "extent", "flex_bg",
        "sparse_super", "large_file", "huge_file", "dir_nlink", "extra_isize", "64bit",
        "metadata_csum",
    ]

    /// The epoch used when a caller gives none: 1970-01-01T00:00:01Z, the earliest time
    /// that libext2fs does not replace by the wall clock.
    public static let defaultEpoch: Int64 = 1

    /// Creates options; every argument has the default described on its property.
    public init(
        size: ImageSize = .auto(headroomPercent: 20), label: String? = nil, uuid: UUID? = nil,
        epoch: Int64 = Ext4Options.defaultEpoch, features: [String]? = nil
    ) {
        self.size = size
        self.label = label
        self.uuid = uuid
        self.epoch = epoch
        self.features = features
    }
}

/// The figures of a written image.
public struct Ext4Summary: Sendable {
    /// The image size in bytes (its apparent size; the file is sparse).
    public var bytes: Int64
    /// The number of 4 KiB blocks in the file system.
    public var blockCount: Int64
    /// The number of inodes in the file system, used and free.
    public var inodeCount: Int64
    /// The file system UUID.
    public var uuid: UUID
    /// The number of entries written below the root, of every kind.
    public var files: Int
}

/// Checks options before anything is written.
enum OptionCheck {
    /// Returns the label as the superblock stores it, or throws an error naming the limit.
    static func labelBytes(_ label: String?) throws -> [UInt8] {
        guard let label else { return [] }
        let bytes = Array(label.utf8)
        guard bytes.count <= 16 else {
            throw KFCError.invalid(
                "label '\(label)'", "is \(bytes.count) bytes long; ext4 allows at most 16")
        }
        return bytes
    }

    /// Rejects an epoch that libext2fs would misread or the inode format cannot hold.
    static func epoch(_ epoch: Int64) throws {
        // ext4 stores 34-bit seconds: 32 bits plus 2 epoch bits in the extra field.
        guard epoch >= 1, epoch < (Int64(1) << 34) else {
            throw KFCError.invalid(
                "epoch \(epoch)", "must be between 1 and \((Int64(1) << 34) - 1) seconds")
        }
    }
}
