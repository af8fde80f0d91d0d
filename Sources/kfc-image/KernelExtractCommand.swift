import KFCCore
import Kernels

/// `kfc-image kernel extract`: turns a bzImage into the vmlinux Firecracker loads.
let kernelExtractCommand = Subcommand(
    "extract", summary: "extract the vmlinux from a bzImage",
    usage: """
        extract: decompresses the payload of the x86 bzImage BZIMAGE (gzip, xz, lzma,
        bzip2, lz4 or zstd) into OUTPUT, an uncompressed ELF vmlinux, and checks it.
        OUTPUT is replaced only when the result is a valid kernel.
        """,
    run: { arguments, logger in
        let input = try arguments.positional("BZIMAGE")
        let output = try arguments.positional("OUTPUT")
        try arguments.finish()
        let result = try KernelExtractor.extract(bzImage: input, to: output, logger: logger)
        let version = result.report.version ?? "unknown version"
        StandardOutput.line(
            "\(output): Linux \(version), \(ByteSize.format(result.bytes)) from a "
                + "\(result.compression) payload")
        for problem in result.report.problems {
            logger.warning("kernel problem", [("problem", problem)])
        }
        return 0
    })
