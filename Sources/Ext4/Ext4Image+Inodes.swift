internal import CExt2fs
import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

extension Ext4Image {
    /// Looks up the inode number of `path`, following a final symlink when `follow` is true.
    func lookUp(_ path: [UInt8], follow: Bool) throws -> UInt32 {
        guard path.first == UInt8(ascii: "/") else {
            throw KFCError.invalid(display(path), "path inside the image must start with /")
        }
        let root = ext2_ino_t(EXT2_ROOT_INO)
        var number: ext2_ino_t = 0
        let code = withCString(path) { cPath in
            follow
                ? ext2fs_namei_follow(handle, root, root, cPath, &number)
                : ext2fs_namei(handle, root, root, cPath, &number)
        }
        if code == errcode_t(EXT2_ET_FILE_NOT_FOUND) {
            throw KFCError.notFound(display(path), "no such file or folder in the image")
        }
        try Ext2fsCall.check(code, "look up \(display(path))")
        return number
    }

    func readInode(_ number: UInt32, path: [UInt8]) throws -> ext2_inode_large {
        var inode = ext2_inode_large()
        try withSmall(&inode) { small in
            try Ext2fsCall.check(
                ext2fs_read_inode_full(
                    handle, number, small, Int32(MemoryLayout<ext2_inode_large>.size)),
                "read inode \(number) of \(display(path))")
        }
        return inode
    }

    func withSmall<T>(
        _ inode: inout ext2_inode_large, _ body: (UnsafeMutablePointer<ext2_inode>) throws -> T
    ) rethrows -> T {
        // ext2_inode_large begins with the fields of ext2_inode; libext2fs takes the large
        // form through the small pointer type with its size passed beside it.
        try withUnsafeMutablePointer(to: &inode) { large in
            try large.withMemoryRebound(to: ext2_inode.self, capacity: 1, body)
        }
    }

    /// Reads inode `number` and returns it as the entry `name`.
    func entry(_ number: UInt32, name: [UInt8], path: [UInt8]) throws -> Ext4Entry {
        let inode = try readInode(number, path: path)
        let mode = UInt32(inode.i_mode)
        guard let kind = EntryKind(mode: mode) else {
            throw KFCError.invalid(display(path), "inode \(number) has an unknown mode \(mode)")
        }
        let (major, minor) = Ext4Image.device(inode)
        let extra = inode.i_extra_isize >= 24
        return Ext4Entry(
            nameBytes: name, inode: number, kind: Ext4Image.publicKind(kind),
            permissions: UInt16(mode & 0o7777),
            uid: UInt32(inode.i_uid) | UInt32(inode.osd2.linux2.l_i_uid_high) << 16,
            gid: UInt32(inode.i_gid) | UInt32(inode.osd2.linux2.l_i_gid_high) << 16,
            size: Int64(inode.i_size) | Int64(inode.i_size_high) << 32,
            allocatedBytes: (Int64(inode.i_blocks) | Int64(inode.osd2.linux2.l_i_blocks_hi) << 32)
                * 512,
            linkCount: Int(inode.i_links_count),
            modificationTime: Ext4Image.seconds(inode.i_mtime, extra ? inode.i_mtime_extra : 0),
            modificationNanoseconds: extra ? inode.i_mtime_extra >> 2 : 0,
            accessTime: Ext4Image.seconds(inode.i_atime, extra ? inode.i_atime_extra : 0),
            accessNanoseconds: extra ? inode.i_atime_extra >> 2 : 0,
            changeTime: Ext4Image.seconds(inode.i_ctime, extra ? inode.i_ctime_extra : 0),
            deviceMajor: major, deviceMinor: minor, flags: inode.i_flags)
    }

    /// Seconds from the 32-bit field and the 2 epoch bits of the extra field.
    static func seconds(_ low: UInt32, _ extra: UInt32) -> Int64 {
        Int64(Int32(bitPattern: low)) + (Int64(extra & 3) << 32)
    }

    /// Decodes the device numbers in i_block: the old form in word 0, else the new form in
    /// word 1.
    static func device(_ inode: ext2_inode_large) -> (UInt32, UInt32) {
        let kind = inode.i_mode & 0o170000
        guard kind == 0o020000 || kind == 0o060000 else { return (0, 0) }
        let (old, new) = withUnsafeBytes(of: inode.i_block) {
            ($0.load(as: UInt32.self), $0.load(fromByteOffset: 4, as: UInt32.self))
        }
        if old != 0 { return ((old >> 8) & 0xff, old & 0xff) }
        return ((new & 0xfff00) >> 8, (new & 0xff) | ((new >> 12) & 0xfff00))
    }

    private static func publicKind(_ kind: EntryKind) -> Ext4Entry.Kind {
        switch kind {
        case .regular: .regular
        case .directory: .directory
        case .symlink: .symlink
        case .characterDevice: .characterDevice
        case .blockDevice: .blockDevice
        case .fifo: .fifo
        case .socket: .socket
        }
    }

    /// Up to `length` bytes of inode `number` from `offset`.
    func read(_ number: UInt32, offset: Int64, length: Int, path: [UInt8]) throws -> Data {
        var file: ext2_file_t?
        try Ext2fsCall.check(
            ext2fs_file_open2(handle, number, nil, 0, &file), "open \(display(path))")
        defer { ext2fs_file_close(file) }
        try Ext2fsCall.check(
            ext2fs_file_llseek(file, UInt64(max(0, offset)), Int32(EXT2_SEEK_SET), nil),
            "seek in \(display(path))")
        var data = Data(count: length)
        var total = 0
        while total < length {
            var got: UInt32 = 0
            let wanted = UInt32(length - total)
            try data.withUnsafeMutableBytes { raw in
                try Ext2fsCall.check(
                    ext2fs_file_read(file, raw.baseAddress! + total, wanted, &got),
                    "read \(display(path))")
            }
            if got == 0 { break }
            total += Int(got)
        }
        return data.prefix(total)
    }
}
