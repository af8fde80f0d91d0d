internal import CExt2fs
import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

extension DirectoryScanner {
    /// Reads the extended attributes of the entry at `path`, sorted by name.
    ///
    /// `path` goes through `/proc/self/fd/DIRFD/NAME`, so the directory is the one already
    /// open and the final name is not followed (`llistxattr`, `lgetxattr`). An attribute
    /// that is listed but cannot be read is logged as a warning and left out.
    func attributes(path: [UInt8], for display: String) -> [ExtendedAttribute] {
        guard let names = listAttributes(path: path, display: display) else { return [] }
        var result: [ExtendedAttribute] = []
        for name in names {
            do {
                result.append(
                    ExtendedAttribute(name: name, value: try value(of: name, path: path)))
            } catch {
                logger.warning(
                    "skipping an extended attribute that cannot be read",
                    [
                        ("path", display), ("name", String(decoding: name, as: UTF8.self)),
                        ("error", "\(error)"),
                    ])
            }
        }
        return result.sorted { $0.name.lexicographicallyPrecedes($1.name) }
    }

    private func listAttributes(path: [UInt8], display: String) -> [[UInt8]]? {
        var list = [UInt8]()
        while true {
            let size = withCString(path) { llistxattr($0, nil, 0) }
            if size < 0 {
                // ENOTSUP: the source file system stores no attributes.
                if errno != ENOTSUP, errno != ENODATA {
                    logger.warning(
                        "cannot list extended attributes",
                        [("path", display), ("error", String(cString: strerror(errno)))])
                }
                return nil
            }
            if size == 0 { return [] }
            list = [UInt8](repeating: 0, count: size)
            let got = withCString(path) { cPath in
                list.withUnsafeMutableBytes { raw in
                    llistxattr(cPath, raw.baseAddress?.assumingMemoryBound(to: CChar.self), size)
                }
            }
            // ERANGE: an attribute was added between the two calls; ask again.
            if got < 0, errno == ERANGE { continue }
            if got < 0 { return nil }
            list.removeSubrange(got...)
            break
        }
        return list.split(separator: 0).map(Array.init)
    }

    private func value(of name: [UInt8], path: [UInt8]) throws -> [UInt8] {
        try withCString(path) { cPath in
            try withCString(name) { cName in
                while true {
                    let size = lgetxattr(cPath, cName, nil, 0)
                    if size < 0 { throw SystemCall.error("read attribute", errno: errno) }
                    var value = [UInt8](repeating: 0, count: size)
                    let got = value.withUnsafeMutableBytes { raw in
                        lgetxattr(cPath, cName, raw.baseAddress, size)
                    }
                    if got < 0, errno == ERANGE { continue }
                    if got < 0 { throw SystemCall.error("read attribute", errno: errno) }
                    value.removeSubrange(got...)
                    return value
                }
            }
        }
    }
}
