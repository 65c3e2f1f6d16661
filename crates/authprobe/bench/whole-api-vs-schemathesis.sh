#!/usr/bin/env bash
# Side by side, one run, one lab: authprobe's whole-API scan and Schemathesis's
# `ignored_auth` check against the lab's own OpenAPI 3.1 description, with the same
# credentials (the lab's bearer token and client certificate). The lab leaves four
# operations unenforced (`--flaw auth.missing`) and declares one public on purpose.
# Prints, for each tool: recall of the unenforced operations, false positives (enforced or
# public operations reported), requests sent and wall time. Then a generated
# 1,000-operation description: authprobe's wall time, requests and peak memory.
#
#   bash crates/authprobe/bench/whole-api-vs-schemathesis.sh
#   SCHEMATHESIS=/path/to/venv/bin/schemathesis bash crates/authprobe/bench/whole-api-vs-schemathesis.sh
#
# Installs nothing. Needs schemathesis (pip install schemathesis; 4.x), python3 and GNU
# time (/usr/bin/time, Debian package `time`).
set -euo pipefail

SCHEMATHESIS=${SCHEMATHESIS:-schemathesis}
ROOT=$(cd "$(dirname "$0")/../../.." && pwd)
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

missing=()
for t in "$SCHEMATHESIS" python3 /usr/bin/time; do
    command -v "$t" >/dev/null 2>&1 || missing+=("$t")
done
if ((${#missing[@]})); then
    echo "missing: ${missing[*]} (schemathesis from PyPI, SCHEMATHESIS=path; time from Debian)" >&2
    exit 1
fi

(cd "$ROOT" && cargo build --release -q -p authprobe)
AUTHPROBE=$CARGO_TARGET_DIR/release/authprobe

WORK=$(mktemp -d "${TMPDIR:-/tmp}/api-bench.XXXXXX")
LAB_PID=
cleanup() {
    [[ -n $LAB_PID ]] && kill "$LAB_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT
cd "$WORK"

start_lab() {
    rm -f ready.json
    "$AUTHPROBE" lab --profile hardened "$@" --ready-file ready.json >lab.log 2>&1 &
    LAB_PID=$!
    for _ in $(seq 100); do [[ -s ready.json ]] && return 0; sleep 0.1; done
    echo "the lab did not start: $(cat lab.log)" >&2
    exit 1
}
stop_lab() { kill "$LAB_PID" 2>/dev/null || true; wait "$LAB_PID" 2>/dev/null || true; LAB_PID=; }
field() { python3 -c "import json,sys; print(json.load(open('ready.json'))['$1'])"; }
now() { date +%s.%N; }

# A fresh lab for each run: a scan's failed-login checks (basic.no_lockout) trip the lab's
# throttle for the user, which would refuse the next tool's Basic logins.
start_lab --flaw auth.missing
echo "lab: $(field openapi_url)"
echo
# authprobe, every check (the deep suites once, the enforcement checks on every operation).
t0=$(now)
"$AUTHPROBE" scan --lab ready.json --spec auto -o full.json --format json --no-progress -q >/dev/null || true
t1=$(now)
stop_lab

# authprobe, the enforcement check alone: what Schemathesis's ignored_auth looks for.
start_lab --flaw auth.missing
t1b=$(now)
"$AUTHPROBE" scan --lab ready.json --spec auto --checks auth.missing -o light.json --format json --no-progress -q >/dev/null || true
t2=$(now)
stop_lab

# Schemathesis with its ignored_auth check, the same description and credentials, its
# default phases and examples.
start_lab --flaw auth.missing
cp ready.json ready-st.json
t2b=$(now)
"$SCHEMATHESIS" run "$(field openapi_url)" --checks ignored_auth -H "Authorization: Bearer $(field token)" \
    --request-cert "$(field client_cert)" --request-cert-key "$(field client_key)" --tls-verify "$(field ca_cert)" \
    --report har,junit --report-dir st --no-color >st.log 2>&1 || true
t3=$(now)

python3 - "$t0" "$t1" "$t1b" "$t2" "$t2b" "$t3" <<'EOF'
import json, sys, glob, re
import xml.etree.ElementTree as ET
t0, t1, t1b, t2, t2b, t3 = map(float, sys.argv[1:])
ready = json.load(open("ready-st.json"))
truth = set(ready["unenforced_operations"])

def authprobe(path):
    r = json.load(open(path))
    flagged = {o.get("operation_id") for o in r.get("operations", [])
               if any(f["id"] == "auth.missing" for f in o.get("findings", []))}
    return flagged, r["requests_sent"], r["api"]["probed"], r["api"]["operations_total"]

# The lab's operations by "METHOD path template" for Schemathesis's test names.
doc = None
import ssl, urllib.request
ctx = ssl.create_default_context(cafile=ready["ca_cert"])
ctx.load_cert_chain(ready["client_cert"], ready["client_key"])
doc = json.load(urllib.request.urlopen(ready["openapi_url"], context=ctx))
by_label = {}
for path, item in doc["paths"].items():
    for m, op in item.items():
        if isinstance(op, dict) and "operationId" in op:
            by_label[f"{m.upper()} {path}"] = op["operationId"]

st_flagged = set()
for f in glob.glob("st/junit-*.xml"):
    for case in ET.parse(f).getroot().iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            text = " ".join((e.text or "") + " " + str(e.attrib) for e in case)
            if "auth" in text.lower():
                name = case.attrib.get("name", "")
                op = by_label.get(name.strip())
                st_flagged.add(op or name)
st_requests = 0
for f in glob.glob("st/har-*.json"):
    st_requests += len(json.load(open(f))["log"]["entries"])

def row(name, flagged, requests, secs):
    found = len(flagged & truth)
    fp = sorted(flagged - truth)
    print(f"{name:34} recall {found}/{len(truth)}  false positives {len(fp)}  "
          f"requests {requests:6}  wall {secs:7.2f} s" + (f"  FP: {fp}" if fp else ""))

full, full_req, probed, total = authprobe("full.json")
light, light_req, _, _ = authprobe("light.json")
print(f"{total} operations in the description, {probed} probed by authprobe (the others are "
      f"unsafe methods, declared public, or undeclared), {len(truth)} unenforced: {sorted(truth)}")
row("authprobe (every check)", full, full_req, t1 - t0)
row("authprobe --checks auth.missing", light, light_req, t2 - t1b)
row("schemathesis --checks ignored_auth", st_flagged, st_requests, t3 - t2b)
print(f"time ratio (schemathesis / authprobe every check): {(t3 - t2b) / (t1 - t0):.1f}x")
print(f"time ratio (schemathesis / authprobe auth.missing): {(t3 - t2b) / (t2 - t1b):.1f}x")
EOF
echo "(schemathesis's own summary: $(grep -E 'passed|failed' st.log | tail -1))"
stop_lab

echo
start_lab --generated-operations 1000
# --rate 0: the default of 100 requests per second per host would make this run last
# requests/100 seconds whatever the scanner does; --max-time leaves room for that.
/usr/bin/time -f '%e %M' -o time.txt "$AUTHPROBE" scan --lab ready.json --spec auto --rate 0 --max-time 30m \
    -o gen.json --format json --no-progress -q >/dev/null || true
python3 - <<'EOF'
import json
r = json.load(open("gen.json"))
wall, kib = open("time.txt").read().split()
a = r["api"]
print(f"generated description: {a['operations_total']} operations, {a['probed']} probed, "
      f"{a['not_probed_budget']} not probed (budget), {r['requests_sent']} requests, "
      f"wall {float(wall):.2f} s (--rate 0), peak RSS {int(kib) / 1024:.1f} MiB; at the default "
      f"--rate 100 per host it would take about {r['requests_sent'] / 100:.0f} s")
EOF
