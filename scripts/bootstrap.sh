#!/usr/bin/env bash
# Idempotent set-up for a fresh machine that has only Node 20, npm and (as root) apt:
#   1. pnpm at the version pinned in package.json;
#   2. a Vulkan driver for WebGPU: when the machine has no Vulkan driver, Mesa lavapipe (software) from
#      Debian backports, so the WebGPU backend runs everywhere (skip with FAIRCLIP_SKIP_VULKAN=1);
#   3. workspace dependencies (pnpm install from the lockfile) and the build (turbo, cached).
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "bootstrap: installing pnpm@$PNPM_VERSION"
  npm install -g --no-fund --no-audit "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || {
    echo "bootstrap: 'npm install -g pnpm@$PNPM_VERSION' failed; run it with the rights to install global packages" >&2
    exit 1
  }
fi

has_vulkan_driver() {
  ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1' || return 1
  ls /usr/share/vulkan/icd.d/*.json /etc/vulkan/icd.d/*.json /usr/local/share/vulkan/icd.d/*.json >/dev/null 2>&1
}
if [ "${FAIRCLIP_SKIP_VULKAN:-}" != "1" ] && ! has_vulkan_driver; then
  if command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" = "0" ] || command -v sudo >/dev/null 2>&1; }; then
    echo "bootstrap: no Vulkan driver found; installing Mesa lavapipe (software Vulkan) for WebGPU"
    bash scripts/install-software-vulkan.sh || echo "bootstrap: warning: software Vulkan install failed; WebGPU will be unavailable (wasm/cpu still work)" >&2
  else
    echo "bootstrap: no Vulkan driver and no apt-get: WebGPU will be unavailable (wasm/cpu still work)" >&2
  fi
fi

if [ -f pnpm-lock.yaml ]; then
  pnpm install --frozen-lockfile --prefer-offline --reporter=silent
else
  pnpm install --reporter=silent
fi
pnpm exec turbo run build --output-logs=errors-only
