import Foundation
import Testing

/// Expects `image` (a mounted image) to hold exactly `source`, with times newer than
/// `epoch` clamped to it and lost+found allowed as an extra when the source has none.
func expectSameTree(_ source: TreeSnapshot, _ image: TreeSnapshot, epoch: Int64) {
    var extra = Set(image.entries.keys).subtracting(source.entries.keys)
    extra.remove(Array("/lost+found".utf8))
    #expect(extra.isEmpty, "image has entries the source lacks: \(names(extra))")
    for (path, expected) in source.entries.sorted(by: { $0.key.lexicographicallyPrecedes($1.key) })
    {
        let shown = path.isEmpty ? "/" : String(decoding: path, as: UTF8.self)
        guard let actual = image.entries[path] else {
            Issue.record("missing in the image: \(shown)")
            continue
        }
        expectSameEntry(expected, actual, epoch: epoch, path: shown)
    }
    #expect(source.hardLinkGroups == image.hardLinkGroups, "hard-link groups differ")
}

private func expectSameEntry(
    _ expected: EntrySnapshot, _ actual: EntrySnapshot, epoch: Int64, path: String
) {
    #expect(actual.kind == expected.kind, "kind of \(path)")
    #expect(actual.permissions == expected.permissions, "mode of \(path)")
    #expect(actual.uid == expected.uid, "uid of \(path)")
    #expect(actual.gid == expected.gid, "gid of \(path)")
    #expect(actual.size == expected.size, "size of \(path)")
    #expect(actual.contentDigest == expected.contentDigest, "content of \(path)")
    #expect(actual.target == expected.target, "symlink target of \(path)")
    #expect(actual.device == expected.device, "device number of \(path)")
    #expect(actual.attributes == expected.attributes, "xattrs of \(path)")
    #expect(actual.modification == clamp(expected.modification, epoch), "mtime of \(path)")
    #expect(actual.access == clamp(expected.access, epoch), "atime of \(path)")
}

private func clamp(_ time: EntrySnapshot.Timestamp, _ epoch: Int64) -> EntrySnapshot.Timestamp {
    time.seconds >= epoch ? .init(seconds: epoch, nanoseconds: 0) : time
}

private func names(_ paths: Set<[UInt8]>) -> [String] {
    paths.map { String(decoding: $0, as: UTF8.self) }.sorted()
}
