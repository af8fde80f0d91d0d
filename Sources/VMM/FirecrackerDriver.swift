import Foundation
import KFCCore

#if canImport(Glibc)
    import Glibc
#endif

/// Boots a microVM with Firecracker, configured through its API socket: PUT
/// /machine-config, /boot-source and /drives/rootfs, then /actions InstanceStart.
///
/// Firecracker writes the guest's serial console to its stdout, which goes to the serial
/// log; its own log lines go to stderr. It attaches the drive as `/dev/vda` and adds the
/// `virtio_mmio.device=` and `root=` kernel arguments itself.
public struct FirecrackerDriver: MicroVMDriver {
    /// The Firecracker program.
    public var program: String

    /// Creates a driver for `program` (found in PATH).
    public init(program: String = "firecracker") {
        self.program = program
    }

    public func boot(_ request: BootRequest, logger: Logger) throws -> BootOutcome {
        let socket = "\(request.workDirectory)/firecracker.socket"
        unlink(socket)
        defer { unlink(socket) }
        let command = Command(
            program, ["--api-sock", socket, "--id", "kfc-\(getpid())"])
        let process = try VMMProcess(
            command, outputPath: request.serialLogPath,
            errorPath: "\(request.workDirectory)/firecracker.stderr", logger: logger)
        defer { process.stop() }

        try waitForSocket(socket, process: process, command: command)
        let api = FirecrackerAPI(socket: socket)
        for (path, body) in FirecrackerDriver.configuration(request) {
            try send(api, path, body, process: process)
        }
        logger.info("booting microVM", [("vmm", "firecracker")])
        try send(api, "/actions", ["action_type": "InstanceStart"], process: process)

        let console = SerialConsole(path: request.serialLogPath)
        let event = console.wait(for: request.marker, process: process, timeout: request.timeout)
        return finish(event, process: process, console: console, vmm: "firecracker")
    }

    /// Builds the configuration requests for `request`, in the order they are sent.
    static func configuration(_ request: BootRequest) -> [(String, [String: Any])] {
        // Firecracker adds root=/dev/vda and rw for the root drive (seen in the guest's
        // command line under v1.0.0), so they are dropped here.
        let arguments = request.commandLine.split(separator: " ")
            .filter { !$0.hasPrefix("root=") && $0 != "rw" && $0 != "ro" }
            .joined(separator: " ")
        return [
            ("/machine-config", ["vcpu_count": request.vcpus, "mem_size_mib": request.memoryMiB]),
            ("/boot-source", ["kernel_image_path": request.kernel, "boot_args": arguments]),
            (
                "/drives/rootfs",
                [
                    "drive_id": "rootfs", "path_on_host": request.image, "is_root_device": true,
                    "is_read_only": false,
                ]
            ),
        ]
    }

    private func send(
        _ api: FirecrackerAPI, _ path: String, _ body: [String: Any], process: VMMProcess
    ) throws {
        let response = try api.put(path, body)
        guard (200..<300).contains(response.status) else {
            throw KFCError.invalid(
                "firecracker PUT \(path)",
                "rejected with HTTP \(response.status): \(response.faultMessage)")
        }
    }

    /// Waits up to 5 s for Firecracker to create its API socket.
    private func waitForSocket(_ socket: String, process: VMMProcess, command: Command) throws {
        let deadline = Date().addingTimeInterval(5)
        while !FileSystem.exists(socket) {
            if let status = process.status {
                throw KFCError.failed(
                    command.commandLine, "exited with status \(status) before its API started",
                    details: process.errorLines())
            }
            guard Date() < deadline else {
                throw KFCError.failed(
                    command.commandLine, "timed out after 5 s waiting for \(socket)",
                    details: process.errorLines())
            }
            usleep(10_000)
        }
    }
}
