import Foundation
import KFCCore
import Stores

/// The outcome of building a published version again from its recorded inputs.
public struct RebuildResult: Sendable {
    /// The version that was rebuilt.
    public var reference: String
    /// The image digest its manifest records.
    public var expected: String
    /// The digest of the rebuilt image.
    public var actual: String
    /// Whether the rebuilt image is byte-identical.
    public var matches: Bool { expected == actual }
}

extension ImageBuilder {
    /// Builds `manifest`'s version again into a throwaway store, with the recorded recipe,
    /// sources, kernel and epoch, and compares the image digests.
    ///
    /// The recipe file must still have its recorded digest; a changed recipe is an error,
    /// since its rebuild would prove nothing. The throwaway store is removed afterwards.
    public static func rebuild(
        _ manifest: VersionManifest, darksite: String?, cacheDirectory: String, logger: Logger
    ) throws -> RebuildResult {
        let recipe = manifest.recipe.path
        let digest = try Digest.ofFile(recipe).hex
        guard digest == manifest.recipe.sha256 else {
            throw KFCError.invalid(
                "rebuild \(manifest.reference)",
                "the recipe \(recipe) changed since the build (sha256 \(digest), recorded "
                    + "\(manifest.recipe.sha256))")
        }
        // The recorded digest is what the rebuild is compared with, so the stored bytes must
        // still have it; otherwise a match would say nothing about the version.
        try checkImageDigest(manifest)
        let scratch = try FileSystem.makeTemporaryDirectory(prefix: "kfc-rebuild")
        defer { try? FileSystem.remove(scratch) }
        let store = try DirectoryStore(root: scratch, logger: logger)
        // The version's own kernel is the recorded one: its digest is in the manifest and
        // the builder checks it again.
        let request = BuildRequest(
            recipePath: recipe, darksite: darksite, kernelOverride: manifest.kernel?.path,
            cacheDirectory: cacheDirectory, epoch: manifest.epoch)
        let rebuilt = try ImageBuilder(store: store, logger: logger).build(request)
        if let kernel = manifest.kernel, rebuilt.kernel?.sha256 != kernel.sha256 {
            throw KFCError.invalid(
                "rebuild \(manifest.reference)", "the kernel no longer has its recorded sha256")
        }
        return RebuildResult(
            reference: manifest.reference, expected: manifest.image.sha256,
            actual: rebuilt.image.sha256)
    }
}
