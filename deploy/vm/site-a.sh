#!/usr/bin/bash
# VM A (installed by install.sh): 50 more signals, the daily backup and
# off-site units, to a restic repository on a second disk ("a mounted disk").
set -eu
C=/etc/signaal/signaal.toml
mkdir -p /mnt/offsite && mount /dev/vdb /mnt/offsite && install -d -o signaal -g signaal -m 0700 /mnt/offsite/restic
U=https://meldpunt.example.nl; R="--resolve meldpunt.example.nl:443:127.0.0.1"
for i in $(seq 1 50); do
  curl -sSk $R -c /root/jar -b /root/jar $U/ > /root/form.html
  hidden=$(grep -o '<input type="hidden" name="[^"]*" value="[^"]*"' /root/form.html | sed 's/.*name="\([^"]*\)" value="\([^"]*\)"/--data-urlencode \1=\2/' | tr '\n' ' ')
  curl -sSk $R -c /root/jar -b /root/jar -X POST $hidden --data-urlencode "situation=signal $i before the site was lost" $U/signal | grep -q data-receipt
done
echo "signals: $(runuser -u signaal -- signaal --config $C check | grep 'database ok')"
# Section 9 as written: offsite.env, its password, restic init, the timer.
cp /usr/share/doc/signaal/examples/offsite.env /etc/signaal/offsite.env
chgrp signaal /etc/signaal/offsite.env; chmod 0640 /etc/signaal/offsite.env
sed -i 's#^RESTIC_REPOSITORY=.*#RESTIC_REPOSITORY=/mnt/offsite/restic#' /etc/signaal/offsite.env
head -c 32 /dev/urandom | base64 > /etc/signaal/offsite.pass
chown signaal /etc/signaal/offsite.pass; chmod 0400 /etc/signaal/offsite.pass
cp /etc/signaal/offsite.pass /root/offsite.pass.paper
mkdir -p /etc/systemd/system/signaal-offsite.service.d
printf '[Service]\nReadWritePaths=/mnt/offsite\n' > /etc/systemd/system/signaal-offsite.service.d/disk.conf
systemctl daemon-reload
runuser -u signaal -- env $(grep -v '^#' /etc/signaal/offsite.env | xargs) restic --no-cache init
# Section 10: the secrets sealed to the backup recipient, beside the copies.
(umask 077; tar -C / -cf - etc/signaal var/lib/tor/signaal 2>/dev/null \
  | age -R /etc/signaal/keys/backup.pub \
  > /var/backups/signaal/secrets-$(date -u +%F).tar.age)
chown signaal /var/backups/signaal/secrets-*.tar.age
systemctl start signaal-backup.service
systemctl start signaal-offsite.service
systemctl show -p Result signaal-backup.service signaal-offsite.service
ls -l /var/backups/signaal
runuser -u signaal -- env $(grep -v '^#' /etc/signaal/offsite.env | xargs) restic --no-cache snapshots
sync; umount /mnt/offsite
