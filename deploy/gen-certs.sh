#!/usr/bin/env bash
# gen-certs.sh OUT_DIR [NAME...] — a private CA and one certificate per service for mutual TLS
# between the services (docs/operations.md, "Mutual TLS"). Development and first setup only:
# in production, issue them from your own CA (cert-manager, Vault, ...) with the same names.
#
#   OUT_DIR/ca.crt, OUT_DIR/ca.key          the CA (keep ca.key offline; it signs every peer)
#   OUT_DIR/NAME/tls.crt, tls.key, ca.crt   per service: certificate, key, and the CA to trust
#
# NAMEs default to auth mfa delivery token gateway. Each certificate serves as server and client
# certificate (extendedKeyUsage serverAuth, clientAuth) and names: NAME, NAME.idp,
# NAME.idp.svc, NAME.idp.svc.cluster.local (compose and Kubernetes service names), localhost
# and 127.0.0.1. An existing CA in OUT_DIR is reused, so more names can be added later.
# Keys are EC P-256, valid for IDP_CERT_DAYS days (default 825). Needs the openssl CLI.
set -euo pipefail
out="${1:?usage: gen-certs.sh OUT_DIR [NAME...]}"
shift
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(auth mfa delivery token gateway)
days="${IDP_CERT_DAYS:-825}"
umask 077
mkdir -p "$out"

if [ ! -f "$out/ca.key" ]; then
  openssl req -x509 -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 \
    -days "$((days + 365))" -subj "/CN=idp internal CA" \
    -addext "basicConstraints=critical,CA:TRUE,pathlen:0" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$out/ca.key" -out "$out/ca.crt" 2>/dev/null
fi

for name in "${names[@]}"; do
  [[ "$name" =~ ^[a-z0-9-]+$ ]] || { echo "gen-certs: bad name: $name" >&2; exit 2; }
  dir="$out/$name"
  mkdir -p "$dir"
  ext="$(mktemp)"
  cat >"$ext" <<EXT
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth,clientAuth
subjectAltName=DNS:$name,DNS:$name.idp,DNS:$name.idp.svc,DNS:$name.idp.svc.cluster.local,DNS:localhost,IP:127.0.0.1
EXT
  openssl req -new -nodes -newkey ec -pkeyopt ec_paramgen_curve:P-256 -sha256 \
    -subj "/CN=$name" -keyout "$dir/tls.key" -out "$dir/tls.csr" 2>/dev/null
  openssl x509 -req -in "$dir/tls.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -days "$days" -sha256 -extfile "$ext" -out "$dir/tls.crt" 2>/dev/null
  rm -f "$ext" "$dir/tls.csr"
  cp "$out/ca.crt" "$dir/ca.crt"
  chmod 0644 "$dir/tls.crt" "$dir/ca.crt"
  chmod 0600 "$dir/tls.key"
done
chmod 0644 "$out/ca.crt"
echo "certificates for ${names[*]} in $out (CA: $out/ca.crt)"
