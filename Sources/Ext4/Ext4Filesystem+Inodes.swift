internal import CExt2fs
import Foundation
import KFCCore

/// A run of blocks of one file: `length` blocks from logical block `logical` stored from
/// physical block `physical`.
struct Extent: Equatable {
    var logical: UInt32
    var physical: UInt64
    var length: UInt32

    /// The maximum length of one initialized ext4 extent, in blocks.
    static let maximumLength: UInt64 = 32768
}

extension Ext4Filesystem {
    /// Allocates `count` blocks for logical blocks from `logical` on, near `goal`, in runs
    /// that each fit one extent; `goal` moves past the last run.
    func allocate(_ count: UInt64, from logical: UInt64, goal: inout UInt64, for what: String)
        throws -> [Extent]
    {
        var runs: [Extent] = []
        var done: UInt64 = 0
        while done < count {
            let wanted = min(count - done, Extent.maximumLength)
            var start: blk64_t = 0
            var length: blk64_t = 0
            try Ext2fsCall.check(
                ext2fs_new_range(handle, 0, goal, wanted, nil, &start, &length),
                "allocate \(wanted) blocks for \(what)")
            ext2fs_block_alloc_stats_range(handle, start, blk_t(length), 1)
            runs.append(
                Extent(logical: UInt32(logical + done), physical: start, length: UInt32(length)))
            done += length
            goal = start + length
        }
        return runs
    }

    /// Returns a new inode for `entry` with `links` links: mode, owner, times clamped to
    /// the epoch and 256-byte inode extras. Blocks, size and flags are left to the caller.
    func makeInode(for entry: SourceEntry, links: Int) -> ext2_inode_large {
        var inode = ext2_inode_large()
        inode.i_mode = entry.kind.modeBits | entry.permissions
        inode.i_uid = UInt16(truncatingIfNeeded: entry.uid)
        inode.osd2.linux2.l_i_uid_high = UInt16(truncatingIfNeeded: entry.uid >> 16)
        inode.i_gid = UInt16(truncatingIfNeeded: entry.gid)
        inode.osd2.linux2.l_i_gid_high = UInt16(truncatingIfNeeded: entry.gid >> 16)
        inode.i_links_count = UInt16(clamping: links)
        inode.i_extra_isize = UInt16(MemoryLayout<ext2_inode_large>.size - 128)
        let access = Ext4Filesystem.encode(entry.accessTime.clamped(to: epoch))
        let modification = Ext4Filesystem.encode(entry.modificationTime.clamped(to: epoch))
        let change = Ext4Filesystem.encode(entry.changeTime.clamped(to: epoch))
        (inode.i_atime, inode.i_atime_extra) = access
        (inode.i_mtime, inode.i_mtime_extra) = modification
        (inode.i_ctime, inode.i_ctime_extra) = change
        // The source's birth time is not portable, so creation is the clamped change time.
        (inode.i_crtime, inode.i_crtime_extra) = change
        return inode
    }

    /// Encodes `time` as the low 32 bits of the seconds and the extra field (nanoseconds
    /// shifted left by 2, then 2 bits that extend the seconds past 2038).
    static func encode(_ time: Timestamp) -> (UInt32, UInt32) {
        let seconds = max(time.seconds, Int64(Int32.min))
        let low = Int32(truncatingIfNeeded: seconds)
        let epochBits = UInt32(truncatingIfNeeded: (seconds - Int64(low)) >> 32) & 3
        return (UInt32(bitPattern: low), (time.nanoseconds << 2) | epochBits)
    }

    /// Writes `inode` as inode `number` with its data mapped by `extents` (`dataBlocks`
    /// blocks in all) and marks the inode used.
    func write(
        _ inode: inout ext2_inode_large, number: UInt32, extents: [Extent], dataBlocks: UInt64,
        isDirectory: Bool, what: String
    ) throws {
        ext2fs_inode_alloc_stats2(handle, number, 1, isDirectory ? 1 : 0)
        if !extents.isEmpty || inode.i_flags & UInt32(EXT4_EXTENTS_FL) != 0 {
            inode.i_flags |= UInt32(EXT4_EXTENTS_FL)
            Ext4Filesystem.setInlineExtents(&inode, extents.count <= 4 ? extents : [])
        }
        try withSmallInode(&inode) { small in
            try Ext2fsCall.check(
                ext2fs_iblk_set(handle, small, dataBlocks), "count blocks of \(what)")
        }
        try writeInode(&inode, number: number, what: what)
        if extents.count > 4 { try insertExtents(extents, number: number, what: what) }
    }

    func writeInode(_ inode: inout ext2_inode_large, number: UInt32, what: String) throws {
        try withSmallInode(&inode) { small in
            try Ext2fsCall.check(
                ext2fs_write_inode_full(
                    handle, number, small, Int32(MemoryLayout<ext2_inode_large>.size)),
                "write inode \(number) of \(what)")
        }
    }

    /// Sets the 64-bit size of `inode`.
    func setSize(_ inode: inout ext2_inode_large, _ size: Int64, what: String) throws {
        try withSmallInode(&inode) { small in
            try Ext2fsCall.check(
                ext2fs_inode_size_set(handle, small, size), "set the size of \(what)")
        }
    }

    private func withSmallInode<T>(
        _ inode: inout ext2_inode_large, _ body: (UnsafeMutablePointer<ext2_inode>) throws -> T
    ) rethrows -> T {
        // ext2_inode_large begins with the fields of ext2_inode, and libext2fs takes the
        // large form through the small pointer type with its size passed beside it.
        try withUnsafeMutablePointer(to: &inode) { large in
            try large.withMemoryRebound(to: ext2_inode.self, capacity: 1, body)
        }
    }

    /// Puts an extent header and up to four extents in `i_block`.
    static func setInlineExtents(_ inode: inout ext2_inode_large, _ extents: [Extent]) {
        withUnsafeMutableBytes(of: &inode.i_block) { raw in
            raw.initializeMemory(as: UInt8.self, repeating: 0)
            raw.storeBytes(of: UInt16(0xf30a).littleEndian, toByteOffset: 0, as: UInt16.self)
            raw.storeBytes(
                of: UInt16(extents.count).littleEndian, toByteOffset: 2, as: UInt16.self)
            raw.storeBytes(of: UInt16(4).littleEndian, toByteOffset: 4, as: UInt16.self)
            for (index, extent) in extents.enumerated() {
                let base = 12 + index * 12
                raw.storeBytes(of: extent.logical.littleEndian, toByteOffset: base, as: UInt32.self)
                raw.storeBytes(
                    of: UInt16(extent.length).littleEndian, toByteOffset: base + 4,
                    as: UInt16.self)
                raw.storeBytes(
                    of: UInt16(truncatingIfNeeded: extent.physical >> 32).littleEndian,
                    toByteOffset: base + 6, as: UInt16.self)
                raw.storeBytes(
                    of: UInt32(truncatingIfNeeded: extent.physical).littleEndian,
                    toByteOffset: base + 8, as: UInt32.self)
            }
        }
    }

    /// Builds an extent tree with index blocks for more than four extents through the
    /// libext2fs extent handle, which updates the inode's block count and writes it.
    private func insertExtents(_ extents: [Extent], number: UInt32, what: String) throws {
        var extentHandle: ext2_extent_handle_t?
        try Ext2fsCall.check(
            ext2fs_extent_open2(handle, number, nil, &extentHandle), "map blocks of \(what)")
        defer { ext2fs_extent_free(extentHandle) }
        for (index, extent) in extents.enumerated() {
            var item = ext2fs_extent(
                e_pblk: extent.physical, e_lblk: blk64_t(extent.logical), e_len: extent.length,
                e_flags: 0)
            let flags = index == 0 ? 0 : Int32(EXT2_EXTENT_INSERT_AFTER)
            try Ext2fsCall.check(
                ext2fs_extent_insert(extentHandle, flags, &item),
                "map block \(extent.logical) of \(what)")
        }
        try Ext2fsCall.check(ext2fs_extent_fix_parents(extentHandle), "map blocks of \(what)")
    }

    /// Writes `attributes` to inode `number` through the libext2fs xattr handle, which
    /// converts POSIX ACLs from the Linux xattr form to the ext4 on-disk form.
    func setAttributes(_ attributes: [ExtendedAttribute], number: UInt32, what: String) throws {
        guard !attributes.isEmpty else { return }
        guard features.extendedAttributes else {
            throw KFCError.invalid(what, "has extended attributes but ext_attr is not enabled")
        }
        var xattrs: OpaquePointer?
        try Ext2fsCall.check(ext2fs_xattrs_open(handle, number, &xattrs), "open xattrs of \(what)")
        defer { ext2fs_xattrs_close(&xattrs) }
        try Ext2fsCall.check(ext2fs_xattrs_read(xattrs), "read xattrs of \(what)")
        for attribute in attributes {
            let name = String(decoding: attribute.name, as: UTF8.self)
            try withCString(attribute.name) { cName in
                try attribute.value.withUnsafeBytes { raw in
                    try Ext2fsCall.check(
                        ext2fs_xattr_set(xattrs, cName, raw.baseAddress, raw.count),
                        "set xattr \(name) of \(what)")
                }
            }
        }
        try Ext2fsCall.check(ext2fs_xattrs_write(xattrs), "write xattrs of \(what)")
    }

    /// The major and minor htree hash of `name` under this image's seed and version.
    func directoryHash(_ name: [UInt8]) throws -> (major: UInt32, minor: UInt32) {
        var major: ext2_dirhash_t = 0
        var minor: ext2_dirhash_t = 0
        let sb = superblock
        let code = withUnsafeBytes(of: &sb.pointee.s_hash_seed) { seed in
            name.withUnsafeBufferPointer { bytes in
                // Directory entry names are never empty, so the buffer has a base address.
                bytes.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                    ext2fs_dirhash2(
                        Int32(EXT2_HASH_HALF_MD4_UNSIGNED), $0, Int32(bytes.count), nil, 0,
                        seed.baseAddress?.assumingMemoryBound(to: UInt32.self), &major, &minor)
                }
            }
        }
        try Ext2fsCall.check(code, "hash the name '\(String(decoding: name, as: UTF8.self))'")
        return (major, minor)
    }

    /// Writes directory block `buffer` to physical block `block`, filling its checksum.
    func writeDirectoryBlock(_ buffer: inout [UInt8], at block: UInt64, owner: UInt32) throws {
        try buffer.withUnsafeMutableBytes { raw in
            try Ext2fsCall.check(
                ext2fs_write_dir_block4(handle, block, raw.baseAddress, 0, owner),
                "write directory block \(block) of inode \(owner)")
        }
    }

    /// Writes one block of data through libext2fs's I/O channel.
    func writeBlock(_ buffer: [UInt8], at block: UInt64, what: String) throws {
        try buffer.withUnsafeBytes { raw in
            try Ext2fsCall.check(
                io_channel_write_blk64(handle.pointee.io, block, 1, raw.baseAddress),
                "write block \(block) of \(what)")
        }
    }
}
