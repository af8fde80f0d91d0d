import Archives
import Chroot
import Ext4
import Fetching
import Foundation
import KFCCore
import Kernels
import Recipes
import Stores

/// Turns a recipe into a published golden image version: the pipeline of `kfc-image build`.
public struct ImageBuilder: Sendable {
    /// The folder in a pending version for step logs, removed before publishing.
    static let workFolder = "build"

    private let store: any Store
    private let logger: Logger

    /// Creates a builder that publishes into `store`.
    public init(store: any Store, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    /// Builds `request` and returns the manifest of the new version.
    ///
    /// Everything is written into a pending version of the store; any failure discards it,
    /// so no version appears unless every stage succeeded.
    public func build(_ request: BuildRequest) throws -> VersionManifest {
        let recipe = try Recipe.load(request.recipePath)
        let fetcher = Fetcher(
            cacheDirectory: request.cacheDirectory, darksite: request.darksite, logger: logger)
        logger.info("building", [("recipe", recipe.name), ("version", recipe.version)])

        // Inputs are fetched before a version is started, so a missing or wrong input
        // leaves nothing to clean up in the store.
        let source = try withContext("fetch source") {
            try fetcher.fetch(recipe.source.url, digest: recipe.source.digest)
        }
        let kernel = try withContext("fetch kernel") { try fetchKernel(recipe, request, fetcher) }

        let pending = try store.beginVersion(name: recipe.name, prefix: recipe.version)
        // Ctrl-C or SIGTERM discards the pending version; Command kills the running step.
        let cleanup = PendingCleanup(store: store, pending: pending)
        let token = Interruption.register { cleanup.discard() }
        defer { Interruption.unregister(token) }
        do {
            // Step logs and the lent resolv.conf live in the pending folder beside the tree,
            // so whatever removes an unfinished version removes them too.
            let work = "\(pending.path)/\(ImageBuilder.workFolder)"
            try FileSystem.createDirectory(work)
            let manifest = try assemble(
                recipe, request, pending: pending, source: source, kernel: kernel, work: work)
            try FileSystem.remove(work)
            let published = try store.publish(pending, manifest: manifest)
            logger.info("published", [("version", published.reference)])
            return published
        } catch {
            cleanup.discard()
            throw error
        }
    }

    /// The stages that write into the pending version, in order.
    private func assemble(
        _ recipe: Recipe, _ request: BuildRequest, pending: PendingVersion, source: String,
        kernel: KernelInput?, work: String
    ) throws -> VersionManifest {
        let tree = "\(pending.path)/\(VersionLayout.tree)"
        try FileSystem.createDirectory(tree)
        // The unpacker's errors name the archive and the entry already.
        let unpacked = try Unpacker.unpack(
            source, into: tree, displayName: recipe.source.fileName, logger: logger)

        let epoch = try resolveEpoch(recipe, request, unpacked: unpacked)
        try runSteps(recipe, tree: tree, work: work, epoch: epoch, timeout: request.stepTimeout)

        let image = "\(pending.path)/\(VersionLayout.image)"
        let options = Ext4Options(
            size: recipe.image.size.map(ImageSize.fixed)
                ?? .auto(headroomPercent: recipe.image.headroomPercent),
            label: recipe.image.label, uuid: nil, epoch: epoch, features: nil)
        let summary = try withContext("write image") {
            try Ext4Writer.write(directory: tree, to: image, options: options, logger: logger)
        }

        var kernelRecord: VersionManifest.KernelRecord?
        if let kernel {
            let destination = "\(pending.path)/\(VersionLayout.kernel)"
            try withContext("install kernel") {
                try FileManager.default.copyItem(atPath: kernel.path, toPath: destination)
            }
            kernelRecord = VersionManifest.KernelRecord(
                path: VersionLayout.kernel, sha256: kernel.digest.hex, source: kernel.source,
                version: kernel.report.version)
        }

        let imageDigest = try Digest.ofFile(image)
        return VersionManifest(
            name: recipe.name, version: pending.version, created: ISO8601DateFormatter().string(
                from: Date()),
            recipe: .init(path: absolute(recipe.path), sha256: recipe.digest.hex),
            sources: [.init(url: recipe.source.url, sha256: recipe.source.digest.hex)],
            tree: VersionLayout.tree,
            image: .init(
                path: VersionLayout.image, sha256: imageDigest.hex, bytes: summary.bytes,
                label: recipe.image.label, uuid: summary.uuid.uuidString.lowercased()),
            kernel: kernelRecord, epoch: epoch, builder: BuilderVersion.label)
    }

    /// Installs packages, adds files and runs the setup script, in that order.
    private func runSteps(
        _ recipe: Recipe, tree: String, work: String, epoch: Int64, timeout: Double?
    ) throws {
        if !recipe.packages.isEmpty {
            try ChrootRunner.run(
                .packages(recipe.packages), root: tree, workDirectory: work, epoch: epoch,
                timeout: timeout, logger: logger)
        }
        try TreeFiles.add(recipe, root: tree, logger: logger)
        if let setup = recipe.setup {
            // The setup script gets the network like the packages step, as recipes may
            // download from it; a recipe that installs nothing still runs offline.
            let step = SetupStep(name: "setup", script: setup, network: !recipe.packages.isEmpty)
            try ChrootRunner.run(
                step, root: tree, workDirectory: work, epoch: epoch, timeout: timeout,
                logger: logger)
        }
    }

    private func resolveEpoch(_ recipe: Recipe, _ request: BuildRequest, unpacked: UnpackSummary)
        throws -> Int64
    {
        if let epoch = request.epoch ?? recipe.epoch { return epoch }
        if let text = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"] {
            guard let value = Int64(text), value > 0 else {
                throw KFCError.invalid("SOURCE_DATE_EPOCH", "expected seconds since 1970, got '\(text)'")
            }
            return value
        }
        return max(1, unpacked.newestModification.seconds)
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }
}

/// Discards a pending version once, whichever of the failing build and a signal's cleanup
/// gets there first; the other waits until the folder is gone.
private final class PendingCleanup: Sendable {
    private let store: any Store
    private let pending: PendingVersion
    private let lock = NSLock()
    nonisolated(unsafe) private var done = false

    init(store: any Store, pending: PendingVersion) {
        self.store = store
        self.pending = pending
    }

    func discard() {
        lock.withLock {
            guard !done else { return }
            done = true
            store.discard(pending)
        }
    }
}
