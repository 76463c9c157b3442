# The newcomer path: `make demo` and `make test` on a fresh Debian machine. Both install what
# they need first (deploy/dev-setup.sh, idempotent).
CARGO ?= cargo
export CARGO_TERM_COLOR ?= never

.PHONY: setup demo test lint bench fmt bench-qr bench-gateway

setup:
	@bash deploy/dev-setup.sh

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)

# Until the kiosk UI lands: a virtual citizen's card read and verified through real pcscd, then a
# cloned chip that must be refused.
demo: setup
	$(CARGO) build -p kiosk-app -p kiosk-tests --bins
	$(TARGET_DIR)/debug/demo-card $(TARGET_DIR)/debug/kiosk

test: setup
	$(CARGO) test --workspace

lint: setup
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

bench: setup bench-qr bench-gateway
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
