import Fetching
import Foundation
import KFCCore
import Kernels
import Recipes

/// A verified, checked guest kernel ready to be copied into a version.
struct KernelInput {
    var path: String
    var digest: Digest
    /// The URL or file it came from.
    var source: String
    var report: KernelReport
}

extension ImageBuilder {
    /// Fetches the kernel of `--kernel FILE` (its digest computed) or of the recipe (its digest
    /// checked), rejected unless it is an x86_64 ELF kernel without problems.
    func fetchKernel(_ recipe: Recipe, _ request: BuildRequest, _ fetcher: Fetcher) throws
        -> KernelInput?
    {
        var input: (path: String, digest: Digest, source: String)
        if let file = request.kernelOverride {
            let digest = try Digest.ofFile(file)
            let cached = try fetcher.admit(
                file, as: (file as NSString).lastPathComponent, digest: digest, copy: true)
            input = (cached, digest, file)
        } else if let kernel = recipe.kernel {
            let cached = try fetcher.fetch(kernel.url, digest: kernel.digest)
            let sha256 = kernel.digest.algorithm == .sha256 ? kernel.digest : try Digest.ofFile(cached)
            input = (cached, sha256, kernel.url)
        } else {
            return nil
        }
        let report: KernelReport
        do {
            report = try KernelCheck.check(path: input.path)
        } catch let error as KFCError {
            // The check names the cached copy; the user knows the file by its source.
            let shown =
                input.source.hasPrefix("file://")
                ? (URL(string: input.source)?.path ?? input.source) : input.source
            var failure = error
            failure.context = "check kernel \(input.source)"
            failure.reason = error.reason.replacingOccurrences(of: input.path, with: shown)
            throw failure
        }
        guard report.isBootable else {
            throw KFCError.invalid(
                "check kernel \(input.source)", report.problems.joined(separator: "; "))
        }
        return KernelInput(
            path: input.path, digest: input.digest, source: input.source, report: report)
    }
}
