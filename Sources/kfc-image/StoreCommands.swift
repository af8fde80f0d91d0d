import KFCCore

/// The subcommands of this group.
let storeCommands: [Subcommand] = []
