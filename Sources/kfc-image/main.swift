import KFCCore

// Each group of subcommands lives in its own file, one file per subcommand beside it.
let subcommands = buildCommands + imageFileCommands + kernelCommands + storeCommands

CommandLineTool.main(
    program: "kfc-image",
    summary: "build, check, store and replicate golden root filesystems for microVMs",
    subcommands: subcommands)
