#!/usr/bin/env bash
# Builds fresh Debian 12 VM disks (raw ext4, no partition table; Debian's
# packages only) and a root ssh key, for the guide's timed install and
# restore (deploy/README.md, "A timed install", "RPO and RTO"). Needs root.
# Host: Debian 12. qemu-system-x86 7.2 is unpacked into $VM/qemu with its
# firmware and libraries installed normally (on the host where the guide's
# times were taken, it could not be installed beside a backported qemu-utils).
set -euo pipefail
VM=${VM:-$(cd "$(dirname "$0")/../.." && pwd)/target/vm}
mkdir -p "$VM" && cd "$VM"
apt-get update -qq
apt-get install -y -qq --no-install-recommends debootstrap e2fsprogs openssh-client \
  seabios ipxe-qemu qemu-system-data libaio1 libbpf1 libcapstone4 libfdt1 libfuse3-3 \
  libglib2.0-0 libgmp10 libibverbs1 libjpeg62-turbo libnuma1 libpixman-1-0 libpmem1 \
  libpng16-16 librdmacm1 libsasl2-2 libseccomp2 libslirp0 liburing2 libvdeplug2
mkdir -p debs qemu
(cd debs && apt-get download qemu-system-x86 qemu-system-common)
for d in debs/*.deb; do dpkg -x "$d" qemu; done

rm -rf rootfs
# default variant = Priority required + important (what a Debian 12 server has
# before tasks); plus a kernel, systemd as init, sshd.
debootstrap --include=linux-image-amd64,systemd-sysv,openssh-server,dbus \
  bookworm rootfs http://deb.debian.org/debian
echo signaal-vm > rootfs/etc/hostname
printf '127.0.0.1 localhost\n127.0.1.1 signaal-vm\n' > rootfs/etc/hosts
printf '/dev/vda / ext4 errors=remount-ro 0 1\n' > rootfs/etc/fstab
cat > rootfs/etc/systemd/network/10-dhcp.network <<'N'
[Match]
Name=en* eth*
[Network]
DHCP=yes
N
ln -sf /lib/systemd/system/systemd-networkd.service rootfs/etc/systemd/system/multi-user.target.wants/systemd-networkd.service
printf 'nameserver 10.0.2.3\n' > rootfs/etc/resolv.conf
cp /etc/apt/sources.list.d/debian.sources rootfs/etc/apt/sources.list.d/debian.sources
rm -f rootfs/etc/apt/sources.list
[ -f id_ed25519 ] || ssh-keygen -q -t ed25519 -N '' -f id_ed25519
install -d -m 0700 rootfs/root/.ssh
install -m 0600 id_ed25519.pub rootfs/root/.ssh/authorized_keys
chroot rootfs sh -c 'echo root:signaal | chpasswd'
chroot rootfs apt-get clean
cp rootfs/boot/vmlinuz-* vmlinuz; cp rootfs/boot/initrd.img-* initrd.img
rm -f disk.img
truncate -s 8G disk.img
mkfs.ext4 -q -F -L root -d rootfs disk.img
cp disk.img disk-a.img; cp disk.img disk-b.img
echo "built $VM/disk-a.img and disk-b.img (two fresh VMs: A installs, B restores)"

truncate -s 1G offsite.img
mkfs.ext4 -q -F -L offsite offsite.img
# Next: deploy/vm/README.md.
