#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for building and testing MemScope:
# Debian: chromium (renderer e2e), llvm-14 (llvm-pdbutil, the independent PDB reference), xz-utils,
# qemu-system-x86 + linux-image-amd64 + busybox-static + binutils (real x64 page tables from a booted guest);
# npm: the locked dependencies (Electron's binary download is skipped: only its types are used here).
set -u
cd "$(dirname "$0")/.."
export ELECTRON_SKIP_BINARY_DOWNLOAD=1
export DEBIAN_FRONTEND=noninteractive
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v xz >/dev/null 2>&1 || need+=(xz-utils)
[ -x /usr/lib/llvm-14/bin/llvm-pdbutil ] || need+=(llvm-14)
# QEMU real-bytes translation test (main/engine/translate/qemu-real.test.ts): qemu, a kernel in /boot, static busybox, readelf
command -v qemu-system-x86_64 >/dev/null 2>&1 || need+=(qemu-system-x86)
ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)
dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || need+=(busybox-static)
command -v readelf >/dev/null 2>&1 || need+=(binutils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
  else
    SUDO="sudo"
  fi
  echo "setup: installing ${need[*]} from Debian"
  ($SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}") >/tmp/memscope-apt.log 2>&1 \
    || { echo "setup: apt-get install ${need[*]} failed (log: /tmp/memscope-apt.log); tests needing them will fail"; tail -5 /tmp/memscope-apt.log; }
fi
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund || { echo "setup: npm ci failed"; exit 1; }
fi
