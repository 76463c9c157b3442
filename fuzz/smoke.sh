#!/usr/bin/env bash
# Short fuzz run of every target, for `make test` (default 10 s each) and `make bench` (longer).
# Needs `cargo install cargo-fuzz`; works on the stable toolchain through RUSTC_BOOTSTRAP=1 with
# the sanitizer off (`-s none`: the crate forbids unsafe code, so the address sanitizer would
# find nothing the Rust checks do not). New corpus entries go to a temporary directory; the
# seeds in fuzz/seeds/ are only read. Exits non-zero on the first crash, leaving the input in
# fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")"
seconds="${1:-10}"
targets=(tlv com dg1 dg2 dg13 sod pa_spki pa_trust pa_sod dg14 dg15 card_access apdu sm_terminal sm_chip
    qr_payload api_request api_answer gateway_config)
export RUSTC_BOOTSTRAP=1
cargo fuzz build -s none
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for t in "${targets[@]}"; do
    mkdir -p "$work/$t"
    echo "fuzz $t for ${seconds}s" >&2
    rc=0
    cargo fuzz run -s none "$t" "$work/$t" "seeds/$t" -- \
        -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 >"$work/$t.log" 2>&1 || rc=$?
    grep -E "^(stat::number_of_executed_units|Done)" "$work/$t.log" >&2 || true
    if [ "$rc" -ne 0 ]; then
        tail -n 40 "$work/$t.log" >&2
        echo "fuzz target $t failed (exit $rc)" >&2
        exit 1
    fi
done
echo "fuzz smoke: ${#targets[@]} passed, 0 failed"
