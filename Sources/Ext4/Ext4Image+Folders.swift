internal import CExt2fs
import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// The results the C callbacks below collect, passed to them as their private pointer.
private final class Collected {
    var entries: [([UInt8], UInt32)] = []
    var names: [String] = []
}

extension Ext4Image {
    /// Returns the names and inode numbers in folder `number`, without `.` and `..`.
    func directoryEntries(_ number: UInt32, path: [UInt8]) throws -> [([UInt8], UInt32)] {
        let collected = Collected()
        let context = Unmanaged.passUnretained(collected).toOpaque()
        let code = ext2fs_dir_iterate2(
            handle, number, 0, nil,
            { _, _, dirent, _, _, _, context in
                // The callback runs inside ext2fs_dir_iterate2 while `collected` is alive.
                guard let dirent, let context else { return 0 }
                let box = Unmanaged<Collected>.fromOpaque(context).takeUnretainedValue()
                let length = Int(dirent.pointee.name_len & 0xff)
                let name = Array(
                    UnsafeRawBufferPointer(start: UnsafeRawPointer(dirent) + 8, count: length))
                if name != [0x2e], name != [0x2e, 0x2e] {
                    box.entries.append((name, dirent.pointee.inode))
                }
                return 0
            }, context)
        if code == errcode_t(EXT2_ET_NO_DIRECTORY) {
            throw KFCError.invalid(display(path), "is not a folder")
        }
        try Ext2fsCall.check(code, "list \(display(path))")
        return collected.entries
    }

    /// Returns the extended attributes of the entry at the byte path `path`, sorted by name.
    func attributes(_ path: [UInt8]) throws -> [(name: String, value: [UInt8])] {
        let number = try lookUp(path, follow: false)
        var xattrs: OpaquePointer?
        try Ext2fsCall.check(
            ext2fs_xattrs_open(handle, number, &xattrs), "open xattrs of \(display(path))")
        defer { ext2fs_xattrs_close(&xattrs) }
        try Ext2fsCall.check(ext2fs_xattrs_read(xattrs), "read xattrs of \(display(path))")
        let collected = Collected()
        let context = Unmanaged.passUnretained(collected).toOpaque()
        try Ext2fsCall.check(
            ext2fs_xattrs_iterate(
                xattrs,
                { name, _, _, context in
                    // The callback runs inside ext2fs_xattrs_iterate while `collected` is alive.
                    guard let name, let context else { return 0 }
                    Unmanaged<Collected>.fromOpaque(context).takeUnretainedValue().names.append(
                        String(cString: name))
                    return 0
                }, context), "list xattrs of \(display(path))")
        var result: [(name: String, value: [UInt8])] = []
        for name in collected.names.sorted() {
            var value: UnsafeMutableRawPointer?
            var length = 0
            try Ext2fsCall.check(
                ext2fs_xattr_get(xattrs, name, &value, &length),
                "read xattr \(name) of \(display(path))")
            // ext2fs_xattr_get allocates the value with malloc; the caller frees it.
            defer { free(value) }
            let bytes = value.map { Array(UnsafeRawBufferPointer(start: $0, count: length)) }
            result.append((name, bytes ?? []))
        }
        return result
    }
}
