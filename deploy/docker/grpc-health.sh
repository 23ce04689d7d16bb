#!/usr/bin/env bash
# grpc-health.sh HOST:PORT — exit 0 when the service there answers grpc.health.v1.Health/Check
# with SERVING; 1 otherwise. A gRPC call over HTTP/2 made with curl (there is no
# grpc_health_probe in Debian): the container health check of the backend services.
# When the service requires mutual TLS, the call presents the container's own certificate: the
# files named by IDP_RPC_TLS_CERT, IDP_RPC_TLS_KEY and IDP_RPC_TLS_CA (the service's settings).
set -uo pipefail
target="${1:?usage: grpc-health.sh HOST:PORT}"
tls=()
scheme=http
if [ -n "${IDP_RPC_TLS_CERT:-}" ]; then
  tls=(--http2 --cacert "${IDP_RPC_TLS_CA:?IDP_RPC_TLS_CA}" --cert "$IDP_RPC_TLS_CERT"
       --key "${IDP_RPC_TLS_KEY:?IDP_RPC_TLS_KEY}")
  scheme=https
else
  tls=(--http2-prior-knowledge)
fi
# An empty HealthCheckRequest is a 5-byte frame (no compression, length 0); SERVING comes back as
# the frame 00 00000002 0801 (HealthCheckResponse{status: 1}) with grpc-status 0.
answer="$(printf '\0\0\0\0\0' | curl -sS --max-time "${GRPC_HEALTH_TIMEOUT:-2}" "${tls[@]}" \
  -X POST -H 'content-type: application/grpc' -H 'te: trailers' --data-binary @- \
  "$scheme://$target/grpc.health.v1.Health/Check" | od -An -v -tx1 | tr -d ' \n')"
[ "$answer" = "00000000020801" ] && exit 0
echo "grpc-health: $target is not SERVING (answer: ${answer:-none})" >&2
exit 1
