internal import CExt2fs
import Foundation
import KFCCore

/// Writes the inodes, directories, symlinks and xattrs of a tree whose file content is
/// already in the image (`ContentCopier`), after the UUID and checksum seed are set.
struct MetadataWriter {
    let filesystem: Ext4Filesystem
    let tree: SourceTree
    let extents: [[Extent]]
    let dataBlocks: [UInt64]
    /// The source folder or archive of the tree, for messages.
    let root: String
    /// The inode number of each entry; hard links share their first entry's number.
    private var numbers: [UInt32]
    /// Whether the writer adds /lost+found because the tree has none.
    private let addsLostAndFound: Bool
    private var goal: UInt64 = 0

    static let lostAndFoundName = Array("lost+found".utf8)
    private static let lostAndFoundInode: UInt32 = 11

    init(
        filesystem: Ext4Filesystem, tree: SourceTree, extents: [[Extent]],
        dataBlocks: [UInt64], root: String
    ) throws {
        self.filesystem = filesystem
        self.tree = tree
        self.extents = extents
        self.dataBlocks = dataBlocks
        self.root = root
        try MetadataWriter.checkLostAndFound(in: tree, root: root)
        addsLostAndFound = !tree.entries[0].children.contains {
            tree.entries[$0].name == MetadataWriter.lostAndFoundName
        }
        numbers = Array(repeating: 0, count: tree.entries.count)
        try assignNumbers()
    }

    /// Rejects a tree whose /lost+found is not a folder, since e2fsck moves orphaned files
    /// there.
    static func checkLostAndFound(in tree: SourceTree, root: String) throws {
        let existing = tree.entries[0].children.first {
            tree.entries[$0].name == lostAndFoundName
        }
        if let existing, tree.entries[existing].kind != .directory {
            throw KFCError.invalid(
                "\(root)/lost+found", "must be a folder, since e2fsck moves orphaned files there")
        }
    }

    /// Numbers entries in tree order from the first ordinary inode, after lost+found.
    private mutating func assignNumbers() throws {
        numbers[0] = UInt32(EXT2_ROOT_INO)
        var next = filesystem.superblock.pointee.s_first_ino
        if addsLostAndFound { next += 1 }
        for index in 1..<tree.entries.count {
            if let first = tree.entries[index].hardLinkOf {
                numbers[index] = numbers[first]
            } else {
                numbers[index] = next
                next += 1
            }
        }
        guard Int64(next) - 1 <= filesystem.inodeCount else {
            throw KFCError.failed(
                "write \(root)",
                "the image has \(filesystem.inodeCount) inodes but the tree needs \(next - 1)")
        }
    }

    /// Writes every entry, then lost+found when the tree has none.
    mutating func writeAll() throws {
        for index in 0..<tree.entries.count where tree.entries[index].hardLinkOf == nil {
            try write(index)
        }
        if addsLostAndFound { try writeLostAndFound() }
    }

    private mutating func write(_ index: Int) throws {
        let entry = tree.entries[index]
        let what = display(index)
        var inode = filesystem.makeInode(for: entry, links: entry.linkCount)
        switch entry.kind {
        case .regular:
            // Empty files get an empty extent tree too, as mke2fs makes them, so the kernel
            // maps their future blocks by extents rather than block maps.
            inode.i_flags |= UInt32(EXT4_EXTENTS_FL)
            try filesystem.setSize(&inode, entry.size, what: what)
            try filesystem.write(
                &inode, number: numbers[index], extents: extents[index],
                dataBlocks: dataBlocks[index], isDirectory: false, what: what)
        case .directory:
            try writeDirectory(index, inode: &inode)
        case .symlink:
            try writeSymlink(entry, number: numbers[index], inode: &inode, what: what)
        case .characterDevice, .blockDevice:
            MetadataWriter.encodeDevice(&inode, major: entry.deviceMajor, minor: entry.deviceMinor)
            try filesystem.write(
                &inode, number: numbers[index], extents: [], dataBlocks: 0, isDirectory: false,
                what: what)
        case .fifo, .socket:
            try filesystem.write(
                &inode, number: numbers[index], extents: [], dataBlocks: 0, isDirectory: false,
                what: what)
        }
        try filesystem.setAttributes(entry.attributes, number: numbers[index], what: what)
    }

    private mutating func writeDirectory(_ index: Int, inode: inout ext2_inode_large) throws {
        let entry = tree.entries[index]
        let fileTypes = filesystem.features.fileType
        var items = entry.children.map { child in
            DirectoryItem(
                name: tree.entries[child].name, inode: numbers[child],
                fileType: fileTypes ? tree.entries[child].kind.directoryEntryType : 0)
        }
        var subdirectories = entry.children.filter { tree.entries[$0].kind == .directory }.count
        if index == 0, addsLostAndFound {
            let item = DirectoryItem(
                name: MetadataWriter.lostAndFoundName, inode: MetadataWriter.lostAndFoundInode,
                fileType: fileTypes ? EntryKind.directory.directoryEntryType : 0)
            let position = items.firstIndex {
                !$0.name.lexicographicallyPrecedes(MetadataWriter.lostAndFoundName)
            }
            items.insert(item, at: position ?? items.count)
            subdirectories += 1
        }
        let blocks = try directoryBuilder().build(
            items: items, selfInode: numbers[index], parentInode: numbers[entry.parent])
        let links = 2 + subdirectories
        // With dir_nlink, a link count of 1 means more links than the 65,000 ext4 counts.
        if links > 65000 {
            guard filesystem.features.directoryLinks else {
                throw KFCError.invalid(
                    display(index),
                    "has \(subdirectories) subfolders; more than 64,998 need dir_nlink")
            }
            inode.i_links_count = 1
        } else {
            inode.i_links_count = UInt16(links)
        }
        if blocks.count > 1, filesystem.features.directoryIndex {
            inode.i_flags |= UInt32(EXT2_INDEX_FL)
        }
        try writeDirectoryBlocks(
            blocks, number: numbers[index], inode: &inode, what: display(index))
    }

    /// Allocates the directory's blocks, writes its inode and then the blocks, whose
    /// checksums read the inode.
    private mutating func writeDirectoryBlocks(
        _ blocks: [[UInt8]], number: UInt32, inode: inout ext2_inode_large, what: String
    ) throws {
        let runs = try filesystem.allocate(UInt64(blocks.count), from: 0, goal: &goal, for: what)
        try filesystem.setSize(&inode, Int64(blocks.count * Ext4Filesystem.blockSize), what: what)
        try filesystem.write(
            &inode, number: number, extents: runs, dataBlocks: UInt64(blocks.count),
            isDirectory: true, what: what)
        var logical = 0
        for run in runs {
            for offset in 0..<Int(run.length) {
                var block = blocks[logical]
                try filesystem.writeDirectoryBlock(
                    &block, at: run.physical + UInt64(offset), owner: number)
                logical += 1
            }
        }
    }

    private mutating func writeSymlink(
        _ entry: SourceEntry, number: UInt32, inode: inout ext2_inode_large, what: String
    ) throws {
        try filesystem.setSize(&inode, Int64(entry.target.count), what: what)
        // Targets shorter than the 60 bytes of i_block live in the inode ("fast" symlinks).
        if entry.target.count < 60 {
            withUnsafeMutableBytes(of: &inode.i_block) { $0.copyBytes(from: entry.target) }
            try filesystem.write(
                &inode, number: number, extents: [], dataBlocks: 0, isDirectory: false,
                what: what)
            return
        }
        let runs = try filesystem.allocate(1, from: 0, goal: &goal, for: what)
        var block = entry.target
        block += [UInt8](repeating: 0, count: Ext4Filesystem.blockSize - block.count)
        try filesystem.write(
            &inode, number: number, extents: runs, dataBlocks: 1, isDirectory: false, what: what)
        try filesystem.writeBlock(block, at: runs[0].physical, what: what)
    }

    /// Writes /lost+found as mke2fs makes it: mode 0700, owned by root, four blocks so e2fsck
    /// can reconnect files without allocating.
    private mutating func writeLostAndFound() throws {
        let time = Timestamp(seconds: filesystem.epoch, nanoseconds: 0)
        let entry = SourceEntry(
            name: MetadataWriter.lostAndFoundName, parent: 0, kind: .directory, permissions: 0o700,
            uid: 0, gid: 0, accessTime: time, modificationTime: time, changeTime: time)
        var inode = filesystem.makeInode(for: entry, links: 2)
        let builder = directoryBuilder()
        let number = MetadataWriter.lostAndFoundInode
        var blocks = try builder.build(items: [], selfInode: number, parentInode: 2)
        blocks += Array(repeating: builder.emptyBlock(), count: 3)
        try writeDirectoryBlocks(blocks, number: number, inode: &inode, what: "/lost+found")
    }

    private func directoryBuilder() -> DirectoryBlocks {
        let filesystem = self.filesystem
        return DirectoryBlocks(
            blockSize: Ext4Filesystem.blockSize, checksums: filesystem.features.checksums,
            indexed: filesystem.features.directoryIndex, fileTypes: filesystem.features.fileType,
            hashVersion: UInt8(EXT2_HASH_HALF_MD4),
            hash: { try filesystem.directoryHash($0) })
    }

    /// Stores a device number the way the kernel does: the old 16-bit form in i_block[0]
    /// when major and minor fit in a byte each, else the new 32-bit form in i_block[1].
    static func encodeDevice(_ inode: inout ext2_inode_large, major: UInt32, minor: UInt32) {
        withUnsafeMutableBytes(of: &inode.i_block) { raw in
            if major < 256, minor < 256 {
                raw.storeBytes(of: (major << 8 | minor).littleEndian, as: UInt32.self)
            } else {
                let encoded = (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12)
                raw.storeBytes(of: encoded.littleEndian, toByteOffset: 4, as: UInt32.self)
            }
        }
    }

    private func display(_ index: Int) -> String {
        let inside = tree.path(of: index)
        return inside == "/" ? root : root + inside
    }
}
