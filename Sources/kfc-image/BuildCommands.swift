import KFCCore

/// The subcommands of this group.
let buildCommands: [Subcommand] = []
