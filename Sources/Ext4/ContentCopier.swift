import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// Copies the content of a scanned directory tree into the image file: for each regular
/// file (hard links once) it allocates blocks for the data segments, keeping holes found
/// with SEEK_DATA/SEEK_HOLE, and writes the bytes straight to those blocks.
///
/// Only the block bitmap of the file system changes here. No inode or checksummed block is
/// written, so the UUID can still be derived from the content read.
final class ContentCopier {
    private let filesystem: Ext4Filesystem
    private let imageFD: Int32
    private let tree: SourceTree
    private let root: String
    private let hasher: Digest.Hasher?
    private let progress: ProgressMeter
    private var buffer: UnsafeMutableRawBufferPointer
    private var goal: UInt64 = 0
    private var copied: Int64 = 0
    /// The extents of each entry's data, by entry index.
    private(set) var extents: [[Extent]]
    /// The number of data blocks of each entry, by entry index.
    private(set) var dataBlocks: [UInt64]

    private static let bufferSize = 4 << 20
    /// SEEK_DATA and SEEK_HOLE from Linux <unistd.h>, which Swift's Glibc module does not
    /// export because they sit behind _GNU_SOURCE.
    private static let seekData: Int32 = 3
    private static let seekHole: Int32 = 4

    /// Prepares to copy `tree` (read from `root`) into the image open as `imageFD`. When
    /// `hasher` is given, every segment position and byte read is added to it in order.
    init(
        filesystem: Ext4Filesystem, imageFD: Int32, tree: SourceTree, root: String,
        hasher: Digest.Hasher?, logger: Logger
    ) {
        self.filesystem = filesystem
        self.imageFD = imageFD
        self.tree = tree
        self.root = root
        self.hasher = hasher
        self.progress = ProgressMeter("writing files", total: tree.contentBytes, logger: logger)
        // A tree of small files gets a small buffer: each new page costs a fault.
        let largest = tree.entries.map(\.size).max() ?? 0
        let size = min(Int64(ContentCopier.bufferSize), max(65536, (largest + 65535) & ~65535))
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(size), alignment: 4096)
        extents = Array(repeating: [], count: tree.entries.count)
        dataBlocks = Array(repeating: 0, count: tree.entries.count)
    }

    deinit { buffer.deallocate() }

    /// Copies every file, walking the tree in entry order with one open directory per level.
    func copyAll() throws {
        let fd = try SystemCall.retrying("open \(root)") {
            openWithoutAccessTime(AT_FDCWD, root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        }
        defer { close(fd) }
        var info = stat()
        let same =
            fstat(fd, &info) == 0 && UInt64(info.st_dev) == tree.entries[0].sourceDevice
            && UInt64(info.st_ino) == tree.entries[0].sourceInode
        guard same else {
            throw KFCError.failed(root, "changed while the image was being written")
        }
        try copyDirectory(0, fd: fd)
        progress.finish(copied)
    }

    private func copyDirectory(_ index: Int, fd: Int32) throws {
        let children = tree.entries[index].children
        for child in children {
            let entry = tree.entries[child]
            guard entry.kind == .regular, entry.hardLinkOf == nil, entry.size > 0 else {
                continue
            }
            try copyFile(child, in: fd)
        }
        for child in children where tree.entries[child].kind == .directory {
            let childFD = try DirectoryScanner.openChecked(
                tree.entries[child], in: fd, path: display(child), flags: O_RDONLY | O_DIRECTORY)
            defer { close(childFD) }
            try copyDirectory(child, fd: childFD)
        }
    }

    private func copyFile(_ index: Int, in directoryFD: Int32) throws {
        let entry = tree.entries[index]
        let path = display(index)
        let (fd, info) = try DirectoryScanner.openAndStat(
            entry, in: directoryFD, path: path, flags: O_RDONLY)
        defer { close(fd) }
        try expectUnchanged(info, entry, path)
        let blockSize = UInt64(Ext4Filesystem.blockSize)
        var blocks: UInt64 = 0
        for segment in try ContentCopier.segments(fd, info: info, blockSize: blockSize, path) {
            hasher?.update(Data("\(segment.lowerBound)-\(segment.upperBound);".utf8))
            let runs = try filesystem.allocate(
                UInt64(segment.count), from: segment.lowerBound, goal: &goal, for: path)
            for run in runs { try copy(run, of: fd, size: entry.size, path) }
            extents[index] += runs
            blocks += UInt64(segment.count)
        }
        var after = stat()
        try SystemCall.retrying("stat \(path)") { fstat(fd, &after) }
        try expectUnchanged(after, entry, path)
        dataBlocks[index] = blocks
    }

    /// Copies the bytes of `run` from the file to the image. The tail of a last partial
    /// block stays zero because the image file is new and sparse.
    private func copy(_ run: Extent, of fd: Int32, size: Int64, _ path: String) throws {
        let blockSize = Int64(Ext4Filesystem.blockSize)
        let start = Int64(run.logical) * blockSize
        let end = min(size, start + Int64(run.length) * blockSize)
        let target = Int64(run.physical) * blockSize
        var offset = start
        while offset < end {
            let wanted = Int(min(Int64(buffer.count), end - offset))
            let count = try SystemCall.retrying("read \(path)") {
                pread(fd, buffer.baseAddress, wanted, off_t(offset))
            }
            guard count > 0 else {
                throw KFCError.failed(path, "file shrank while the image was being written")
            }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[..<count])
            hasher?.update(chunk)
            try TemporaryImage.write(
                chunk, to: imageFD, at: target + (offset - start), path: filesystem.path)
            offset += Int64(count)
            copied += Int64(count)
            progress.update(copied)
        }
    }

    /// Checks that `info` of the open file still shows the size and modification time the
    /// scan recorded.
    private func expectUnchanged(_ info: stat, _ entry: SourceEntry, _ path: String) throws {
        guard Int64(info.st_size) == entry.size,
            Timestamp(info.st_mtim) == entry.modificationTime
        else {
            throw KFCError.failed(path, "file changed while the image was being written")
        }
    }

    /// Returns the logical block ranges of the file that contain data, in order.
    static func segments(_ fd: Int32, info: stat, blockSize: UInt64, _ path: String) throws
        -> [Range<UInt64>]
    {
        let size = UInt64(info.st_size)
        let whole = [0..<((size + blockSize - 1) / blockSize)]
        // A file with as many blocks as its size needs has no holes to look for.
        guard UInt64(info.st_blocks) * 512 < size else { return whole }
        var ranges: [Range<UInt64>] = []
        var position: off_t = 0
        while UInt64(position) < size {
            let data = lseek(fd, position, seekData)
            if data < 0 {
                if errno == ENXIO { break }
                if errno == EINVAL { return whole }
                throw SystemCall.error("find data in \(path)", errno: errno)
            }
            let hole = lseek(fd, data, seekHole)
            if hole < 0 { throw SystemCall.error("find holes in \(path)", errno: errno) }
            let first = UInt64(data) / blockSize
            let last = (min(UInt64(hole), size) + blockSize - 1) / blockSize
            if let previous = ranges.last, previous.upperBound >= first {
                ranges[ranges.count - 1] = previous.lowerBound..<max(previous.upperBound, last)
            } else if last > first {
                ranges.append(first..<last)
            }
            position = hole
        }
        return ranges
    }

    private func display(_ index: Int) -> String {
        let inside = tree.path(of: index)
        return inside == "/" ? root : root + inside
    }
}
