#!/usr/bin/env bash
# Seeds fuzz/corpus/render from the differential fixtures: each fixture's top-level .tf files
# concatenated, then a NUL byte and its terraform.tfvars when it has one.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fixtures="$here/../tests/render"
corpus="$here/corpus/render"
mkdir -p "$corpus"
seeded=0
for dir in "$fixtures"/*/; do
    name="$(basename "$dir")"
    shopt -s nullglob
    tf_files=("$dir"*.tf)
    shopt -u nullglob
    [ "${#tf_files[@]}" -gt 0 ] || continue
    {
        cat "${tf_files[@]}"
        if [ -f "$dir/terraform.tfvars" ]; then
            printf '\0'
            cat "$dir/terraform.tfvars"
        fi
    } > "$corpus/$name"
    seeded=$((seeded + 1))
done
echo "seeded $seeded fixtures into $corpus"
