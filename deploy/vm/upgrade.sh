#!/usr/bin/bash
# VM C, a third fresh VM: an upgrade from an older release to this one, by
# section 11 of the guide, with systemd as init. In /root: old/signaal_*.deb
# (the older build: the first packaged one, schema 6) and new/signaal_*.deb.
# The old one is installed and serving with signals and their receipts; then
# the upgrade, while /healthz is asked every tenth of a second. Log in
# /root/upgrade.log.
set -u
cd /root
C=/etc/signaal/signaal.toml
LOG=/root/upgrade.log
: > $LOG
say() { echo "$*" | tee -a $LOG; }
run() { echo "+ $*" >> $LOG; "$@" >>$LOG 2>&1; rc=$?; [ $rc = 0 ] || say "FAILED rc=$rc: $*"; return $rc; }
PW='correct horse battery staple'
U=http://127.0.0.1:8080
OLD=$(ls old/signaal_*.deb); NEW=$(ls new/signaal_*.deb)

# ---- The older release, installed and serving (its own guide's steps).
apt-get update >>$LOG 2>&1
echo Y | apt-get install --no-install-recommends ./$OLD age curl >>$LOG 2>&1 || say "FAILED apt-get install $OLD"
printf '%s\n%s\n' "$PW" "$PW" | run signaal --config $C reviewer add anna --add-recipient
if ! runuser -u signaal -- test -r /etc/signaal/keys/team.pub; then
  say "old release: team.pub not readable by the service (fixed since); chown signaal"
  chown signaal:signaal /etc/signaal/keys/team.pub
fi
age-keygen -o /root/backup.key 2>>$LOG
age-keygen -y /root/backup.key > /etc/signaal/keys/backup.pub
run runuser -u signaal -- signaal --config $C check
run systemctl enable --now signaal.service signaal-purge.timer signaal-backup.timer
for i in $(seq 1 30); do curl -sf $U/healthz >/dev/null && break; sleep 0.5; done
say "old: $(runuser -u signaal -- signaal --config $C check 2>&1 | grep 'database ok')"

# Twenty signals through the old release; their receipt codes kept.
: > /root/codes
for i in $(seq 1 20); do
  curl -sS -c /root/jar -b /root/jar $U/ > /root/form.html
  hidden=$(grep -o '<input type="hidden" name="[^"]*" value="[^"]*"' /root/form.html | sed 's/.*name="\([^"]*\)" value="\([^"]*\)"/--data-urlencode \1=\2/' | tr '\n' ' ')
  curl -sS -c /root/jar -b /root/jar -X POST $hidden --data-urlencode "situation=signal $i, stored by the older release" $U/signal \
    | grep -o 'data-receipt="[^"]*"' | cut -d'"' -f2 >> /root/codes
done
say "old: receipts given: $(grep -c . /root/codes)"
# What a sender reads with the code, before the upgrade.
follow() {
  curl -sS -c /root/jar -b /root/jar $U/follow-up > /root/fu.html
  hidden=$(grep -o '<input type="hidden" name="[^"]*" value="[^"]*"' /root/fu.html | sed 's/.*name="\([^"]*\)" value="\([^"]*\)"/--data-urlencode \1=\2/' | tr '\n' ' ')
  curl -sS -c /root/jar -b /root/jar -X POST $hidden --data-urlencode "receipt=$1" $U/follow-up | grep -c 'data-status'
}
# (five: the older release limited every look-up, right or wrong, to a burst of ten)
ok=0; while read -r code; do [ "$(follow "$code")" -ge 1 ] && ok=$((ok + 1)); done < <(head -n 5 /root/codes)
say "old: codes that open their signal: $ok of 5"

# ---- Section 11, as written, timed; /healthz asked every 0.1 s meanwhile.
(while [ ! -e /root/stop ]; do
   printf '%s %s\n' "$(date +%s.%N)" "$(curl -s -m 1 -o /dev/null -w '%{http_code}' $U/healthz)"
   sleep 0.1
 done > /root/health.log) &
sleep 1
since=$(date '+%F %T')
T0=$(date +%s.%N)
el() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $T0}"; }
run systemctl start signaal-backup.service
say "11. systemctl start signaal-backup.service: $(el) s, $(systemctl show -p Result --value signaal-backup.service)"
pid_before=$(systemctl show -p MainPID --value signaal.service)
echo Y | apt-get install ./$NEW >>$LOG 2>&1 || say "FAILED apt-get install $NEW"
say "11. apt-get install ./$NEW: $(el) s; MainPID $pid_before -> $(systemctl show -p MainPID --value signaal.service)"
run runuser -u signaal -- signaal --config $C check
say "11. signaal check: $(el) s: $(grep 'database ok\|schema' $LOG | tail -n 2 | tr '\n' ' ')"
run systemctl restart signaal.service
for i in $(seq 1 100); do curl -sf $U/healthz >/dev/null && break; sleep 0.1; done
say "11. systemctl restart signaal.service, /healthz ok: $(el) s"
sleep 1; touch /root/stop; wait
awk '$2 != 200 { n++ } END { printf "11. /healthz answers during the upgrade: %d, not 200: %d (%.1f s)\n", NR, n, n * 0.1 }' /root/health.log | tee -a $LOG

# ---- What the upgrade kept.
say "new: $(runuser -u signaal -- signaal --config $C check 2>&1 | grep 'database ok')"
journalctl -u signaal.service --since "$since" --no-pager -o cat | grep -i 'migrat' | tee -a $LOG
ok=0; while read -r code; do [ "$(follow "$code")" -ge 1 ] && ok=$((ok + 1)); done < /root/codes
say "new: codes that open their signal: $ok of $(grep -c . /root/codes)"
curl -sS -c /root/jar -b /root/jar $U/ > /root/form.html
hidden=$(grep -o '<input type="hidden" name="[^"]*" value="[^"]*"' /root/form.html | sed 's/.*name="\([^"]*\)" value="\([^"]*\)"/--data-urlencode \1=\2/' | tr '\n' ' ')
say "new: a signal after the upgrade: $(curl -sS -c /root/jar -b /root/jar -X POST $hidden --data-urlencode 'situation=after the upgrade' $U/signal | grep -c data-receipt) receipt"
say "new: $(runuser -u signaal -- signaal --config $C audit verify 2>&1 | tail -n 1)"
say "new: /etc/signaal $(stat -c '%a %U:%G' /etc/signaal), keys $(stat -c '%a %U' /etc/signaal/keys), data $(stat -c '%a %U' /var/lib/signaal), signaal.toml $(stat -c '%a %U:%G' $C)"
systemctl show -p ActiveState -p NRestarts -p WatchdogUSec signaal.service | tee -a $LOG
ls -l /var/backups/signaal | tee -a $LOG
