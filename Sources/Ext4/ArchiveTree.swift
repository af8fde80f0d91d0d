import Archives
import Foundation
import KFCCore

/// Builds a `SourceTree` from the headers of an archive in a first pass that skips content.
/// Parents an archive leaves out become folders of mode 0755 owned by root. A later entry
/// for the same path replaces an earlier one, and hard links join their target's group.
struct ArchiveTree {
    /// The tree in writer order.
    private(set) var tree = SourceTree()
    /// For each archive entry number that carries a regular file's final content, the tree
    /// index of that file.
    private(set) var contentEntries: [Int: Int] = [:]
    /// The newest modification time seen, for a default epoch.
    private(set) var newestModification: Int64 = 0

    private struct Node {
        var entry: SourceEntry
        var children: [[UInt8]: Int] = [:]
        var archiveNumber: Int?
        var linkTarget: Int?
    }

    private var nodes: [Node] = []
    private let archive: String
    private let epoch: Int64

    /// Reads the headers of `archive`; implied folders get `epoch` as their times.
    init(archive: String, epoch: Int64) throws {
        self.archive = archive
        self.epoch = epoch
        let time = Timestamp(seconds: epoch, nanoseconds: 0)
        nodes.append(
            Node(
                entry: SourceEntry(
                    name: [], parent: 0, kind: .directory, permissions: 0o755, uid: 0, gid: 0,
                    accessTime: time, modificationTime: time, changeTime: time)))
        let reader = try ArchiveReader(path: archive)
        var number = 0
        while let item = try reader.next() {
            try add(item, number: number)
            number += 1
        }
        emit()
    }

    private mutating func add(_ item: ArchiveEntry, number: Int) throws {
        newestModification = max(newestModification, item.modificationTime.seconds)
        let components = item.path.split(separator: UInt8(ascii: "/")).map(Array.init)
        guard let name = components.last else {
            if item.kind == .directory { nodes[0].entry = entry(item, name: [], parent: 0) }
            return
        }
        let parent = try folder(for: components.dropLast(), item)
        var node = Node(entry: entry(item, name: name, parent: parent))
        if item.kind == .hardlink {
            let target = try hardLinkTarget(item)
            node.linkTarget = target
            node.entry = nodes[target].entry
            node.entry.name = name
            node.entry.parent = parent
        } else if node.entry.kind == .regular {
            node.archiveNumber = number
        }
        if let existing = nodes[parent].children[name] {
            if nodes[existing].entry.kind == .directory, node.entry.kind == .directory {
                nodes[existing].entry = node.entry
                return
            }
            nodes[existing] = node
        } else {
            nodes[parent].children[name] = nodes.count
            nodes.append(node)
        }
    }

    /// The node of the folder `components`, created with default metadata when missing.
    private mutating func folder(for components: ArraySlice<[UInt8]>, _ item: ArchiveEntry)
        throws -> Int
    {
        var current = 0
        for component in components {
            if let next = nodes[current].children[component] {
                guard nodes[next].entry.kind == .directory else {
                    throw KFCError.invalid(
                        "read \(archive)", "entry '\(item.displayPath)' is below a non-folder")
                }
                current = next
                continue
            }
            var folder = nodes[0].entry
            folder.name = component
            folder.parent = current
            (folder.permissions, folder.uid, folder.gid) = (0o755, 0, 0)
            let time = Timestamp(seconds: epoch, nanoseconds: 0)
            (folder.accessTime, folder.modificationTime, folder.changeTime) = (time, time, time)
            folder.attributes = []
            nodes[current].children[component] = nodes.count
            nodes.append(Node(entry: folder))
            current = nodes.count - 1
        }
        return current
    }

    private func hardLinkTarget(_ item: ArchiveEntry) throws -> Int {
        var current = 0
        for component in (item.hardlinkTarget ?? []).split(separator: UInt8(ascii: "/")) {
            guard let next = nodes[current].children[Array(component)] else {
                current = -1
                break
            }
            current = next
        }
        guard current > 0, nodes[current].entry.kind != .directory else {
            throw KFCError.invalid(
                "read \(archive)", "hard link '\(item.displayPath)' has no earlier file target")
        }
        return nodes[current].linkTarget ?? current
    }

    private func entry(_ item: ArchiveEntry, name: [UInt8], parent: Int) -> SourceEntry {
        let modification = Timestamp(item.modificationTime)
        var entry = SourceEntry(
            name: name, parent: parent, kind: ArchiveTree.kind(item.kind),
            permissions: UInt16(item.permissions & 0o7777), uid: item.uid, gid: item.gid,
            accessTime: item.accessTime.map(Timestamp.init) ?? modification,
            modificationTime: modification,
            changeTime: item.changeTime.map(Timestamp.init) ?? modification)
        entry.size = entry.kind == .regular ? item.size : 0
        entry.target = item.symlinkTarget ?? []
        if entry.kind == .symlink { entry.size = Int64(entry.target.count) }
        entry.deviceMajor = item.deviceMajor
        entry.deviceMinor = item.deviceMinor
        // NOTE: ArchiveEntry carries xattrs but not libarchive's ACL records. ACLs archived
        // as system.posix_acl_* xattrs are written, but ACLs archived only as pax
        // SCHILY.acl records (GNU tar --acls without xattrs) are lost.
        entry.attributes = item.xattrs.map {
            ExtendedAttribute(name: Array($0.name.utf8), value: $0.value)
        }.sorted { $0.name.lexicographicallyPrecedes($1.name) }
        return entry
    }

    private static func kind(_ kind: ArchiveEntry.Kind) -> EntryKind {
        switch kind {
        case .regular, .hardlink: .regular
        case .directory: .directory
        case .symlink: .symlink
        case .characterDevice: .characterDevice
        case .blockDevice: .blockDevice
        case .fifo: .fifo
        case .socket: .socket
        }
    }
}

extension ArchiveTree {
    /// Lays the nodes out in writer order: each folder's children together, sorted by
    /// name bytes, then the subfolders' children in the same order.
    private mutating func emit() {
        var nodeIndex: [Int: Int] = [0: 0]
        tree.entries = [nodes[0].entry]
        // Walk depth-first like the directory scanner: children of a folder are appended
        // when the folder is reached, then its subfolders are visited in order.
        func visit(_ node: Int, at treeIndex: Int) {
            let names = nodes[node].children.keys.sorted { $0.lexicographicallyPrecedes($1) }
            var children: [Int] = []
            for name in names {
                // `names` are the dictionary's own keys.
                let child = nodes[node].children[name]!
                nodeIndex[child] = tree.entries.count
                var entry = nodes[child].entry
                entry.parent = treeIndex
                children.append(tree.entries.count)
                tree.entries.append(entry)
            }
            tree.entries[treeIndex].children = children
            for (name, index) in zip(names, children) {
                let child = nodes[node].children[name]!
                if nodes[child].entry.kind == .directory { visit(child, at: index) }
            }
        }
        visit(0, at: 0)
        linkGroups(nodeIndex)
    }

    private mutating func linkGroups(_ nodeIndex: [Int: Int]) {
        var firstOfGroup: [Int: Int] = [:]
        for (node, index) in nodeIndex.sorted(by: { $0.value < $1.value }) {
            let group = nodes[node].linkTarget ?? node
            if let first = firstOfGroup[group] {
                tree.entries[index].hardLinkOf = first
                tree.entries[first].linkCount += 1
            } else {
                firstOfGroup[group] = index
                if let number = nodes[group].archiveNumber { contentEntries[number] = index }
            }
        }
    }
}

extension Timestamp {
    init(_ time: TimeSpec) {
        self.init(seconds: time.seconds, nanoseconds: UInt32(clamping: time.nanoseconds))
    }
}
