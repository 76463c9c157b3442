#!/usr/bin/env bash
# Install every system package the build, the tests and the demo need. Idempotent: packages that
# are already present are not touched, so a second run costs about a second.
set -euo pipefail

packages=(
  build-essential pkg-config   # C toolchain for -sys crates
  libpcsclite-dev              # pcsc crate
  pcscd vsmartcard-vpcd        # the card rig: real pcscd with a virtual reader
  cmake g++                    # zxing-cpp (bundled C++ build)
  libclang-dev                 # nokhwa's V4L bindings (bindgen)
  libfontconfig-dev            # slint (winit backend)
  libx11-xcb1 libxcursor1 libxi6 libxkbcommon-x11-0  # the kiosk window (winit loads them at run time)
  zbar-tools                   # zbarimg: the outside reference in the QR benchmark
  procps iproute2              # pkill/ss used by the rig scripts
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "dev-setup: all system packages present" >&2
  exit 0
fi

sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "dev-setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "dev-setup: done" >&2
