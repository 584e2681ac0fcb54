#!/usr/bin/bash
# VM B: a fresh Debian 12; the site of VM A is lost. What came: the off-site
# disk, a USB stick with the backup identity (age -p), the restic password on
# paper. Timed from the first command.
set -u
cd /root
C=/etc/signaal/signaal.toml
PW='correct horse battery staple'
T0=$(date +%s.%N)
el() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $T0}"; }
mark() { echo "STEP $(el) s  $1"; }
run() { echo "+ $*"; "$@"; rc=$?; [ $rc = 0 ] || echo "FAILED rc=$rc: $*"; return $rc; }
apt-get update -qq >/dev/null; mark "apt-get update"
echo Y | apt-get install -qq --no-install-recommends ./signaal_0.2.0-1_amd64.deb age restic nginx openssl curl >/dev/null 2>&1 || echo FAILED install
mark "apt-get install --no-install-recommends ./signaal… age restic nginx openssl curl"
mkdir -p /mnt/offsite && mount /dev/vdb /mnt/offsite; mark "the off-site disk mounted"
export RESTIC_REPOSITORY=/mnt/offsite/restic RESTIC_PASSWORD_FILE=/root/usb/offsite.pass.paper
run restic restore latest --target /root/restored --quiet; mark "restic restore latest (the password from paper)"
ls -l /root/restored/var/backups/signaal
# Section 10's secrets, back in place (the backup identity asks its passphrase).
s=$(ls /root/restored/var/backups/signaal/secrets-*.tar.age | tail -1)
(sleep 2; printf '%s\n' "$PW"; sleep 4) | script -qec "age -d -i /root/usb/signaal-backup.key.age $s > /root/secrets.tar" /dev/null
run tar -C / -xpf /root/secrets.tar; shred -u /root/secrets.tar
ls -ln /etc/signaal /etc/signaal/keys | head; id signaal
mark "the keys and configuration unsealed into /etc/signaal"
db=$(ls /root/restored/var/backups/signaal/signaal-*.db.age | tail -1)
install -o signaal -g signaal -m 0600 "$db" /var/backups/signaal/
install -o signaal -g signaal -m 0600 /root/usb/signaal-backup.key.age /var/backups/signaal/signaal-backup.key.age
(sleep 2; printf '%s\n' "$PW"; sleep 8) | script -qec "runuser -u signaal -- signaal --config $C restore /var/backups/signaal/$(basename $db) --identity /var/backups/signaal/signaal-backup.key.age" /dev/null
shred -u /var/backups/signaal/signaal-backup.key.age
mark "signaal restore … --identity (open, check, put in place)"
run runuser -u signaal -- signaal --config $C check | tail -3; mark "signaal check"
run systemctl enable --now signaal.service signaal-purge.timer signaal-backup.timer; mark "systemctl enable --now signaal.service (active)"
systemctl show -p ActiveState -p SubState signaal.service
run runuser -u signaal -- signaal --config $C audit verify --heads /root/restored/var/backups/signaal; mark "audit verify --heads"
echo "healthz: $(curl -s http://127.0.0.1:8080/healthz)"
