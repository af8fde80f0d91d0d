import Ext4
import Foundation
import KFCCore

/// `kfc-image cat`: copies a file out of an ext4 image to stdout.
let catCommand = Subcommand(
    "cat", summary: "write a file inside an ext4 image to stdout",
    usage: """
        Usage: kfc-image cat IMAGE PATH

        Writes the raw bytes of the file PATH inside the ext4 image IMAGE to stdout.
        Symlinks are followed inside the image, never on the host.
        """,
    run: { arguments, _ in
        let imagePath = try arguments.positional("IMAGE")
        let path = try arguments.positional("PATH")
        try arguments.finish()
        let image = try Ext4Image(path: imagePath)
        try image.read(path) { chunk in FileHandle.standardOutput.write(chunk) }
        return 0
    })
