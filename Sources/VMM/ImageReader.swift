import Ext4
import Foundation
import KFCCore

/// One inode of an ext4 image, as far as the boot checks need it.
struct ImageEntry: Equatable {
    /// The file types the checks tell apart.
    enum Kind: Equatable {
        case file, directory, symlink, other
    }

    var kind: Kind
    /// The permission bits, such as 0o755.
    var mode: UInt32
    /// The size in bytes.
    var size: Int64
    /// The target of a symlink.
    var linkTarget: String?
}

/// Reads paths inside an ext4 image through the `Ext4` module, without mounting it.
struct ImageReader {
    let image: Ext4Image

    /// Opens the image file at `path` read-only.
    init(path: String) throws {
        image = try Ext4Image(path: path)
    }

    /// Looks up `path` (already free of symlinks in its parent folders) without following a
    /// final symlink; returns nil when it does not exist.
    func entry(_ path: String) throws -> ImageEntry? {
        let found: Ext4Entry
        do {
            found = try image.stat(path)
        } catch let error as KFCError where error.kind == .notFound {
            return nil
        }
        let kinds: [Ext4Entry.Kind: ImageEntry.Kind] = [
            .regular: .file, .directory: .directory, .symlink: .symlink,
        ]
        var entry = ImageEntry(
            kind: kinds[found.kind] ?? .other, mode: UInt32(found.permissions),
            size: found.size, linkTarget: nil)
        if entry.kind == .symlink {
            entry.linkTarget = String(decoding: try image.readlink(path), as: UTF8.self)
        }
        return entry
    }

    /// Reads the whole file at `path`.
    func read(_ path: String) throws -> Data {
        try image.read(path)
    }
}

/// Follows paths inside an image the way the guest kernel will, resolving every symlink
/// against the image's root and never against the host's.
struct PathResolver {
    /// The maximum number of symlinks followed, as Linux's MAXSYMLINKS.
    static let maxLinks = 40

    /// A path that was resolved, with the links it went through.
    struct Resolution {
        var path: String
        var entry: ImageEntry
        /// Each link followed, as `link -> target`.
        var links: [String]
    }

    /// The failures of a lookup.
    enum Failure: Error, Equatable {
        case missing(String)
        case notDirectory(String)
        case tooManyLinks
    }

    let reader: ImageReader

    /// Resolves `path`, following symlinks in every component including the last.
    func resolve(_ path: String) throws -> Result<Resolution, Failure> {
        var resolved: [String] = []
        var pending = components(path)
        var links: [String] = []
        var entry = ImageEntry(kind: .directory, mode: 0o755, size: 0)
        while !pending.isEmpty {
            let name = pending.removeFirst()
            if name == ".." {
                _ = resolved.popLast()
                continue
            }
            let candidate = "/" + (resolved + [name]).joined(separator: "/")
            guard let found = try reader.entry(candidate) else {
                return .failure(.missing(candidate))
            }
            if found.kind == .symlink, let target = found.linkTarget {
                links.append("\(candidate) -> \(target)")
                guard links.count <= PathResolver.maxLinks else { return .failure(.tooManyLinks) }
                if target.hasPrefix("/") { resolved = [] }
                pending = components(target) + pending
                continue
            }
            if !pending.isEmpty, found.kind != .directory {
                return .failure(.notDirectory(candidate))
            }
            resolved.append(name)
            entry = found
        }
        return .success(
            Resolution(path: "/" + resolved.joined(separator: "/"), entry: entry, links: links))
    }

    private func components(_ path: String) -> [String] {
        path.split(separator: "/").map(String.init).filter { $0 != "." }
    }
}
