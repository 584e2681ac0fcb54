#!/usr/bin/env bash
# Boots a VM disk made by build.sh, with the off-site disk as the second
# drive, its ssh on 127.0.0.1:2222 (deploy/vm/ssh.sh). Software emulation
# (TCG): on the host where the guide's times were taken, KVM could not boot
# the guest (-cpu host aborts on MSR 0x10a; without it the kernel hangs), so
# those times are slower than an operator's. Try -accel kvm -cpu host first.
#   bash deploy/vm/boot.sh disk-a.img &
set -euo pipefail
VM=${VM:-$(cd "$(dirname "$0")/../.." && pwd)/target/vm}
cd "$VM"
disk=${1:?a disk image in $VM, such as disk-a.img}
exec qemu/usr/bin/qemu-system-x86_64 -L /usr/share/qemu -L /usr/share/seabios \
  ${ACCEL:--accel tcg,thread=multi -cpu max} -m 2048 -smp 2 -nographic \
  -kernel vmlinuz -initrd initrd.img -append "root=/dev/vda rw console=ttyS0" \
  -drive file="$disk",if=virtio,format=raw -drive file=offsite.img,if=virtio,format=raw \
  -netdev user,id=n,hostfwd=tcp:127.0.0.1:2222-:22 -device virtio-net-pci,netdev=n,romfile= \
  </dev/null > "console-${disk%.img}.log" 2>&1
