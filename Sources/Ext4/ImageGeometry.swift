import Foundation
import KFCCore

/// The blocks and inodes a tree needs in an image, before any file system metadata.
struct SpaceEstimate {
    /// Blocks for file data (apparent sizes), directories, slow symlinks, xattr blocks,
    /// extent index blocks and lost+found.
    var blocks: Int64 = 4
    /// Inodes for the tree plus the reserved ones below the first ordinary inode.
    var inodes: Int64 = 12

    private static let blockSize = Int64(Ext4Filesystem.blockSize)

    init(tree: SourceTree) {
        for entry in tree.entries where entry.hardLinkOf == nil {
            inodes += 1
            blocks += SpaceEstimate.blocks(for: entry, in: tree)
            if SpaceEstimate.attributesNeedBlock(entry.attributes) { blocks += 1 }
        }
    }

    private static func blocks(for entry: SourceEntry, in tree: SourceTree) -> Int64 {
        switch entry.kind {
        case .regular:
            let data = (entry.size + blockSize - 1) / blockSize
            let extents = (data + Int64(Extent.maximumLength) - 1) / Int64(Extent.maximumLength)
            // Past four extents the tree needs leaf blocks of 340 extents each.
            return data + (extents > 4 ? (extents + 339) / 340 + 1 : 0)
        case .directory:
            let names = entry.children.map { tree.entries[$0].name.count } + [10]
            return directoryBlocks(nameLengths: names)
        case .symlink:
            return entry.target.count < 60 ? 0 : 1
        default:
            return 0
        }
    }

    /// Blocks for a directory with names of these lengths: leaves packed to at least 90%
    /// when there is more than one, plus the htree root and interior nodes.
    static func directoryBlocks(nameLengths: [Int]) -> Int64 {
        let usable = blockSize - 12
        let bytes = nameLengths.reduce(24) {
            $0 + Int64(DirectoryBlocks.recordLength(nameLength: $1))
        }
        if bytes <= usable { return 1 }
        let leaves = (bytes * 10 + usable * 9 - 1) / (usable * 9) + 1
        let nodes = leaves > 507 ? (leaves + 509) / 510 : 0
        return leaves + 1 + nodes
    }

    /// Returns whether xattrs overflow the 92 bytes left in a 256-byte inode after its fields.
    static func attributesNeedBlock(_ attributes: [ExtendedAttribute]) -> Bool {
        guard !attributes.isEmpty else { return false }
        let bytes = attributes.reduce(4) { total, attribute in
            total + 16 + ((attribute.name.count + 3) & ~3) + ((attribute.value.count + 3) & ~3)
        }
        return bytes > 92
    }
}

/// Chooses the block and inode counts of an image and lays out its file system.
enum ImageGeometry {
    /// The smallest automatic image: 8 MiB, the least libext2fs gives a journal.
    static let minimumBlocks: Int64 = 2048
    /// Free inodes an automatic image keeps at least, for files created at run time.
    static let minimumFreeInodes: Int64 = 4096
    /// Bytes per inode for fixed-size images, as mke2fs's ext4 default.
    static let bytesPerInode: Int64 = 16384

    /// Creates the file system in `path` for `estimate` with `size`. A fixed size that is
    /// too small fails before anything is written, and the error names the size needed.
    static func create(
        path: String, estimate: SpaceEstimate, size: ImageSize, features: Ext4Features,
        epoch: Int64
    ) throws -> Ext4Filesystem {
        switch size {
        case .auto(let headroom):
            guard headroom >= 0, headroom <= 1000 else {
                throw KFCError.invalid("headroom \(headroom)%", "must be between 0 and 1000")
            }
            return try automatic(
                path, estimate, headroom, features, epoch, freeInodes: minimumFreeInodes)
        case .fixed(let bytes):
            return try fixed(path, estimate, bytes, features, epoch)
        }
    }

    private static func automatic(
        _ path: String, _ estimate: SpaceEstimate, _ headroom: Int, _ features: Ext4Features,
        _ epoch: Int64, freeInodes: Int64
    ) throws -> Ext4Filesystem {
        let wanted = estimate.blocks + estimate.blocks * Int64(headroom) / 100
        let inodes = max(
            estimate.inodes + estimate.inodes * Int64(headroom) / 100,
            estimate.inodes + freeInodes)
        let tables = inodes * 256 / Int64(Ext4Filesystem.blockSize)
        var blocks = max(minimumBlocks, wanted + tables + wanted / 64 + 64)
        // Counting the journal in the first guess usually saves a second layout.
        blocks += Ext4Filesystem.journalBlocks(for: blocks, features: features)
        for _ in 0..<16 {
            let filesystem = try Ext4Filesystem(
                path: path, blocks: blocks, inodes: inodes, features: features, epoch: epoch)
            let available = filesystem.freeBlocks - filesystem.journalBlocks
            if available >= wanted { return filesystem }
            blocks += wanted - available + 16
        }
        throw KFCError(.bug, "size the image for \(path)", "the block count did not settle")
    }

    private static func fixed(
        _ path: String, _ estimate: SpaceEstimate, _ bytes: Int64, _ features: Ext4Features,
        _ epoch: Int64
    ) throws -> Ext4Filesystem {
        let blocks = bytes / Int64(Ext4Filesystem.blockSize)
        guard blocks >= minimumBlocks else {
            let needed = try neededBytes(path, estimate, features, epoch)
            throw tooSmall(bytes, needed: needed)
        }
        let inodes = max(estimate.inodes + 16, bytes / bytesPerInode)
        let filesystem = try Ext4Filesystem(
            path: path, blocks: blocks, inodes: min(inodes, blocks), features: features,
            epoch: epoch)
        let available = filesystem.freeBlocks - filesystem.journalBlocks
        guard available >= estimate.blocks, filesystem.inodeCount >= estimate.inodes else {
            throw tooSmall(bytes, needed: try neededBytes(path, estimate, features, epoch))
        }
        return filesystem
    }

    /// Returns the size of an automatic image without headroom, for the message of a fixed
    /// size that is too small.
    private static func neededBytes(
        _ path: String, _ estimate: SpaceEstimate, _ features: Ext4Features, _ epoch: Int64
    ) throws -> Int64 {
        let filesystem = try automatic(path, estimate, 0, features, epoch, freeInodes: 16)
        return filesystem.blockCount * Int64(Ext4Filesystem.blockSize)
    }

    private static func tooSmall(_ bytes: Int64, needed: Int64) -> KFCError {
        KFCError.invalid(
            "image size \(ByteSize.format(bytes))",
            "too small: the tree needs at least \(ByteSize.format(needed)) (\(needed) bytes)")
    }
}
