import KFCCore

/// The subcommands of this group: guest kernels and the boot test.
let kernelCommands: [Subcommand] = [kernelCommand, verifyCommand]

/// The subcommands of `kfc-image kernel`.
private let kernelSubcommands = [kernelCheckCommand, kernelExtractCommand, kernelFetchCommand]

/// `kfc-image kernel`: picks one of `kernelSubcommands` by the word after it.
let kernelCommand = Subcommand(
    "kernel", summary: "check, extract or fetch a guest kernel",
    usage: """
        Usage: kfc-image kernel check FILE [--json] [--memory MIB] [--config FILE]
               kfc-image kernel extract BZIMAGE OUTPUT
               kfc-image kernel fetch URL --sha256 HEX [--output FILE] [--cache DIR]

        \(kernelSubcommands.map(\.usage).joined(separator: "\n\n"))
        """,
    run: { arguments, logger in
        guard let word = arguments.optionalPositional() else {
            throw KFCError.usage("kfc-image kernel: missing check, extract or fetch")
        }
        guard let subcommand = kernelSubcommands.first(where: { $0.name == word }) else {
            throw KFCError.usage("kfc-image kernel: unknown subcommand '\(word)'")
        }
        return try subcommand.run(&arguments, logger)
    })
