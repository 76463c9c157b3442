# The newcomer path: `make demo` and `make test` on a fresh Debian machine. Both install what
# they need first (deploy/dev-setup.sh, idempotent).
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: setup demo test lint bench fmt bench-qr bench-gateway

setup:
	@bash deploy/dev-setup.sh

demo: setup
	$(CARGO) run -p kiosk-app -- demo

test: setup
	$(CARGO) test --workspace

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: setup bench-qr bench-gateway bench-card
	$(CARGO) bench --workspace

# QR engines vs zbarimg on generated kiosk frames (release build with zxing-cpp); writes the qr
# section of docs/benchmarks.md.
QR_BENCH_DIR ?= $(or $(CARGO_TARGET_DIR),target)/qr-bench
bench-qr: setup
	$(CARGO) run --release -p kiosk-app --features zxing -- qr bench $(QR_BENCH_DIR) --write docs/benchmarks.md

# Gateway registrations per second over mTLS on loopback (release build); writes its section of
# docs/benchmarks.md.
bench-gateway: setup
	$(CARGO) run --release -p kiosk-gateway -- bench --output docs/benchmarks.md

# A full verified card read against the in-process virtual chip (release build): APDUs, bytes, our
# CPU per phase and the time under a contactless-reader model; writes the card section of
# docs/benchmarks.md.
.PHONY: bench-card
bench-card: setup
	$(CARGO) bench -p kiosk-tests --bench card_read
