import Fetching
import Foundation
import KFCCore
import Kernels

/// `kfc-image kernel fetch`: downloads a kernel into the verified cache and checks it.
let kernelFetchCommand = Subcommand(
    "fetch", summary: "download and check a guest kernel",
    usage: """
        fetch: downloads URL into the content-addressed cache (or takes it from the cache
        or from the darksite folder $KFC_DARKSITE) and checks that its sha256 is HEX. With
        --output, a bzImage is extracted to FILE and a vmlinux is copied there; the
        result is then checked as a kernel.
          --sha256 HEX     the expected sha256 of the download (required)
          --output FILE    where to put the uncompressed kernel
          --cache DIR      the cache folder (default: $KFC_CACHE, else /var/cache/kfc)
        """,
    run: { arguments, logger in
        guard let hex = try arguments.option("--sha256") else {
            throw KFCError.usage("kfc-image kernel fetch: --sha256 HEX is required")
        }
        guard let digest = Digest(.sha256, hex: hex) else {
            throw KFCError.usage("invalid --sha256 '\(hex)': expected 64 hex digits")
        }
        let output = try arguments.option("--output")
        let cache = try arguments.option("--cache") ?? Fetcher.defaultCacheDirectory
        let url = try arguments.positional("URL")
        try arguments.finish()

        let fetcher = Fetcher(
            cacheDirectory: cache, darksite: Fetcher.environmentDarksite, logger: logger)
        let cached = try fetcher.fetch(url, digest: digest)
        guard let output else {
            StandardOutput.line(cached)
            return 0
        }
        let report = try KernelExtractor.prepare(cached, to: output, logger: logger)
        StandardOutput.line("\(output): Linux \(report.version ?? "of unknown version")")
        report.problems.forEach { logger.warning("kernel problem", [("problem", $0)]) }
        return report.isBootable ? 0 : 1
    })
