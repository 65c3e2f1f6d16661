#!/usr/bin/env bash
# Side by side, one run, one server: `authprobe tls`, sslyze and sslscan against a local
# nginx offering TLS 1.0-1.3 and OpenSSL's whole suite list (RSA and ECDSA certificates,
# FFDHE-2048 parameters). Prints wall times, ratios, authprobe's handshake count, and
# whether authprobe found every suite the other two found.
#
#   bash crates/authprobe/bench/tls-vs-sslyze-sslscan.sh
#   RUNS=5 SSLYZE=/path/to/venv/bin/sslyze bash crates/authprobe/bench/tls-vs-sslyze-sslscan.sh
#
# Installs nothing. Needs nginx, openssl, sslscan (apt-get install nginx sslscan), sslyze
# (pip install sslyze; set SSLYZE when it is not on PATH), jq and python3.
set -euo pipefail

RUNS=${RUNS:-3}
SSLYZE=${SSLYZE:-sslyze}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

missing=()
for t in nginx openssl sslscan "$SSLYZE" jq python3; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if ((${#missing[@]})); then
    echo "missing: ${missing[*]} (nginx/sslscan from Debian, sslyze from PyPI; SSLYZE=path)" >&2
    exit 1
fi

(cd "$ROOT" && cargo build --release -q -p authprobe)
AUTHPROBE=$CARGO_TARGET_DIR/release/authprobe

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tls-bench.XXXXXX")
NGINX_PID=
cleanup() {
    [[ -n $NGINX_PID ]] && kill "$NGINX_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

# A test CA, RSA-2048 and P-256 leaves for localhost, FFDHE-2048 parameters.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key -out ca.crt \
    -subj "/CN=authprobe bench CA" -days 2 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' >leaf.ext
for k in rsa ec; do
    if [[ $k == rsa ]]; then spec=(-newkey rsa:2048); else spec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256); fi
    openssl req -new "${spec[@]}" -nodes -keyout $k.key -out $k.csr -subj /CN=localhost 2>/dev/null
    openssl x509 -req -in $k.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -extfile leaf.ext \
        -out $k.crt 2>/dev/null
done
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out dh.pem

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p tmp
cat >nginx.conf <<EOF
daemon off; master_process off; worker_processes 1;
error_log $WORK/error.log; pid $WORK/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $WORK/tmp; proxy_temp_path $WORK/tmp; fastcgi_temp_path $WORK/tmp;
  uwsgi_temp_path $WORK/tmp; scgi_temp_path $WORK/tmp;
  server {
    listen 127.0.0.1:$PORT ssl; server_name localhost;
    ssl_certificate $WORK/rsa.crt; ssl_certificate_key $WORK/rsa.key;
    ssl_certificate $WORK/ec.crt; ssl_certificate_key $WORK/ec.key;
    ssl_dhparam $WORK/dh.pem;
    ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
    ssl_ciphers ALL:COMPLEMENTOFALL:@SECLEVEL=0;
    ssl_prefer_server_ciphers off;
    location / { return 200 "ok\n"; }
  }
}
EOF
nginx -p "$WORK" -c "$WORK/nginx.conf" -e "$WORK/error.log" &
NGINX_PID=$!
for _ in $(seq 100); do
    (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && break
    sleep 0.05
done
TARGET=127.0.0.1:$PORT
echo "nginx $(nginx -v 2>&1 | sed 's/.*\///'), $(openssl version | cut -d' ' -f1-2), on $TARGET; $(nproc) cores; best of $RUNS runs each"

# Best wall time of $RUNS runs of "$@", in seconds; the last run's output stays in $OUT.
best() {
    local best=999999 t0 t1 dt
    for _ in $(seq "$RUNS"); do
        t0=$(date +%s.%N)
        "$@" >"$OUT" 2>"$OUT.err" || true
        t1=$(date +%s.%N)
        dt=$(echo "$t1 - $t0" | bc -l)
        if (($(echo "$dt < $best" | bc -l))); then best=$dt; fi
    done
    printf '%.3f' "$best"
}

OUT=$WORK/authprobe.json
T_AP=$(best "$AUTHPROBE" tls "$TARGET" --sni localhost --server-ca ca.crt --format json)
OUT=$WORK/sslyze.out
T_SY=$(best "$SSLYZE" --sslv2 --sslv3 --tlsv1 --tlsv1_1 --tlsv1_2 --tlsv1_3 --elliptic_curves \
    --certinfo --certinfo_ca_file ca.crt --sni localhost --mozilla_config disable \
    --json_out "$WORK/sslyze.json" "$TARGET")
OUT=$WORK/sslscan.out
T_SS=$(best sslscan --no-colour --sni-name=localhost "$TARGET")

HANDSHAKES=$(jq '.tls.handshakes' authprobe.json)
FINDINGS=$(jq -r '[.findings[].id] | join(", ")' authprobe.json)

# Suites per protocol, as "PROTOCOL NAME" lines in OpenSSL names, for each tool.
jq -r '.tls.protocols[] | select(.accepted) | .version as $v | .suites[] | "\($v) \(.openssl_name // .name)"' \
    authprobe.json | sort -u >ap.txt
awk '$1=="Accepted"||$1=="Preferred" { print $2, $5 }' sslscan.out | sort -u >ss.txt
python3 - "$WORK/sslyze.json" >sy.txt <<'PY'
import json, sys
names = {"ssl_3_0": "SSLv3", "tls_1_0": "TLSv1.0", "tls_1_1": "TLSv1.1", "tls_1_2": "TLSv1.2", "tls_1_3": "TLSv1.3"}
r = json.load(open(sys.argv[1]))["server_scan_results"][0]["scan_result"]
for key, v in names.items():
    res = (r.get(f"{key}_cipher_suites") or {}).get("result") or {}
    for s in res.get("accepted_cipher_suites", []):
        print(v, s["cipher_suite"]["openssl_name"] or s["cipher_suite"]["name"])
PY
sort -u -o sy.txt sy.txt

echo
printf '%-22s %8s %8s  %s\n' tool "wall s" suites "vs authprobe"
printf '%-22s %8s %8s  %s\n' "authprobe tls" "$T_AP" "$(wc -l <ap.txt)" "$HANDSHAKES handshakes"
printf '%-22s %8s %8s  %sx slower\n' "sslyze $("$SSLYZE" --help | sed -n 's/^SSLyze version //p')" "$T_SY" "$(wc -l <sy.txt)" \
    "$(echo "scale=1; $T_SY / $T_AP" | bc -l)"
printf '%-22s %8s %8s  %sx slower\n' "sslscan $(sslscan --version | sed -n 's/\x1b\[[0-9;]*m//g; s/^[[:space:]]*\([0-9][0-9.]*\).*/\1/p' | head -1)" "$T_SS" "$(wc -l <ss.txt)" \
    "$(echo "scale=2; $T_SS / $T_AP" | bc -l)"
echo
for other in sy ss; do
    name=$([[ $other == sy ]] && echo sslyze || echo sslscan)
    missed=$(comm -13 ap.txt $other.txt)
    extra=$(comm -23 ap.txt $other.txt)
    if [[ -z $missed ]]; then
        echo "authprobe finds every suite $name finds"
    else
        echo "authprobe MISSES what $name finds:"; echo "$missed" | sed 's/^/  /'
    fi
    [[ -z $extra ]] || { echo "  authprobe also lists (not in $name):"; echo "$extra" | sed 's/^/    /'; }
done
echo "authprobe findings: $FINDINGS"
