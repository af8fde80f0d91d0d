// swift-tools-version:6.0
import PackageDescription

/// A system library found through pkg-config, with the Debian package that provides it.
func systemLibrary(_ name: String, pkgConfig: String, debian: String) -> Target {
    .systemLibrary(name: name, pkgConfig: pkgConfig, providers: [.apt([debian])])
}

let package = Package(
    name: "kfc",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "kfc-image", targets: ["kfc-image"]),
        .executable(name: "kfc-provision", targets: ["kfc-provision"]),
    ],
    targets: [
        // C libraries from Debian, one module map each.
        systemLibrary("CArchive", pkgConfig: "libarchive", debian: "libarchive-dev"),
        systemLibrary("CExt2fs", pkgConfig: "ext2fs", debian: "libext2fs-dev"),
        systemLibrary("CYAML", pkgConfig: "yaml-0.1", debian: "libyaml-dev"),
        systemLibrary("CCurl", pkgConfig: "libcurl", debian: "libcurl4-openssl-dev"),
        systemLibrary("CCrypto", pkgConfig: "libcrypto", debian: "libssl-dev"),

        // One library per pipeline stage.
        .target(name: "KFCCore", dependencies: ["CCrypto"]),
        .target(name: "Recipes", dependencies: ["CYAML", "KFCCore"]),
        .target(name: "Fetching", dependencies: ["CCurl", "KFCCore"]),
        .target(name: "Archives", dependencies: ["CArchive", "KFCCore"]),
        .target(name: "Chroot", dependencies: ["KFCCore"]),
        .target(name: "Ext4", dependencies: ["CExt2fs", "Archives", "KFCCore"]),
        .target(name: "Kernels", dependencies: ["Archives", "KFCCore"]),
        .target(name: "Stores", dependencies: ["KFCCore"]),
        .target(name: "VMM", dependencies: ["CCurl", "Ext4", "Kernels", "KFCCore"]),
        .target(
            name: "Builder",
            dependencies: [
                "Recipes", "Fetching", "Archives", "Chroot", "Ext4", "Kernels", "Stores", "VMM",
                "KFCCore",
            ]),
        .target(name: "Provisioning", dependencies: ["Recipes", "KFCCore"]),

        // Thin executables.
        .executableTarget(
            name: "kfc-image",
            dependencies: ["Builder", "Ext4", "Kernels", "Stores", "VMM", "Recipes", "KFCCore"]),
        .executableTarget(name: "kfc-provision", dependencies: ["Provisioning", "KFCCore"]),

        // Shared helpers for the test targets: fixtures, temporary folders, tool checks.
        .target(name: "TestSupport", dependencies: ["KFCCore"]),
        .testTarget(name: "KFCCoreTests", dependencies: ["KFCCore", "TestSupport"]),
        .testTarget(name: "RecipesTests", dependencies: ["Recipes", "TestSupport"]),
        .testTarget(name: "FetchingTests", dependencies: ["Fetching", "TestSupport"]),
        .testTarget(name: "ArchivesTests", dependencies: ["Archives", "TestSupport"]),
        .testTarget(name: "ChrootTests", dependencies: ["Chroot", "Archives", "TestSupport"]),
        .testTarget(name: "Ext4Tests", dependencies: ["Ext4", "Archives", "TestSupport"]),
        .testTarget(name: "KernelsTests", dependencies: ["Kernels", "TestSupport"]),
        .testTarget(name: "StoresTests", dependencies: ["Stores", "TestSupport"]),
        .testTarget(name: "VMMTests", dependencies: ["VMM", "Ext4", "Archives", "TestSupport"]),
        .testTarget(
            name: "BuilderTests",
            dependencies: ["Builder", "Stores", "Archives", "VMM", "TestSupport"]),
        .testTarget(name: "ProvisioningTests", dependencies: ["Provisioning", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
