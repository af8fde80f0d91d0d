import KFCCore

/// The subcommands of this group: writing, listing and reading ext4 image files.
let imageFileCommands: [Subcommand] = [mkfsCommand, lsCommand, catCommand]
