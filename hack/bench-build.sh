#!/usr/bin/env bash
# make bench-build: kiln build of the control-plane profile (warm artifacts, raw output) against
# its floor measured in the same run on the same tree: mksquashfs of the root plus writing the
# same partitions with host tools (sgdisk, mkfs.vfat + mcopy, dd). Median of RUNS (default 3)
# and the ratio. It prints; it never fails on timing.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${RUNS:-3}
PROFILE=${PROFILE:-profiles/control-plane.yaml}
work=$(mktemp -d "${TMPDIR:-/tmp}/kiln-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
now() { date +%s.%N; }

echo "bench-build: $PROFILE, $RUNS runs each, $(nproc) cores"
kiln_times=()
for i in $(seq "$RUNS"); do
  rm -rf "$work/out"
  t0=$(now)
  bin/kiln build --quiet --profile "$PROFILE" --out "$work/out" --format raw
  kiln_times+=("$(echo "$(now) - $t0" | bc)")
done
raw=$(ls "$work"/out/*.raw)

# The floor's inputs, taken from the image just built (not timed): the root tree, the ESP files.
root_start=$(sgdisk -i 2 "$raw" | awk '/First sector/ {print $3}')
esp_start=$(sgdisk -i 1 "$raw" | awk '/First sector/ {print $3}')
esp_sectors=$(( $(sgdisk -i 1 "$raw" | awk '/Last sector/ {print $3}') - esp_start + 1 ))
unsquashfs -q -no-progress -o $((root_start * 512)) -d "$work/tree" "$raw" >/dev/null
dd if="$raw" of="$work/esp.img" bs=512 skip="$esp_start" count="$esp_sectors" status=none
mkdir "$work/espfiles"
mcopy -s -i "$work/esp.img" ::/ "$work/espfiles/"
var_mib=$(( $(sgdisk -i 3 "$raw" | awk '/Partition size/ {print $3}') / 2048 ))
esp_mib=$(( esp_sectors / 2048 ))

floor_times=()
for i in $(seq "$RUNS"); do
  rm -f "$work/floor.squashfs" "$work/floor.raw" "$work/floor-esp.img"
  t0=$(now)
  env -u SOURCE_DATE_EPOCH mksquashfs "$work/tree" "$work/floor.squashfs" -noappend -comp zstd -reproducible \
    -mkfs-time 0 -all-time 0 -no-progress -quiet -processors 2 >/dev/null
  root_mib=$(( ($(stat -c %s "$work/floor.squashfs") + 1048575) / 1048576 ))
  truncate -s $(( (2 + esp_mib + root_mib + var_mib) * 1048576 )) "$work/floor.raw"
  sgdisk -q -n 1:2048:+${esp_mib}M -t 1:ef00 -c 1:ESP -n 2:0:+${root_mib}M -t 2:8304 -c 2:KILN-ROOT \
    -n 3:0:+${var_mib}M -t 3:8310 -c 3:KILN-VAR "$work/floor.raw" >/dev/null
  truncate -s ${esp_mib}M "$work/floor-esp.img"
  mkfs.vfat -F 32 -n KILN-ESP "$work/floor-esp.img" >/dev/null
  mcopy -s -i "$work/floor-esp.img" "$work"/espfiles/* ::/
  dd if="$work/floor-esp.img" of="$work/floor.raw" bs=1M seek=1 conv=notrunc,sparse status=none
  dd if="$work/floor.squashfs" of="$work/floor.raw" bs=1M seek=$((1 + esp_mib)) conv=notrunc status=none
  sync -f "$work/floor.raw"
  floor_times+=("$(echo "$(now) - $t0" | bc)")
done

k=$(printf '%s\n' "${kiln_times[@]}" | median)
f=$(printf '%s\n' "${floor_times[@]}" | median)
printf '\n%-28s %10s   %s\n' "" "median (s)" "runs (s)"
printf '%-28s %10.1f   %s\n' "kiln build (raw)" "$k" "$(printf '%.1f ' "${kiln_times[@]}")"
printf '%-28s %10.1f   %s\n' "floor (mksquashfs + tools)" "$f" "$(printf '%.1f ' "${floor_times[@]}")"
printf '%-28s %10.2f\n' "ratio kiln / floor" "$(echo "$k / $f" | bc -l)"
