# The newcomer path: `make demo` and `make test` on a fresh Debian machine. Both install what
# they need first (deploy/dev-setup.sh, idempotent).
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

.PHONY: setup demo demo-card test lint check-lint fuzz-smoke fuzz-long bench fmt bench-card bench-pa bench-qr bench-outbox bench-gateway bench-ui

setup:
	@bash deploy/dev-setup.sh

# The kiosk in a window on the demo world: the reference gateway in-process (SQLite in a temporary
# folder), the virtual card on the in-process transport and sample QR images, driven from the demo
# panel beside the kiosk screen. Without a display: `kiosk demo --headless` (JSON lines).
demo: setup
	$(CARGO) build -p kiosk-app
	$(TARGET_DIR)/debug/kiosk demo

# A virtual citizen's card read and verified through real pcscd, then a cloned chip refused.
demo-card: setup
	$(CARGO) build -p kiosk-app -p kiosk-tests --bins
	$(TARGET_DIR)/debug/demo-card $(TARGET_DIR)/debug/kiosk

# Lint first (fails fast), then every test, then a short run of every fuzz target.
test: setup check-lint
	$(CARGO) test --workspace --no-fail-fast
	$(MAKE) --no-print-directory fuzz-smoke

lint: setup check-lint

check-lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

# cargo-fuzz on the stable toolchain (see fuzz/README.md); its build stays in the target dir.
FUZZ_SECONDS ?= 5
CARGO_FUZZ_VERSION := 0.13.2
fuzz-smoke:
	@cargo fuzz --version 2>/dev/null | grep -q '$(CARGO_FUZZ_VERSION)' || \
		$(CARGO) install cargo-fuzz --version $(CARGO_FUZZ_VERSION) --locked
	CARGO_TARGET_DIR=$(abspath $(TARGET_DIR))/fuzz bash fuzz/smoke.sh $(FUZZ_SECONDS)

fmt:
	$(CARGO) fmt --all

bench: setup bench-card bench-pa bench-qr bench-outbox bench-gateway bench-ui fuzz-long

# Signature verification and certificate chains of passive authentication (release build).
bench-pa: setup
	$(CARGO) bench -p kiosk-card --bench pa

# Every fuzz target for a minute.
fuzz-long:
	$(MAKE) --no-print-directory fuzz-smoke FUZZ_SECONDS=60

# QR engines vs zbarimg on generated kiosk frames (release build with zxing-cpp); writes the qr
# section of docs/benchmarks.md.
QR_BENCH_DIR ?= $(or $(CARGO_TARGET_DIR),target)/qr-bench
bench-qr: setup
	$(CARGO) run --release -p kiosk-app --features zxing -- qr bench $(QR_BENCH_DIR) --write docs/benchmarks.md

# Outbox: durable enqueue latency, drain throughput to the gateway, recovery of a 100,000-record
# store (release build; writes the outbox section of docs/benchmarks.md), then the long crash
# series (SIGKILL at random moments, 200 times).
bench-outbox: setup
	$(CARGO) run --release -p kiosk-tests --bin outbox_bench -- --write docs/benchmarks.md
	KIOSK_CRASH_ROUNDS=200 $(CARGO) test --release -p kiosk-tests --test outbox_crash -- --nocapture

# Gateway registrations per second over mTLS on loopback (release build); writes its section of
# docs/benchmarks.md.
bench-gateway: setup
	$(CARGO) run --release -p kiosk-gateway -- bench --output docs/benchmarks.md

# A full verified card read against the in-process virtual chip (release build): APDUs, bytes, our
# CPU per phase and the time under a contactless-reader model; writes the card section of
# docs/benchmarks.md.
bench-card: setup
	$(CARGO) bench -p kiosk-tests --bench card_read

# The UI with the software renderer (release build): start-up to the first frame, resident memory
# idle and over 100 sessions, frame times of the busiest screens; writes the ui section of
# docs/benchmarks.md.
bench-ui: setup
	$(CARGO) run --release -p kiosk-ui --bin ui_bench -- --write docs/benchmarks.md
