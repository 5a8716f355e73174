#!/usr/bin/env bash
# Builds the Bolero guest kernel: an uncompressed, PVH-bootable vmlinux with everything a microVM needs built in
# (no modules), from Debian's linux-source-6.1 package and guest/kernel/microvm.config. Run as root.
#
#   scripts/build-kernel.sh               build unless cached, then print the vmlinux path
#   scripts/build-kernel.sh --print-path  print the cached vmlinux path without building; exit 1 if it is not built
#
# The result is cached in $BOLERO_KERNEL_CACHE (default /var/cache/bolero/kernel)/<key>/vmlinux, where the key hashes
# the fragment, RECIPE and the source package's version, so a second run returns at once. <cache>/current points
# at the newest build: the runtime boots $BOLERO_KERNEL_CACHE/current/vmlinux when it exists (see README).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CACHE=${BOLERO_KERNEL_CACHE:-/var/cache/bolero/kernel}
FRAGMENT="$BOLERO_HOME/guest/kernel/microvm.config"
SOURCE_PACKAGE=linux-source-6.1
# Bump when the build steps below change what they produce (the key then changes, and the kernel is rebuilt).
RECIPE=1
BUILD_PACKAGES=("$SOURCE_PACKAGE" make gcc flex bison bc libelf-dev libssl-dev xz-utils binutils)

mode=build
case "${1:-}" in
  "") ;;
  --print-path) mode=print ;;
  *) echo "usage: $0 [--print-path]" >&2; exit 2 ;;
esac

source_version() { dpkg-query -W -f='${Version}' "$SOURCE_PACKAGE" 2>/dev/null || true; }

cache_key() {
  { printf '%s\n' "$SOURCE_PACKAGE $1 recipe $RECIPE"; cat "$FRAGMENT"; } | sha256sum | cut -c1-16
}

version=$(source_version)
if [[ $mode == print ]]; then
  if [[ -n $version && -f "$CACHE/$(cache_key "$version")/vmlinux" ]]; then
    echo "$CACHE/$(cache_key "$version")/vmlinux"
    exit 0
  fi
  echo "the Bolero guest kernel is not built (run scripts/build-kernel.sh)" >&2
  exit 1
fi

install_missing "${BUILD_PACKAGES[@]}"
version=$(source_version)
key=$(cache_key "$version")
target="$CACHE/$key"
mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9 # one build at a time; a second caller waits, then finds the result

if [[ ! -f "$target/vmlinux" ]]; then
  work=$(mktemp -d "$CACHE/.build-$key.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  log="$CACHE/build-$key.log" # kept beside the cache, also when the build fails
  echo "building the Bolero guest kernel from $SOURCE_PACKAGE $version (log: $log)" >&2
  tar -xf "/usr/src/$SOURCE_PACKAGE.tar.xz" -C "$work"
  src="$work/$SOURCE_PACKAGE"
  start=$SECONDS
  {
    make -C "$src" ARCH=x86_64 allnoconfig
    "$src/scripts/kconfig/merge_config.sh" -m -O "$src" "$src/.config" "$FRAGMENT"
    make -C "$src" ARCH=x86_64 olddefconfig
  } >"$log" 2>&1 || { tail -20 "$log" >&2; echo "kernel configuration failed; see above" >&2; exit 1; }

  # Every line of the fragment must have survived olddefconfig (a missing dependency silently drops an option).
  missing=$(grep -E '^(CONFIG_[A-Z0-9_]+=.*|# CONFIG_[A-Z0-9_]+ is not set)$' "$FRAGMENT" | grep -vxF -f "$src/.config" || true)
  if [[ -n $missing ]]; then
    echo "kernel configuration: these options of $FRAGMENT did not end up set (a dependency is missing):" >&2
    echo "$missing" >&2
    exit 1
  fi

  make -C "$src" ARCH=x86_64 -j"$(nproc)" vmlinux >>"$log" 2>&1 ||
    { tail -30 "$log" >&2; echo "kernel build failed; see above" >&2; exit 1; }
  # QEMU boots the ELF through its PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, type 0x12).
  if ! readelf -n "$src/vmlinux" | grep -A0 '^ *Xen' | grep -q '0x00000012'; then
    echo "kernel build: $src/vmlinux has no PVH entry note" >&2
    exit 1
  fi
  out=$(mktemp -d "$CACHE/.out-$key.XXXXXX")
  chmod 755 "$out"
  cp "$src/vmlinux" "$out/vmlinux"
  cp "$src/.config" "$out/config"
  echo "$SOURCE_PACKAGE $version" >"$out/source"
  mv -T "$out" "$target"
  echo "built $target/vmlinux in $((SECONDS - start)) s" >&2
fi
ln -sfn "$key" "$CACHE/current"
echo "$target/vmlinux"
