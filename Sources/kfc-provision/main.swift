import KFCCore

// One file per subcommand beside this one.
CommandLineTool.main(
    program: "kfc-provision",
    summary: "bring a KVM host to the state that runs kfc's firecracker microVMs",
    subcommands: [planCommand, applyCommand, checkCommand])
