#!/usr/bin/bash
# VM A, after site-a.sh: what needs systemd as init, each through its unit
# as the package ships it (log in /root/ops.log):
#  1. off-site copies over SFTP, section 9 as written, from inside
#     signaal-offsite.service's sandbox; the backup host is this VM's own
#     sshd with an SFTP-only account;
#  2. OnFailure=: the backup, purge and off-site units each fail once, and
#     signaal-failed@ writes its line at priority crit, and each unit
#     works again once its fault is gone.
set -u
C=/etc/signaal/signaal.toml
E=/etc/signaal/offsite.env
LOG=/root/ops.log
: > $LOG
say() { echo "$*" | tee -a $LOG; }
run() { echo "+ $*" >> $LOG; "$@" >>$LOG 2>&1; rc=$?; [ $rc = 0 ] || say "FAILED rc=$rc: $*"; return $rc; }
T0=$(date +%s.%N)
el() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $T0}"; }

# ---- 1. The backup host: an SFTP-only account that may only write its repository.
# On a real backup host the guide's account is "signaal"; here that name is
# the service's own, so the backup host's account is "offsite" (the one line
# of the guide's ssh_config entry that differs).
grep -q backup.example.nl /etc/hosts || echo '127.0.0.1 backup.example.nl' >> /etc/hosts
id offsite >/dev/null 2>&1 || run useradd --system --create-home --home-dir /srv/offsite --shell /usr/sbin/nologin offsite
run install -d -o offsite -g offsite -m 0700 /srv/restic /srv/offsite/.ssh
cat > /etc/ssh/sshd_config.d/offsite.conf <<'SSHD'
Match User offsite
  ForceCommand internal-sftp
  AllowTcpForwarding no
  X11Forwarding no
SSHD
run systemctl restart ssh

# Section 9, "The repository can be SFTP", as written.
rm -f /etc/signaal/offsite_ed25519 /etc/signaal/offsite_ed25519.pub
run ssh-keygen -q -t ed25519 -N '' -C signaal-offsite -f /etc/signaal/offsite_ed25519
run chown signaal /etc/signaal/offsite_ed25519
run chmod 0400 /etc/signaal/offsite_ed25519
ssh-keyscan -t ed25519 backup.example.nl > /etc/signaal/offsite_known_hosts 2>>$LOG
cat > /etc/ssh/ssh_config.d/signaal-offsite.conf <<'SSH'
Host signaal-offsite
  HostName backup.example.nl
  User offsite
  IdentityFile /etc/signaal/offsite_ed25519
  UserKnownHostsFile /etc/signaal/offsite_known_hosts
  IdentitiesOnly yes
SSH
echo "restrict $(cat /etc/signaal/offsite_ed25519.pub)" > /srv/offsite/.ssh/authorized_keys
chown offsite:offsite /srv/offsite/.ssh/authorized_keys; chmod 0600 /srv/offsite/.ssh/authorized_keys
sed -i 's#^RESTIC_REPOSITORY=.*#RESTIC_REPOSITORY=sftp:signaal-offsite:/srv/restic/signaal#' $E
# site-a.sh's drop-in for the mounted disk is not needed for SFTP.
rm -f /etc/systemd/system/signaal-offsite.service.d/disk.conf
run systemctl daemon-reload
runuser -u signaal -- env $(grep -v '^#' $E | xargs) restic --no-cache cat config >/dev/null 2>&1 \
  || run runuser -u signaal -- env $(grep -v '^#' $E | xargs) restic --no-cache init
run runuser -u signaal -- signaal --config $C check
t=$(el); run systemctl start signaal-offsite.service
say "1. signaal-offsite.service over SFTP: $(systemctl show -p Result --value signaal-offsite.service), $(awk "BEGIN{printf \"%.1f\", $(el) - $t}") s"
journalctl -u signaal-offsite.service -b --no-pager -o cat | tail -n 12 >> $LOG
n=$(runuser -u signaal -- env $(grep -v '^#' $E | xargs) restic --no-cache snapshots --json | grep -o '"short_id"' | wc -l)
say "1. snapshots in the SFTP repository: $n"
say "1. the account's files: $(find /srv/restic/signaal -type f | wc -l), none readable by others: $(find /srv/restic/signaal -perm -o=r -type f | wc -l) readable"
run runuser -u signaal -- env $(grep -v '^#' $E | xargs) restic --no-cache check

# ---- 2. OnFailure=: one failure each, then the crit lines.
since=$(date '+%F %T')
sleep 1
# the off-site host's repository gone (a wrong path)
sed -i 's#^RESTIC_REPOSITORY=.*#RESTIC_REPOSITORY=sftp:signaal-offsite:/srv/restic/gone#' $E
systemctl start signaal-offsite.service 2>>$LOG
sed -i 's#^RESTIC_REPOSITORY=.*#RESTIC_REPOSITORY=sftp:signaal-offsite:/srv/restic/signaal#' $E
# the backup recipient missing (production makes no plain copy)
mv /etc/signaal/keys/backup.pub /root/backup.pub.aside
systemctl start signaal-backup.service 2>>$LOG
mv /root/backup.pub.aside /etc/signaal/keys/backup.pub
# the purge unit pointed at a configuration that is not there
mkdir -p /etc/systemd/system/signaal-purge.service.d
printf '[Service]\nEnvironment=SIGNAAL_CONFIG=/etc/signaal/missing.toml\n' > /etc/systemd/system/signaal-purge.service.d/fault.conf
systemctl daemon-reload
systemctl start signaal-purge.service 2>>$LOG
rm /etc/systemd/system/signaal-purge.service.d/fault.conf
systemctl daemon-reload
sleep 3
for u in signaal-offsite signaal-backup signaal-purge; do
  say "2. $u.service: $(systemctl show -p Result --value $u.service); signaal-failed@$u.service.service: $(systemctl show -p Result --value signaal-failed@$u.service.service)"
done
journalctl -p crit -t signaal --since "$since" --no-pager -o short-precise | tee -a $LOG
say "2. crit lines: $(journalctl -p crit -t signaal --since "$since" --no-pager -o cat | grep -c 'failed: see journalctl')"
# Section 10 after the change to SFTP: the secrets sealed again (the guide's
# tar line), so the next snapshot holds the SFTP offsite.env.
rm -f /var/backups/signaal/secrets-*.tar.age
(umask 077; tar -C / -cf - etc/signaal etc/ssh/ssh_config.d/signaal-offsite.conf \
  etc/nginx/sites-available/signaal etc/tor/torrc var/lib/tor/signaal 2>/dev/null \
  | age -R /etc/signaal/keys/backup.pub \
  > /var/backups/signaal/secrets-$(date -u +%F).tar.age)
chown signaal /var/backups/signaal/secrets-*.tar.age
# and each unit works again once its fault is gone
run systemctl start signaal-backup.service signaal-purge.service
run systemctl start signaal-offsite.service
say "2. after the faults: backup $(systemctl show -p Result --value signaal-backup.service), purge $(systemctl show -p Result --value signaal-purge.service), off-site $(systemctl show -p Result --value signaal-offsite.service)"

say "done $(el) s"
