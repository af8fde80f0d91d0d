#!/usr/bin/env bash
# Installs the Debian 12 packages kfc builds against and its tests run, then builds kfc.
# The Swift toolchain (6.0 or later, with swift on PATH) is expected to be installed already.
set -euo pipefail

packages=(
    # C libraries linked through pkg-config
    pkg-config libarchive-dev libext2fs-dev comerr-dev libyaml-dev libcurl4-openssl-dev
    libssl-dev
    # tools the pipeline and its tests run
    e2fsprogs util-linux mount iproute2 nftables kmod tar gzip xz-utils zstd python3
    qemu-system-x86 zfs-fuse btrfs-progs openssh-client time
)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done

if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    sudo_prefix=()
    [[ $(id -u) -eq 0 ]] || sudo_prefix=(sudo)
    "${sudo_prefix[@]}" apt-get update -q
    DEBIAN_FRONTEND=noninteractive "${sudo_prefix[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

command -v swift >/dev/null || {
    echo "error: swift not found on PATH; install the Swift 6 toolchain for Debian 12 first" >&2
    exit 1
}
