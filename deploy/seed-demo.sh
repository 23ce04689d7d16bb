#!/usr/bin/env bash
# Seeds the demo user and the six demo applications of DESIGN.md (idempotent: a second run
# changes nothing and keeps the clients' secrets). Usage: seed-demo.sh PATH/TO/idpctl
set -euo pipefail
idpctl="$1"
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/var/demo-clients.json"

echo demo-password | "$idpctl" users create --if-absent --username demo --email demo@example.com \
  --email-verified --name "Demo User" --given-name Demo --family-name User --password-stdin >/dev/null

[ -f "$out" ] || echo '{}' >"$out"
chmod 600 "$out"
port=3000
for app in "modeler:Modeler" "mywem:MyWEM" "forum:Forum" "academy:Academy" \
           "partner-portal:Partner Portal" "devops-portal:DevOps Portal"; do
  id="${app%%:*}" name="${app#*:}"
  port=$((port + 1))
  json="$("$idpctl" --json clients add --upsert --id "$id" --name "$name" --portal \
    --home-url "http://localhost:$port/" --redirect-uri "http://localhost:$port/callback" \
    --post-logout-redirect-uri "http://localhost:$port/signed-out")"
  secret="$(printf '%s' "$json" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("client_secret",""))')"
  if [ -n "$secret" ]; then
    python3 - "$out" "$id" "$secret" <<'PY'
import json, sys
path, cid, secret = sys.argv[1:]
data = json.load(open(path))
data[cid] = secret
json.dump(data, open(path, "w"), indent=2)
PY
  fi
done
echo "demo data seeded"
