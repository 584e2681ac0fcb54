#!/bin/sh
# A command (or a shell) in the VM that boot.sh runs.
VM=${VM:-$(cd "$(dirname "$0")/../.." && pwd)/target/vm}
exec ssh -p 2222 -i "$VM/id_ed25519" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
  -o LogLevel=ERROR root@127.0.0.1 "$@"
