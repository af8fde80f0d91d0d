#!/usr/bin/env bash
# Builds a versioned golden image, checks it, rebuilds it to compare the bytes, publishes
# its send stream and manifest as artifacts, and promotes it to a channel. CI systems run
# this job; it also runs locally against a directory store.
#
# Usage: ci/golden-image.sh RECIPE
#
# Environment (all optional):
#   KFC_IMAGE         the kfc-image binary (default: kfc-image on PATH)
#   KFC_STORE         the store spec (default: kfc-image's own default)
#   KFC_ARTIFACTS     folder for the artifacts (default: ./artifacts)
#   KFC_CHANNEL       channel to promote to (default: candidate)
#   KFC_DARKSITE      folder of inputs looked up by file name before downloading
#   KFC_KERNEL        guest kernel file used instead of the recipe's
#   KFC_VERIFY        1 to boot-test the version and promote only a passing one
#
# Artifacts, each written under a temporary name and renamed when complete:
#   NAME@VERSION.manifest.json   the manifest as `kfc-image show --json` prints it
#   NAME@VERSION.stream          a full `kfc-image send` stream
#   NAME@VERSION.from-OLDER.stream  an incremental stream from the previous version
#   NAME@VERSION.checks.txt      the e2fsck, digest and kernel check output
#   SHA256SUMS                   digests of the artifacts of this run
set -euo pipefail

recipe=${1:?usage: ci/golden-image.sh RECIPE}
kfc=${KFC_IMAGE:-kfc-image}
artifacts=${KFC_ARTIFACTS:-artifacts}
channel=${KFC_CHANNEL:-candidate}

store_args=()
[[ -n ${KFC_STORE:-} ]] && store_args=(--store "$KFC_STORE")
build_args=("${store_args[@]}")
[[ -n ${KFC_DARKSITE:-} ]] && build_args+=(--darksite "$KFC_DARKSITE")
[[ -n ${KFC_KERNEL:-} ]] && build_args+=(--kernel "$KFC_KERNEL")

step() { printf '== %s\n' "$*" >&2; }

# Reads one field of the manifest JSON file $1 by a Python expression $2 over `m`.
field() { python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

partial=()
cleanup() { if [[ ${#partial[@]} -gt 0 ]]; then rm -f -- "${partial[@]}"; fi; }
trap cleanup EXIT

mkdir -p "$artifacts"

step "build $recipe"
reference=$("$kfc" build "$recipe" "${build_args[@]}")
name=${reference%@*}
version=${reference#*@}
step "built $reference"

manifest="$artifacts/$reference.manifest.json"
partial+=("$manifest.tmp")
"$kfc" show "$reference" --json "${store_args[@]}" > "$manifest.tmp"
image=$(field "$manifest.tmp" 'm["image"]["path"]')
image_sha=$(field "$manifest.tmp" 'm["image"]["sha256"]')
kernel=$(field "$manifest.tmp" '(m.get("kernel") or {}).get("path", "")')

step "check $reference"
checks="$artifacts/$reference.checks.txt"
partial+=("$checks.tmp")
{
    echo "# e2fsck -fn $image"
    e2fsck -fn "$image" 2>&1
    echo "# sha256 of the image"
    actual=$(sha256sum "$image" | cut -d' ' -f1)
    echo "$actual (manifest: $image_sha)"
    [[ $actual == "${image_sha#sha256:}" ]] || { echo "image digest mismatch"; exit 1; }
    if [[ -n $kernel ]]; then
        echo "# kfc-image kernel check $kernel"
        "$kfc" kernel check "$kernel"
    fi
} > "$checks.tmp"

# Only a version whose recorded inputs give the same bytes again is worth promoting;
# rebuild exits 1 when the digests differ, which stops this job before the promotion.
step "rebuild $reference"
rebuild_args=("${store_args[@]}")
[[ -n ${KFC_DARKSITE:-} ]] && rebuild_args+=(--darksite "$KFC_DARKSITE")
"$kfc" rebuild "$reference" "${rebuild_args[@]}" >> "$checks.tmp"

if [[ ${KFC_VERIFY:-0} == 1 ]]; then
    step "verify $reference"
    "$kfc" verify "$reference" "${store_args[@]}" >> "$checks.tmp"
    "$kfc" show "$reference" --json "${store_args[@]}" > "$manifest.tmp"
fi

step "send $reference"
stream="$artifacts/$reference.stream"
partial+=("$stream.tmp")
"$kfc" send "$reference" "${store_args[@]}" > "$stream.tmp"
previous=$("$kfc" list "$name" --json "${store_args[@]}" | python3 -c '
import json, sys
versions = [v["version"] for v in json.load(sys.stdin)["versions"]]
current = sys.argv[1]
older = versions[:versions.index(current)] if current in versions else []
print(older[-1] if older else "")' "$version")
outputs=("$manifest" "$checks" "$stream")
if [[ -n $previous ]]; then
    delta="$artifacts/$reference.from-$previous.stream"
    partial+=("$delta.tmp")
    "$kfc" send "$reference" --from "$previous" "${store_args[@]}" > "$delta.tmp"
    outputs+=("$delta")
fi
for output in "${outputs[@]}"; do mv -- "$output.tmp" "$output"; done
partial=()
(cd "$artifacts" && sha256sum -- "${outputs[@]##*/}") > "$artifacts/SHA256SUMS"

step "promote $reference to $channel"
promote_args=("${store_args[@]}")
[[ ${KFC_VERIFY:-0} == 1 ]] && promote_args+=(--require-verified)
"$kfc" promote "$reference" "$channel" "${promote_args[@]}"

echo "$reference"
