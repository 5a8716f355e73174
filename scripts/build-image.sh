#!/usr/bin/env bash
# Builds a small OCI image from Debian's busybox-static and pushes it to a registry over plain HTTP.
#
# Usage: build-image.sh REF [--entrypoint ARG]... [--cmd ARG]... [--env K=V]... [--workdir DIR] [--user U]
#                           [--file PATH=CONTENT]... [--layout DIR]
#
#   REF          HOST[:PORT]/REPO:TAG to push to (the registry is spoken to without TLS verification).
#   --entrypoint one argument of the entrypoint; repeat for more.
#   --cmd        one argument of the command; repeat for more.
#   --env        one K=V environment entry; repeat for more.
#   --file       writes CONTENT to PATH (absolute, inside the image) in a second layer; repeat for more.
#   --layout     keeps the OCI layout in DIR (the tag is replaced on every run); default: a temporary one.
#
# Layer 1: /bin/busybox, an applet symlink for each applet at its usual path, /etc/passwd (root, app 1000,
# nobody 65534), /etc/group, /tmp (1777), /root, /home/app. Layer 2 (only with --file): the given files.
# Idempotent: running it again replaces the tag in the layout and in the registry. Leaves no temporary files behind.
# Needs: umoci, skopeo, busybox-static. If BUILD_IMAGE_CREDS=USER:PASSWORD is set, the push authenticates with it.
set -euo pipefail

die() { echo "build-image.sh: $*" >&2; exit 2; }

[[ $# -ge 1 ]] || die "usage: build-image.sh REF [--entrypoint ARG]... [--cmd ARG]... [--env K=V]... [--workdir DIR] [--user U] [--file PATH=CONTENT]... [--layout DIR]"
ref=$1; shift
[[ $ref == */*:* && $ref != *@* ]] || die "reference '$ref' must be HOST/REPO:TAG"
tag=${ref##*:}
[[ $tag =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]] || die "tag '$tag' of '$ref' is not a valid tag"

entrypoint=() cmd=() env=() files=() workdir="" user="" layout=""
while [[ $# -gt 0 ]]; do
  [[ $# -ge 2 ]] || die "option $1 needs a value"
  case $1 in
    --entrypoint) entrypoint+=("$2") ;;
    --cmd) cmd+=("$2") ;;
    --env) [[ $2 == *=* ]] || die "--env '$2' is not K=V"; env+=("$2") ;;
    --workdir) workdir=$2 ;;
    --user) user=$2 ;;
    --file) [[ $2 == /*=* ]] || die "--file '$2' is not /PATH=CONTENT"; files+=("$2") ;;
    --layout) layout=$2 ;;
    *) die "unknown option $1" ;;
  esac
  shift 2
done

busybox=/bin/busybox
[[ -x $busybox ]] && file_is_static=$(ldd "$busybox" 2>&1 || true) && [[ $file_is_static == *"not a dynamic"* ]] \
  || die "$busybox is not a static busybox (apt-get install busybox-static)"

# As non-root, umoci must unpack rootless (then /home/app stays owned by root: chown needs root).
rootless=()
if [[ $EUID -ne 0 ]]; then rootless=(--rootless); fi

work=$(mktemp -d "${TMPDIR:-/tmp}/build-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
if [[ -z $layout ]]; then layout=$work/layout; fi

if [[ ! -f $layout/index.json ]]; then
  mkdir -p "$(dirname "$layout")"
  umoci init --layout "$layout"
elif umoci ls --layout "$layout" | grep -qxF "$tag"; then
  umoci rm --image "$layout:$tag"
fi

# Layer 1: busybox and the base files.
umoci new --image "$layout:$tag"
umoci unpack "${rootless[@]}" --image "$layout:$tag" "$work/base"
root=$work/base/rootfs
mkdir -p "$root/bin" "$root/sbin" "$root/usr/bin" "$root/usr/sbin" "$root/etc" "$root/root" "$root/home/app" "$root/tmp"
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
"$busybox" --list-full | while read -r applet; do
  [[ $applet == bin/busybox ]] && continue
  ln -sf /bin/busybox "$root/$applet"
done
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/bin/sh
app:x:1000:1000:app:/home/app:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
app:x:1000:
nogroup:x:65534:
GROUP
chmod 1777 "$root/tmp"
chmod 0700 "$root/root"
if [[ $EUID -eq 0 ]]; then chown 1000:1000 "$root/home/app"; fi
if [[ -n $workdir ]]; then mkdir -p "$root$workdir"; fi
umoci repack --image "$layout:$tag" "$work/base"

# Layer 2: the requested files (a fresh unpack: repacking one bundle twice squashes its layers).
if [[ ${#files[@]} -gt 0 ]]; then
  umoci unpack "${rootless[@]}" --image "$layout:$tag" "$work/extra"
  for f in "${files[@]}"; do
    path=${f%%=*} content=${f#*=}
    mkdir -p "$(dirname "$work/extra/rootfs$path")"
    printf '%s' "$content" > "$work/extra/rootfs$path"
  done
  umoci repack --image "$layout:$tag" "$work/extra"
fi

config=()
for a in "${entrypoint[@]}"; do config+=(--config.entrypoint "$a"); done
for a in "${cmd[@]}"; do config+=(--config.cmd "$a"); done
for a in "${env[@]}"; do config+=(--config.env "$a"); done
[[ -n $workdir ]] && config+=(--config.workingdir "$workdir")
[[ -n $user ]] && config+=(--config.user "$user")
config+=(--history.created_by build-image.sh)
umoci config --image "$layout:$tag" "${config[@]}" >/dev/null
umoci gc --layout "$layout"

skopeo copy -q --dest-tls-verify=false ${BUILD_IMAGE_CREDS:+--dest-creds "$BUILD_IMAGE_CREDS"} "oci:$layout:$tag" "docker://$ref"
echo "$ref"
