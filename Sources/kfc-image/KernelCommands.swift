import KFCCore

/// The subcommands of this group.
let kernelCommands: [Subcommand] = []
