#!/usr/bin/bash
# Runs INSIDE the fresh Debian 12 VM, as root, from /root, with
# signaal_0.2.0-1_amd64.deb in /root. The deploy/README.md commands, sections
# 1-6, in order; each step's end is stamped with date +%s.%N (cumulative from
# just before the apt-get install). Interactive prompts are fed on stdin (or a
# pty via script(1)) as an operator would type them; any place where a
# command had to differ from the guide says DEVIATION on the log.
set -u
cd /root
LOG=/root/install.log
: > $LOG
T0=$(date +%s.%N)
el() { awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $T0}"; }
mark() { echo "STEP $(el) s  $1" | tee -a $LOG; }
run() { echo "+ $*" >> $LOG; "$@" >>$LOG 2>&1; rc=$?; [ $rc = 0 ] || echo "FAILED rc=$rc: $*" | tee -a $LOG; return $rc; }
C=/etc/signaal/signaal.toml
PW='correct horse battery staple'

# ---- 1. Install the package (apt's question answered Y)
echo "+ apt-get update; apt-get install --no-install-recommends ./signaal_0.2.0-1_amd64.deb age restic nginx openssl curl" >> $LOG
apt-get update >>$LOG 2>&1
mark "1. apt-get update"
echo Y | apt-get install --no-install-recommends ./signaal_0.2.0-1_amd64.deb age restic nginx openssl curl >>$LOG 2>&1 || echo "FAILED apt-get install" | tee -a $LOG
mark "1. apt-get install --no-install-recommends ./signaal_0.2.0-1_amd64.deb age restic nginx openssl curl"
grep -E '^(Fetched|Need to get|[0-9]+ upgraded)' $LOG | tee -a $LOG.summary
# "Then edit $C: public_url": the shipped https://meldpunt.example.nl/ is
# the name used below (curl --resolve), nginx is on this host: nothing to edit.

# ---- 2. The team's keys (as "A timed install": a new identity, passphrase on stdin)
printf '%s\n%s\n' "$PW" "$PW" | run signaal --config $C reviewer add anna --add-recipient
mark "2. signaal reviewer add anna --add-recipient"

# ---- 3. The backup key ("on the offline machine": /root/offline here)
mkdir -p /root/offline && cd /root/offline
echo "+ age-keygen | age -p -a > signaal-backup.key.age (passphrase via a pty)" >> $LOG
(sleep 1; printf '%s\n' "$PW"; sleep 1; printf '%s\n' "$PW"; sleep 3) \
  | script -qec 'age-keygen | age -p -a > signaal-backup.key.age' /dev/null >>$LOG 2>&1
(sleep 1; printf '%s\n' "$PW"; sleep 3) \
  | script -qec 'age -d signaal-backup.key.age | age-keygen -y > recipient.txt' /dev/null >>$LOG 2>&1
R=$(grep -o 'age1[0-9a-z]*' recipient.txt | head -1)
if [ -z "$R" ]; then
  echo "DEVIATION: age -p via pty gave no recipient; using age-keygen -o" | tee -a $LOG
  age-keygen -o signaal-backup.key 2>>$LOG; R=$(age-keygen -y signaal-backup.key)
fi
cd /root
printf "# the backup recipient (identity offline)\n$R\n" > /etc/signaal/keys/backup.pub
mark "3. the backup key"

# ---- 4. Check and start
run runuser -u signaal -- signaal --config $C check
mark "4. signaal check as signaal"
run systemctl enable --now signaal.service signaal-purge.timer signaal-backup.timer
mark "4. systemctl enable --now signaal.service + timers (returned)"
systemctl show -p Type -p ActiveState -p SubState -p MainPID -p WatchdogUSec -p NRestarts signaal.service | tee -a $LOG

# ---- 6. TLS
if ! command -v openssl >/dev/null; then
  echo "DEVIATION: openssl: command not found on the fresh system; apt-get install -y openssl" | tee -a $LOG
  run apt-get install -y -qq openssl; mark "   (extra) apt-get install openssl"
fi
run install -d -m 0755 /etc/signaal/tls
run install -d -m 0700 /etc/signaal/tls/ca /etc/signaal/tls/ca/issued /etc/signaal/tls/reviewers
# the public certificate: self-signed instead of ACME
run openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
  -keyout /etc/signaal/tls/intake.key -subj /CN=meldpunt.example.nl \
  -addext subjectAltName=DNS:meldpunt.example.nl -days 90 -out /etc/signaal/tls/intake.crt
mark "6. the public certificate (self-signed)"
run cp /usr/share/doc/signaal/examples/team-ca.cnf /etc/signaal/tls/ca/team-ca.cnf
cd /etc/signaal/tls/ca
touch index.txt; echo 1000 > serial; echo 1000 > crlnumber
run openssl req -x509 -new -config team-ca.cnf -extensions team_ca_root \
  -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc -keyout team-ca.key \
  -days 1825 -out /etc/signaal/tls/team-ca.crt
run openssl ca -config team-ca.cnf -gencrl -out /etc/signaal/tls/team-ca.crl
run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
  -keyout /etc/signaal/tls/review.key -subj "/CN=signaal review" -out review.csr
run openssl ca -config team-ca.cnf -batch -extensions review_server -in review.csr \
  -out /etc/signaal/tls/review.crt
mark "6. the team CA, its CRL, the review face's certificate"
run openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -noenc \
  -keyout anna.key -subj "/CN=anna" -out anna.csr
run openssl ca -config team-ca.cnf -batch -extensions reviewer -in anna.csr \
  -out /etc/signaal/tls/reviewers/anna.crt
# asks for the .p12's password: typed twice on a pty
(sleep 1; printf 'p12-password\n'; sleep 1; printf 'p12-password\n'; sleep 2) | script -qec \
  'openssl pkcs12 -export -in /etc/signaal/tls/reviewers/anna.crt -inkey anna.key -name "signaal anna" -out anna.p12' /dev/null >>$LOG 2>&1
[ -s anna.p12 ] || echo "FAILED: no anna.p12" | tee -a $LOG
run shred -u anna.key anna.csr
cd /root
mark "6. anna's reviewer certificate (.p12)"

# ---- 6. nginx (the two EDIT lines kept as shipped: meldpunt.example.nl, 127.0.0.1:8443)
run cp /usr/share/doc/signaal/examples/nginx-signaal.conf /etc/nginx/sites-available/signaal
run ln -s ../sites-available/signaal /etc/nginx/sites-enabled/signaal
run rm /etc/nginx/sites-enabled/default
run nginx -t && run systemctl reload nginx
mark "6. nginx -t, systemctl reload nginx"

# ---- the first signal through nginx over TLS
if ! command -v curl >/dev/null; then
  echo "DEVIATION: curl: command not found on the fresh system; apt-get install -y curl" | tee -a $LOG
  run apt-get install -y -qq curl; mark "   (extra) apt-get install curl"
fi
U=https://meldpunt.example.nl
R="--resolve meldpunt.example.nl:443:127.0.0.1"
curl -sSk $R -c /root/jar -b /root/jar $U/ > /root/form.html 2>>$LOG
hidden=$(grep -o '<input type="hidden" name="[^"]*" value="[^"]*"' /root/form.html \
  | sed 's/.*name="\([^"]*\)" value="\([^"]*\)"/--data-urlencode \1=\2/' | tr '\n' ' ')
echo "form hidden fields: $hidden" >> $LOG
curl -sSk $R -c /root/jar -b /root/jar -X POST $hidden \
  --data-urlencode "situation=a signal through nginx over TLS in a fresh VM" $U/signal > /root/receipt.html 2>>$LOG
if grep -q data-receipt /root/receipt.html; then mark "the first signal stored over TLS (receipt shown)"
else echo "FAILED: no receipt" | tee -a $LOG; head -c 600 /root/receipt.html >> $LOG; fi
systemctl show -p Type -p ActiveState -p SubState -p NRestarts signaal.service | tee -a $LOG
ls -l /etc/signaal/keys/team.pub | tee -a $LOG
mark "done"
