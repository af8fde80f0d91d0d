import KFCCore

/// The subcommands that run the build pipeline.
let buildCommands: [Subcommand] = [BuildCommand.subcommand, RebuildCommand.subcommand]
