#!/usr/bin/env bash
# Installs Mesa lavapipe (a software Vulkan driver) from Debian bookworm-backports so that Dawn/WebGPU
# runs on machines without a GPU. Debian 12's own Mesa (22.3) is rejected by Dawn; Mesa 25 from
# bookworm-backports works. The backports source reuses the mirror already configured for Debian.
# Idempotent: does nothing when lavapipe's ICD file is already present.
# After it: export VK_ICD_FILENAMES=/usr/share/vulkan/icd.d/lvp_icd.json
set -euo pipefail
ICD=/usr/share/vulkan/icd.d/lvp_icd.json
if [ -f "$ICD" ] && ldconfig -p 2>/dev/null | grep -q libvulkan.so.1 && [ "${FORCE_VULKAN_INSTALL:-}" != "1" ]; then
  echo "software-vulkan: already installed ($ICD)"
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  SUDO=sudo
else
  SUDO=""
fi
export DEBIAN_FRONTEND=noninteractive
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
if ! grep -rqs "${codename}-backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  mirror=""
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
  fi
  if [ -z "$mirror" ] && [ -f /etc/apt/sources.list ]; then
    mirror=$(awk '$1=="deb" && $3 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$mirror" ] || { echo "software-vulkan: no Debian mirror found in apt sources" >&2; exit 1; }
  printf 'Types: deb\nURIs: %s\nSuites: %s-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$mirror" "$codename" | $SUDO tee /etc/apt/sources.list.d/backports.sources >/dev/null
fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq -t "${codename}-backports" mesa-vulkan-drivers libvulkan1 >/dev/null
test -f "$ICD" && echo "software-vulkan: lavapipe ready (VK_ICD_FILENAMES=$ICD)"
