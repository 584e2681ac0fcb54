#!/usr/bin/bash
# A fresh VM (disk-c.img made anew): the site of VM A is lost, and its copies
# are in the SFTP repository that ops.sh filled. Stand-in for the backup
# host: this VM's own sshd with the same SFTP-only account, holding the
# repository as it was (/root/repo.tar, taken from VM A's /srv/restic). What
# came on the USB stick (/root/usb): the backup identity, the restic password
# on paper, and the three files that reach the repository. Then the guide's
# "Restore" as written, SFTP lines included, timed from the first command.
# Log on stdout.
set -u
cd /root
C=/etc/signaal/signaal.toml
PW='correct horse battery staple'
T0=$(date +%s.%N)
el() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $T0}"; }
mark() { echo "STEP $(el) s  $1"; }
run() { echo "+ $*"; "$@"; rc=$?; [ $rc = 0 ] || echo "FAILED rc=$rc: $*"; return $rc; }

# ---- The backup host (not timed as a restore step; it is another machine).
echo '127.0.0.1 backup.example.nl' >> /etc/hosts
useradd --system --create-home --home-dir /srv/offsite --shell /usr/sbin/nologin offsite
install -d -o offsite -g offsite -m 0700 /srv/restic /srv/offsite/.ssh
tar -C /srv/restic -xpf /root/repo.tar
cat > /etc/ssh/sshd_config.d/offsite.conf <<'SSHD'
Match User offsite
  ForceCommand internal-sftp
  AllowTcpForwarding no
  X11Forwarding no
SSHD
echo "restrict $(cat /root/usb/offsite_ed25519.pub)" > /srv/offsite/.ssh/authorized_keys
chown offsite:offsite /srv/offsite/.ssh/authorized_keys; chmod 0600 /srv/offsite/.ssh/authorized_keys
systemctl restart ssh
mark "the stand-in backup host"

# ---- Section 1, then "Restore" as written.
apt-get update -qq >/dev/null; mark "apt-get update"
echo Y | apt-get install -qq --no-install-recommends ./signaal_0.2.0-1_amd64.deb age restic nginx openssl curl >/dev/null 2>&1 || echo FAILED install
mark "apt-get install --no-install-recommends ./signaal… age restic nginx openssl curl"
run install -m 0600 /root/usb/offsite_ed25519 /root/usb/offsite_known_hosts /etc/signaal/
run install -m 0644 /root/usb/signaal-offsite.conf /etc/ssh/ssh_config.d/
export RESTIC_REPOSITORY=sftp:signaal-offsite:/srv/restic/signaal
export RESTIC_PASSWORD_FILE=/root/usb/offsite.pass.paper
run restic restore latest --target /root/restored --quiet; mark "restic restore latest over SFTP (the password from paper)"
ls -l /root/restored/var/backups/signaal
s=$(ls /root/restored/var/backups/signaal/secrets-*.tar.age | tail -1)
(sleep 2; printf '%s\n' "$PW"; sleep 4) | script -qec "age -d -i /root/usb/signaal-backup.key.age $s > /root/secrets.tar" /dev/null
run tar -C / -xpf /root/secrets.tar; shred -u /root/secrets.tar
ls -l /etc/signaal /etc/ssh/ssh_config.d
mark "the keys and configuration unsealed"
db=$(ls /root/restored/var/backups/signaal/signaal-*.db.age | tail -1)
run install -o signaal -g signaal -m 0600 "$db" /root/restored/var/backups/signaal/*.head /var/backups/signaal/
run install -o signaal -g signaal -m 0600 /root/usb/signaal-backup.key.age /var/backups/signaal/
(sleep 2; printf '%s\n' "$PW"; sleep 8) | script -qec "runuser -u signaal -- signaal --config $C restore /var/backups/signaal/$(basename "$db") --identity /var/backups/signaal/signaal-backup.key.age" /dev/null
shred -u /var/backups/signaal/signaal-backup.key.age
mark "signaal restore … --identity"
run runuser -u signaal -- signaal --config $C check; mark "signaal check"
run systemctl enable --now signaal.service signaal-purge.timer signaal-backup.timer signaal-offsite.timer
mark "systemctl enable --now … signaal-offsite.timer (active)"
run runuser -u signaal -- signaal --config $C audit verify --heads /var/backups/signaal
echo "healthz: $(curl -s http://127.0.0.1:8080/healthz)"
# The restored machine sends its copies again, through the unit.
run systemctl start signaal-backup.service
run systemctl start signaal-offsite.service
echo "off-site after the restore: $(systemctl show -p Result --value signaal-offsite.service)"
restic snapshots --quiet | tail -n 3
mark "done"
