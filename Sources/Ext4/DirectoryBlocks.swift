import Foundation
import KFCCore

/// One name to put in a directory.
struct DirectoryItem {
    var name: [UInt8]
    var inode: UInt32
    /// The `EXT2_FT_*` byte, or 0 when the file system has no `filetype` feature.
    var fileType: UInt8
}

/// Builds the blocks of a whole directory in memory: one linear block when everything fits,
/// else an htree (a hashed index over leaf blocks), or linear blocks without `dir_index`.
///
/// Checksum tails are laid out but left zero; `ext2fs_write_dir_block4` fills them in.
struct DirectoryBlocks {
    let blockSize: Int
    /// Whether blocks end in a checksum tail (`metadata_csum`).
    let checksums: Bool
    /// Whether a directory of more than one block gets an htree (`dir_index`).
    let indexed: Bool
    /// Whether entries carry a file type byte (`filetype`), `.` and `..` included.
    let fileTypes: Bool
    /// The `dx_root_info` hash version (`EXT2_HASH_*` before the unsigned adjustment).
    let hashVersion: UInt8
    /// The major and minor hash of a name, as the kernel computes them for this image.
    let hash: ([UInt8]) throws -> (major: UInt32, minor: UInt32)

    /// The size of the dirent tail holding a leaf block's checksum.
    private var leafTail: Int { checksums ? 12 : 0 }
    /// The size of the `dx_tail` holding an index block's checksum.
    private var indexTail: Int { checksums ? 8 : 0 }

    /// Builds the blocks of a directory with `items` (sorted by name), in logical order.
    func build(items: [DirectoryItem], selfInode: UInt32, parentInode: UInt32) throws
        -> [[UInt8]]
    {
        let dots = [
            DirectoryItem(name: [0x2e], inode: selfInode, fileType: dirType),
            DirectoryItem(name: [0x2e, 0x2e], inode: parentInode, fileType: dirType),
        ]
        let linear = pack(dots + items)
        if linear.count == 1 || !indexed { return linear.map(leafBlock) }
        return try buildIndex(items: items, selfInode: selfInode, parentInode: parentInode)
    }

    /// Returns an empty directory block (one unused entry spanning it), as lost+found has.
    func emptyBlock() -> [UInt8] {
        leafBlock([])
    }

    private var dirType: UInt8 { fileTypes ? EntryKind.directory.directoryEntryType : 0 }

    static func recordLength(nameLength: Int) -> Int { 8 + ((nameLength + 3) & ~3) }

    /// Splits `items` into groups that each fit in one leaf block.
    private func pack(_ items: [DirectoryItem]) -> [[DirectoryItem]] {
        let usable = blockSize - leafTail
        var blocks: [[DirectoryItem]] = [[]]
        var used = 0
        for item in items {
            let length = DirectoryBlocks.recordLength(nameLength: item.name.count)
            if used + length > usable {
                blocks.append([])
                used = 0
            }
            blocks[blocks.count - 1].append(item)
            used += length
        }
        return blocks
    }

    /// Builds a leaf block with `items`. The last entry's record spans up to the tail.
    private func leafBlock(_ items: [DirectoryItem]) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        let end = blockSize - leafTail
        var offset = 0
        for (position, item) in items.enumerated() {
            let natural = DirectoryBlocks.recordLength(nameLength: item.name.count)
            let length = position == items.count - 1 ? end - offset : natural
            writeEntry(&block, at: offset, item: item, recordLength: length)
            offset += natural
        }
        if items.isEmpty {
            put32(&block, 0, 0)
            put16(&block, 4, UInt16(end))
        }
        if checksums {
            // The tail is a fake dirent: inode 0, record length 12, name length 0, type 0xDE.
            put16(&block, end + 4, 12)
            block[end + 7] = 0xde
        }
        return block
    }

    private func writeEntry(
        _ block: inout [UInt8], at offset: Int, item: DirectoryItem, recordLength: Int
    ) {
        put32(&block, offset, item.inode)
        put16(&block, offset + 4, UInt16(recordLength))
        block[offset + 6] = UInt8(item.name.count)
        block[offset + 7] = item.fileType
        block.replaceSubrange((offset + 8)..<(offset + 8 + item.name.count), with: item.name)
    }
}

extension DirectoryBlocks {
    /// A hashed name waiting for its leaf.
    private struct Hashed {
        var item: DirectoryItem
        var major: UInt32
        var minor: UInt32
    }

    /// Builds an htree: block 0 is the `dx_root`, then the interior nodes when one level of
    /// index is not enough, then the leaves in hash order.
    private func buildIndex(items: [DirectoryItem], selfInode: UInt32, parentInode: UInt32)
        throws -> [[UInt8]]
    {
        var hashed = try items.map { item -> Hashed in
            let (major, minor) = try hash(item.name)
            return Hashed(item: item, major: major, minor: minor)
        }
        hashed.sort {
            ($0.major, $0.minor) != ($1.major, $1.minor)
                ? ($0.major, $0.minor) < ($1.major, $1.minor)
                : $0.item.name.lexicographicallyPrecedes($1.item.name)
        }
        let leaves = packHashed(hashed)
        let rootLimit = (blockSize - 32 - indexTail) / 8
        let nodeLimit = (blockSize - 8 - indexTail) / 8
        if leaves.count <= rootLimit {
            let entries = leaves.enumerated().map { (hash: $1.hash, block: UInt32($0 + 1)) }
            let root = indexRoot(selfInode, parentInode, levels: 0, entries, limit: rootLimit)
            return [root] + leaves.map { leafBlock($0.items) }
        }
        let nodeCount = (leaves.count + nodeLimit - 1) / nodeLimit
        guard nodeCount <= rootLimit else {
            throw KFCError.invalid(
                "directory with \(items.count) entries",
                "needs more than two levels of htree index, which requires large_dir")
        }
        let firstLeaf = 1 + nodeCount
        var nodes: [[UInt8]] = []
        var rootEntries: [(hash: UInt32, block: UInt32)] = []
        for node in 0..<nodeCount {
            let range = (node * nodeLimit)..<min(leaves.count, (node + 1) * nodeLimit)
            let entries = range.map { (hash: leaves[$0].hash, block: UInt32(firstLeaf + $0)) }
            nodes.append(indexNode(entries, limit: nodeLimit))
            rootEntries.append((hash: leaves[range.lowerBound].hash, block: UInt32(1 + node)))
        }
        let root = indexRoot(selfInode, parentInode, levels: 1, rootEntries, limit: rootLimit)
        return [root] + nodes + leaves.map { leafBlock($0.items) }
    }

    /// Packs hashed names into leaves. A leaf whose first hash continues the previous leaf's
    /// last hash gets the low bit set, which is how the kernel marks a collision chain.
    private func packHashed(_ hashed: [Hashed]) -> [(hash: UInt32, items: [DirectoryItem])] {
        let usable = blockSize - leafTail
        var leaves: [(hash: UInt32, items: [DirectoryItem])] = []
        var used = usable + 1
        var previousHash: UInt32?
        for entry in hashed {
            let length = DirectoryBlocks.recordLength(nameLength: entry.item.name.count)
            if used + length > usable {
                let continues = previousHash == entry.major
                leaves.append((hash: continues ? entry.major | 1 : entry.major, items: []))
                used = 0
            }
            leaves[leaves.count - 1].items.append(entry.item)
            used += length
            previousHash = entry.major
        }
        return leaves
    }

    private func indexRoot(
        _ selfInode: UInt32, _ parentInode: UInt32, levels: UInt8,
        _ entries: [(hash: UInt32, block: UInt32)], limit: Int
    ) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        writeEntry(
            &block, at: 0, item: DirectoryItem(name: [0x2e], inode: selfInode, fileType: dirType),
            recordLength: 12)
        let dotDot = DirectoryItem(name: [0x2e, 0x2e], inode: parentInode, fileType: dirType)
        writeEntry(&block, at: 12, item: dotDot, recordLength: blockSize - 12)
        // dx_root_info: reserved (4 bytes), hash version, info length 8, indirect levels.
        block[28] = hashVersion
        block[29] = 8
        block[30] = levels
        writeIndexEntries(&block, at: 32, entries, limit: limit)
        return block
    }

    private func indexNode(_ entries: [(hash: UInt32, block: UInt32)], limit: Int) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: blockSize)
        // An interior node starts with an empty dirent spanning the block.
        put16(&block, 4, UInt16(blockSize))
        writeIndexEntries(&block, at: 8, entries, limit: limit)
        return block
    }

    /// Writes the count/limit header over entry 0's hash, then the entries.
    private func writeIndexEntries(
        _ block: inout [UInt8], at offset: Int, _ entries: [(hash: UInt32, block: UInt32)],
        limit: Int
    ) {
        put16(&block, offset, UInt16(limit))
        put16(&block, offset + 2, UInt16(entries.count))
        for (position, entry) in entries.enumerated() {
            let base = offset + position * 8
            if position > 0 { put32(&block, base, entry.hash) }
            put32(&block, base + 4, entry.block)
        }
    }
}

/// Stores `value` little-endian at `offset`.
func put16(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt16) {
    bytes[offset] = UInt8(value & 0xff)
    bytes[offset + 1] = UInt8(value >> 8)
}

/// Stores `value` little-endian at `offset`.
func put32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
    for index in 0..<4 { bytes[offset + index] = UInt8((value >> (8 * index)) & 0xff) }
}
