import Foundation
import KFCCore
import TestSupport

/// A read-only loop mount of an image for one test, undone by `unmount()`.
struct LoopMount {
    let image: String
    let point: String

    /// Whether the kernel offers loop devices here.
    static var isAvailable: Bool { FileSystem.exists("/dev/loop-control") }

    /// Mounts `image` read-only on a new folder under `parent`.
    init(image: String, under parent: String) throws {
        self.image = image
        point = parent + "/mnt"
        try FileSystem.createDirectory(point)
        try Command("mount", ["-t", "ext4", "-o", "loop,ro", image, point]).run()
    }

    /// Unmounts, detaches the loop device if the kernel did not, and removes the folder.
    func unmount() {
        _ = try? Command("umount", [point]).run()
        if let devices = try? Command("losetup", ["-j", image]).output() {
            for line in devices.split(separator: "\n") {
                if let device = line.split(separator: ":").first {
                    _ = try? Command("losetup", ["-d", String(device)]).run()
                }
            }
        }
        rmdir(point)
    }
}

/// Runs `e2fsck -fn` on `image` and returns its exit status and output.
func checkImage(_ image: String) throws -> (status: Int32, output: String) {
    let result = try Command("e2fsck", ["-fn", image]).result()
    return (result.status, result.outputText + result.errorText)
}
