import KFCCore

/// The subcommands of this group.
let imageFileCommands: [Subcommand] = []
