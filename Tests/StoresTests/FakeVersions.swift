import Foundation
import KFCCore
import Stores
import TestSupport

/// Small versions made through the Store API, so store tests do not need the builder.
enum FakeVersions {
    /// Builds and publishes a version of `name` whose files depend on `content`.
    ///
    /// The tree has a folder, a file of `content`, a symlink and a 0640 file; the image is
    /// a sparse 1 MiB file with `content` at its start and end.
    @discardableResult
    static func publish(
        _ store: any Store, name: String = "alpine", prefix: String = "3.20.3",
        content: String = "one", created: String? = nil
    ) throws -> VersionManifest {
        let pending = try store.beginVersion(name: name, prefix: prefix)
        do {
            let manifest = try write(pending, content: content, created: created)
            return try store.publish(pending, manifest: manifest)
        } catch {
            store.discard(pending)
            throw error
        }
    }

    /// Writes the fake files into a pending version and returns its manifest.
    static func write(_ pending: PendingVersion, content: String, created: String?) throws
        -> VersionManifest
    {
        let tree = "\(pending.path)/\(VersionLayout.tree)"
        try FileSystem.createDirectory("\(tree)/etc")
        try FileSystem.writeAtomically(Data(content.utf8), to: "\(tree)/etc/release")
        try FileSystem.writeAtomically(Data("secret".utf8), to: "\(tree)/etc/shadow", mode: 0o640)
        try FileManager.default.createSymbolicLink(
            atPath: "\(tree)/etc/link", withDestinationPath: "/bin/busybox")
        let image = "\(pending.path)/\(VersionLayout.image)"
        let handle = try createFile(image)
        handle.write(Data(content.utf8))
        try handle.seek(toOffset: 1 << 20 - UInt64(content.utf8.count))
        handle.write(Data(content.utf8))
        try handle.close()
        let kernel = "\(pending.path)/\(VersionLayout.kernel)"
        try FileSystem.writeAtomically(Data("kernel \(content)".utf8), to: kernel)
        return VersionManifest(
            name: pending.name, version: pending.version,
            created: created ?? timestamp(), recipe: .init(path: "recipe.yaml", sha256: "00"),
            sources: [], tree: tree,
            image: .init(path: image, sha256: try Digest.ofFile(image).hex, bytes: 1 << 20),
            kernel: .init(path: kernel, sha256: try Digest.ofFile(kernel).hex),
            epoch: 1_700_000_000, builder: "kfc-image test")
    }

    /// A passing verification record.
    static let passing = VersionManifest.VerificationRecord(
        passed: true, vmm: "qemu-tcg", secondsToMarker: 2.5, serialLog: "booted\n",
        date: "2026-01-01T00:00:00Z", reason: nil)

    private static func createFile(_ path: String) throws -> FileHandle {
        guard FileManager.default.createFile(atPath: path, contents: nil) else {
            throw KFCError.failed("create \(path)", "could not create the file")
        }
        return try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    }

    // Distinct, increasing dates keep the order of versions made within one second.
    nonisolated(unsafe) private static var counter = 0
    private static let counterLock = NSLock()

    private static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let tick = counterLock.withLock { () -> Int in
            counter += 1
            return counter
        }
        return formatter.string(from: Date().addingTimeInterval(Double(tick) / 1000))
    }
}
