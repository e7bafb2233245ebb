#!/usr/bin/env bash
# Scans a direct-TLS gleh on loopback with testssl.sh (Debian package) and prints the result.
# Usage: bash scripts/testssl.sh [OUTPUT_FILE]     (default: bench/results/testssl.txt)
# Goal (issue 3): no finding above LOW, no TLS 1.0/1.1, grade A or better.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-bench/results/testssl.txt}
mkdir -p "$(dirname "$out")"

if ! command -v testssl >/dev/null 2>&1 && ! command -v testssl.sh >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends testssl.sh bsdextrainfo >/dev/null 2>&1 \
    || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends testssl.sh >/dev/null
fi
tool=$(command -v testssl || command -v testssl.sh)

cargo build --release --locked -q
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A private CA (handed to testssl.sh with --add-ca, as a public CA would be in its trust
# store) and an ECDSA P-256 leaf for localhost, valid 90 days (Mozilla's recommended
# lifetime), with a CRL distribution point as public CAs include.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
  -subj "/CN=GLEH test CA" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -subj "/CN=localhost" -keyout "$work/key.pem" -out "$work/leaf.csr" 2>/dev/null
printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
  "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" \
  "crlDistributionPoints=URI:http://localhost/gleh-test-ca.crl" >"$work/leaf.ext"
openssl x509 -req -in "$work/leaf.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 90 -extfile "$work/leaf.ext" -out "$work/leaf.pem" 2>/dev/null
cat "$work/leaf.pem" "$work/ca.pem" >"$work/cert.pem"
chmod 400 "$work/key.pem"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export GLEH_ENV=production SECRET_KEY=$(target/release/gleh gen-secret) \
  DATABASE_URL="sqlite://$work/gleh.db" BIND="127.0.0.1:$port" TLS_CERT="$work/cert.pem" \
  TLS_KEY="$work/key.pem" PUBLIC_URL="https://localhost:$port" LOG_FORMAT=json
target/release/gleh migrate >/dev/null
target/release/gleh serve 2>"$work/gleh.log" &
pid=$!
for _ in $(seq 1 50); do grep -q '"event":"listening"' "$work/gleh.log" 2>/dev/null && break; sleep 0.1; done

rm -f "$out.json"
"$tool" --quiet --color 0 --warnings batch --sneaky --ip 127.0.0.1 --add-ca "$work/ca.pem" --jsonfile "$out.json" "https://localhost:$port/" | tee "$out"
echo
echo "Findings by severity (testssl.sh JSON):"
python3 - "$out.json" <<'PY'
import json, sys, collections
findings = json.load(open(sys.argv[1]))
count = collections.Counter(f.get("severity", "?") for f in findings)
print("  " + ", ".join(f"{k}: {v}" for k, v in sorted(count.items())))
for f in findings:
    if f.get("severity") in ("MEDIUM", "HIGH", "CRITICAL"):
        print(f"  {f['severity']:8} {f['id']}: {f['finding']}")
PY
echo
echo "saved to $out"
