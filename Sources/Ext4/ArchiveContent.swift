import Archives
import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// Streams the content of an archive's regular files into the image (second pass): blocks
/// are allocated as data arrives, so holes of sparse entries stay holes.
final class ArchiveContent {
    private let filesystem: Ext4Filesystem
    private let imageFD: Int32
    private let tree: SourceTree
    private let contentEntries: [Int: Int]
    private let archive: String
    private let hasher: Digest.Hasher?
    private let progress: ProgressMeter
    private var goal: UInt64 = 0
    private var copied: Int64 = 0
    private(set) var extents: [[Extent]]
    private(set) var dataBlocks: [UInt64]

    init(
        filesystem: Ext4Filesystem, imageFD: Int32, archiveTree: ArchiveTree, archive: String,
        hasher: Digest.Hasher?, logger: Logger
    ) {
        self.filesystem = filesystem
        self.imageFD = imageFD
        tree = archiveTree.tree
        contentEntries = archiveTree.contentEntries
        self.archive = archive
        self.hasher = hasher
        progress = ProgressMeter("writing files", total: tree.contentBytes, logger: logger)
        extents = Array(repeating: [], count: tree.entries.count)
        dataBlocks = Array(repeating: 0, count: tree.entries.count)
    }

    /// Reads the archive again and writes the content of every entry that defines a file.
    func copyAll() throws {
        let reader = try ArchiveReader(path: archive)
        var number = 0
        while let item = try reader.next() {
            if let index = contentEntries[number] {
                try copy(from: reader, into: index, path: item.displayPath)
            }
            number += 1
        }
        progress.finish(copied)
    }

    private func copy(from reader: ArchiveReader, into index: Int, path: String) throws {
        let size = tree.entries[index].size
        let blockSize = Int64(Ext4Filesystem.blockSize)
        var allocatedEnd: Int64 = 0
        while let (offset, bytes) = try reader.readBlock() {
            guard bytes.count > 0 else { continue }
            let end = offset + Int64(bytes.count)
            guard offset >= 0, end <= size else {
                throw KFCError.invalid(
                    "read \(archive)", "entry '\(path)' has data past its size of \(size)")
            }
            hasher?.update(Data("\(offset)-\(end);".utf8))
            hasher?.update(bytes)
            let first = max(allocatedEnd, offset / blockSize)
            let last = (end + blockSize - 1) / blockSize
            if last > first {
                extents[index] += try filesystem.allocate(
                    UInt64(last - first), from: UInt64(first), goal: &goal, for: path)
                dataBlocks[index] += UInt64(last - first)
                allocatedEnd = last
            }
            try write(bytes, at: offset, runs: extents[index])
            copied += Int64(bytes.count)
            progress.update(copied)
        }
        extents[index] = ArchiveContent.merged(extents[index])
    }

    /// Writes `bytes` found at file offset `offset` into the blocks `runs` map.
    private func write(_ bytes: UnsafeRawBufferPointer, at offset: Int64, runs: [Extent]) throws {
        let blockSize = Int64(Ext4Filesystem.blockSize)
        let end = offset + Int64(bytes.count)
        // Pieces arrive in file order, so only the last runs can overlap this one.
        for run in runs.reversed() {
            let runStart = Int64(run.logical) * blockSize
            let runEnd = runStart + Int64(run.length) * blockSize
            if runEnd <= offset { break }
            let low = max(offset, runStart)
            let high = min(end, runEnd)
            guard low < high else { continue }
            let piece = UnsafeRawBufferPointer(
                rebasing: bytes[Int(low - offset)..<Int(high - offset)])
            try TemporaryImage.write(
                piece, to: imageFD, at: Int64(run.physical) * blockSize + (low - runStart),
                path: filesystem.path)
        }
    }

    /// Joins runs that continue each other on disk and in the file, within the extent limit.
    static func merged(_ runs: [Extent]) -> [Extent] {
        var result: [Extent] = []
        for run in runs {
            if var last = result.last,
                last.logical + last.length == run.logical,
                last.physical + UInt64(last.length) == run.physical,
                UInt64(last.length) + UInt64(run.length) <= Extent.maximumLength
            {
                last.length += run.length
                result[result.count - 1] = last
            } else {
                result.append(run)
            }
        }
        return result
    }
}
