#!/usr/bin/env bash
# Compares `kfc-image mkfs` with `mke2fs -d` on the same trees, features and size.
#
# Usage: bench/ext4/run.sh [RUNS]
#
# Trees: the Alpine 3.20.3 minirootfs (from the fixture folder, $KFC_FIXTURES or
# ../shared/fixtures beside the package) and a generated tree of 50,000 files and about
# 1 GiB (make-tree.py). For each tree, kfc-image first writes an automatically sized image.
# mke2fs then writes the same tree into an image with exactly that block and inode count,
# the same feature list and UUID, its fastest options (lazy inode table and journal
# initialisation, no discard) and no /etc/mke2fs.conf.
#
# Each tool runs RUNS times (default 3), alternating. The script prints the median wall
# time, the largest peak RSS (GNU time) and the ratio kfc/mke2fs. kfc_derived_s is
# kfc-image without --uuid, which also hashes all content to derive the UUID. Both images
# are checked with `e2fsck -fn`. The last line is the median start-up time of
# `kfc-image --help`, which every kfc_s includes because the executable links libcurl,
# libarchive, libyaml and Foundation.
#
# Needs: root (to unpack the Alpine tree with its owners), swift, python3, e2fsprogs and
# GNU time (`apt-get install time`).
set -euo pipefail

runs=${1:-3}
here=$(cd "$(dirname "$0")" && pwd)
package=$(cd "$here/../.." && pwd)
fixtures=${KFC_FIXTURES:-$package/../shared/fixtures}
alpine=$fixtures/alpine-minirootfs-3.20.3-x86_64.tar.gz
# The writer's default feature list (Ext4Options.defaultFeatures).
features=has_journal,ext_attr,dir_index,filetype,extent,flex_bg,sparse_super,large_file
features+=,huge_file,dir_nlink,extra_isize,64bit,metadata_csum
uuid=0f3c2a9e-8d1b-4c6e-9a7f-5b2d1e0c4a38
epoch=1700000000

for tool in /usr/bin/time mke2fs e2fsck dumpe2fs python3 tar; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is missing" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kfc-bench-ext4-XXXXXX")
# The build folder; the default keeps builds between runs.
build=${KFC_BUILD:-$package/.build}
trap 'rm -rf "$work"' EXIT

# KFC_STATIC_STDLIB=0 links the Swift runtime as shared libraries, which adds about 8 ms of
# start-up to every kfc-image run on the machine of README.md.
static=()
if [ "${KFC_STATIC_STDLIB:-1}" != 0 ]; then
    static=(--static-swift-stdlib)
    build=$build-static
fi
echo "building kfc-image (release ${static[*]:-with the shared Swift runtime})..." >&2
swift build -c release "${static[@]}" --package-path "$package" --scratch-path "$build" \
    --product kfc-image >/dev/null
kfc=$build/release/kfc-image

mkdir "$work/alpine" "$work/generated"
tar -xpzf "$alpine" -C "$work/alpine" --numeric-owner
python3 "$here/make-tree.py" "$work/generated" 50000 1024

# Runs "$@" under GNU time and prints "SECONDS KILOBYTES". The wall time comes from `date`
# in nanoseconds because GNU time rounds to 10 ms, and the peak RSS from GNU time.
measure() {
    local start end
    start=$(date +%s%N)
    /usr/bin/time -f "%M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/stderr.txt" \
        || { cat "$work/stderr.txt" >&2; exit 1; }
    end=$(date +%s%N)
    awk -v ns=$((end - start)) -v kb="$(cat "$work/time.txt")" \
        'BEGIN { printf "%.3f %d\n", ns / 1e9, kb }'
}

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
largest() { sort -n | tail -1; }

printf '%-10s %7s %7s %15s %9s %11s %14s %6s\n' tree files kfc_s kfc_derived_s mke2fs_s \
    kfc_rss_mb mke2fs_rss_mb ratio
for tree in alpine generated; do
    source=$work/$tree
    files=$(find "$source" -mindepth 1 | wc -l)
    # Read the tree once so both tools start from a warm page cache.
    tar -cf - -C "$source" . >/dev/null
    : >"$work/kfc.txt"
    : >"$work/mke2fs.txt"
    : >"$work/derived.txt"
    for _ in $(seq "$runs"); do
        rm -f "$work/kfc.ext4" "$work/mke2fs.ext4" "$work/derived.ext4"
        measure "$kfc" mkfs "$source" "$work/derived.ext4" --epoch "$epoch" >>"$work/derived.txt"
        measure "$kfc" mkfs "$source" "$work/kfc.ext4" --epoch "$epoch" --uuid "$uuid" \
            >>"$work/kfc.txt"
        blocks=$(( $(stat -c %s "$work/kfc.ext4") / 4096 ))
        inodes=$(dumpe2fs -h "$work/kfc.ext4" 2>/dev/null \
            | awk -F: '/^Inode count/ { print $2 + 0 }')
        MKE2FS_CONFIG=/dev/null E2FSPROGS_FAKE_TIME=$epoch measure mke2fs -q -F -t ext4 \
            -b 4096 -I 256 -N "$inodes" -m 0 -O "none,$features" -U "$uuid" \
            -E lazy_itable_init=1,lazy_journal_init=1,nodiscard \
            -d "$source" "$work/mke2fs.ext4" "$blocks" >>"$work/mke2fs.txt"
    done
    for image in kfc mke2fs; do
        e2fsck -fn "$work/$image.ext4" >/dev/null 2>&1 \
            || { echo "run.sh: e2fsck found problems in the $image image" >&2; exit 1; }
    done
    kfc_s=$(cut -d' ' -f1 "$work/kfc.txt" | median)
    mke2fs_s=$(cut -d' ' -f1 "$work/mke2fs.txt" | median)
    derived_s=$(cut -d' ' -f1 "$work/derived.txt" | median)
    kfc_mb=$(cut -d' ' -f2 "$work/kfc.txt" | largest | awk '{ printf "%.1f", $1 / 1024 }')
    mke2fs_mb=$(cut -d' ' -f2 "$work/mke2fs.txt" | largest | awk '{ printf "%.1f", $1 / 1024 }')
    ratio=$(awk -v a="$kfc_s" -v b="$mke2fs_s" 'BEGIN { printf "%.2f", a / b }')
    printf '%-10s %7s %7s %15s %9s %11s %14s %6s\n' "$tree" "$files" "$kfc_s" "$derived_s" \
        "$mke2fs_s" "$kfc_mb" "$mke2fs_mb" "$ratio"
done
: >"$work/help.txt"
for _ in $(seq "$runs"); do measure "$kfc" --help >>"$work/help.txt"; done
echo "kfc-image start-up (--help): $(cut -d' ' -f1 "$work/help.txt" | median) s"
