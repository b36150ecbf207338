#!/usr/bin/env bash
# Makes sure a headless Chromium is installed for the browser tests (test/harness/chromium.ts):
# Debian's `chromium` package, never a browser download of playwright's own (these machines
# cannot fetch one). Prints the executable's path on success. Exit 0: installed (or already
# there); exit 1: it cannot be installed here, with the reason on stderr.
set -uo pipefail

find_chromium() {
  for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/lib/chromium/chromium /usr/bin/chromium-browser; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
  done
  return 1
}

if path="$(find_chromium)"; then echo "$path"; exit 0; fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is not installed and this machine has no apt-get to install it (set CHROMIUM_PATH to a Chromium binary)" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  as_root="sudo -n"
else
  echo "chromium is not installed, and installing it needs root (not root, and no password-less sudo): run 'apt-get install chromium' as root" >&2
  exit 1
fi

echo "installing chromium from Debian packages (for the browser tests)" >&2
# Another apt-get may hold the lock for a while (CI installs PostgreSQL the same way).
if ! $as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq >/dev/null 2>&1; then
  echo "apt-get update failed; trying to install from the package lists already on the machine" >&2
fi
if ! $as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq chromium >/dev/null 2>&1; then
  echo "apt-get install chromium failed (no network to Debian's mirrors, or no such package here)" >&2
  exit 1
fi
if path="$(find_chromium)"; then echo "$path"; exit 0; fi
echo "apt-get installed chromium, but no chromium binary was found afterwards" >&2
exit 1
