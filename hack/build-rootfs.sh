#!/usr/bin/env bash
# Builds the Debian bookworm base root filesystem of a kiln node with mmdebstrap, as a tarball in
# the kiln cache: kernel 6.1 with a depmod'ed module tree and its config, systemd, udev,
# systemd-boot's EFI binaries, and the tools kubelet, kube-proxy, the CNI plugins and Ignition run.
# Nothing else: no apt, no initramfs generator (kiln builds its own initramfs), no docs or locales.
#
#   KILN_CACHE        cache root (default ~/.cache/kiln)
#   SOURCE_DATE_EPOCH timestamps in the tarball (default 0)
#   KILN_APT_SOURCES  apt sources file to build from (default: this host's bookworm sources)
#
# The tarball is keyed by the suite, the package list and the apt sources; a rerun whose tarball
# still matches its recorded sha256 does nothing.
set -euo pipefail

CACHE=${KILN_CACHE:-$HOME/.cache/kiln}
SUITE=bookworm
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

# What a node runs, and why:
packages=(
  linux-image-amd64         # kernel 6.1, modules
  systemd systemd-sysv udev dbus   # init, devices, the system bus runc's systemd cgroup driver uses
  systemd-boot-efi          # /usr/lib/systemd/boot/efi/systemd-bootx64.efi for the ESP
  kmod                      # modprobe (kubelet, kube-proxy, the CNI plugins)
  iproute2 iptables nftables conntrack ethtool socat   # kubelet and kube-proxy requirements
  e2fsprogs util-linux mount     # mkfs.ext4, resize2fs, mount, nsenter, blkid
  ca-certificates
  passwd adduser            # useradd, groupadd, usermod, chpasswd: what Ignition executes
)
# The comments above are for people; keep only the names.
include=$(printf '%s\n' "${packages[@]}" | sed 's/#.*//' | tr -s ' \n' ',' | sed 's/^,//;s/,$//')

sources=${KILN_APT_SOURCES:-}
if [[ -z "$sources" ]]; then
  for f in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [[ -s "$f" ]] && { sources=$f; break; }
  done
fi
[[ -n "$sources" && -s "$sources" ]] || { echo "rootfs: no apt sources found; set KILN_APT_SOURCES" >&2; exit 2; }

key=$( { echo "$SUITE $SOURCE_DATE_EPOCH $include"; cat "$sources"; cat "$0"; } | sha256sum | cut -c1-16)
out="$CACHE/rootfs/$SUITE-$key"
tarball="$out/rootfs.tar"

if [[ -f "$out/rootfs.tar.sha256" ]] && (cd "$out" && sha256sum --quiet --check rootfs.tar.sha256 >/dev/null 2>&1); then
  ln -sfn "$out" "$CACHE/rootfs/current"
  echo "rootfs: $tarball is up to date"
  exit 0
fi

command -v mmdebstrap >/dev/null || { echo "rootfs: mmdebstrap is not installed (make deps installs it)" >&2; exit 2; }
echo "rootfs: building Debian $SUITE with mmdebstrap into $tarball"
start=$SECONDS
rm -rf "$out"
mkdir -p "$out"

# The kernel package's postinst would build an initramfs with initramfs-tools (minutes under
# load); kiln assembles its own. So update-initramfs is diverted to a no-op before anything is
# installed, and afterwards the generator and its helpers are removed, drivers no node uses are
# dropped, and the remaining modules are depmod'ed.
essential='set -e
chroot "$1" dpkg-divert --quiet --local --rename --add /usr/sbin/update-initramfs
ln -s /bin/true "$1"/usr/sbin/update-initramfs'
customize='set -e
rm -f "$1"/usr/sbin/update-initramfs "$1"/boot/initrd.img-* "$1"/initrd.img "$1"/initrd.img.old
chroot "$1" dpkg-divert --quiet --local --rename --remove /usr/sbin/update-initramfs
for p in initramfs-tools initramfs-tools-core klibc-utils libklibc busybox; do
  if chroot "$1" dpkg -s "$p" >/dev/null 2>&1; then chroot "$1" dpkg --purge --force-depends "$p"; fi
done
for m in "$1"/usr/lib/modules/*; do
  # Drivers no Kubernetes node uses: sound, cameras and TV, graphics, radios, staging.
  (cd "$m/kernel" && rm -rf sound drivers/media drivers/gpu drivers/net/wireless net/wireless \
    net/mac80211 net/bluetooth drivers/bluetooth drivers/staging drivers/iio drivers/isdn)
  chroot "$1" depmod "$(basename "$m")"
done
rm -rf "$1"/var/cache/* "$1"/var/log/* "$1"/var/lib/apt/lists/*
: >"$1"/etc/machine-id'

mmdebstrap --variant=essential --format=tar --include="$include" \
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias' \
  --essential-hook="$essential" --customize-hook="$customize" \
  "$SUITE" "$tarball.tmp" "$sources"

mv "$tarball.tmp" "$tarball"
(cd "$out" && sha256sum rootfs.tar >rootfs.tar.sha256)
ln -sfn "$out" "$CACHE/rootfs/current"
# Older builds (another package list or script) are half a gigabyte each: drop them.
for old in "$CACHE/rootfs/$SUITE"-*; do
  [[ "$old" != "$out" ]] && rm -rf "$old"
done
echo "rootfs: done in $((SECONDS - start)) s: $tarball ($(du -h "$tarball" | cut -f1))"
