#!/usr/bin/env bash
# test-workers.sh: run every worker body of this example for real, the way
# jobctl's wrapper runs it (params as environment variables, the lib/sh
# functions arriving through BASH_ENV, $JOBCTL_REPORT_DATA, cwd = a fresh
# workspace), against the models in models/, and check the key outputs and
# failure messages exactly. Runs once per awk found (mawk, gawk), since the
# bodies must work on both.
#
# Needs bash, coreutils, sed, awk, curl and python3 (python3 checks the JSON
# and serves HTTP locally; the bodies themselves do not use it).
# Exits nonzero if any check fails.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if ! command -v python3 >/dev/null 2>&1; then
  echo "test-workers.sh: python3 is needed to check the JSON and to serve HTTP locally; install it" >&2
  exit 1
fi
for tool in curl sed od sha256sum truncate; do
  command -v "$tool" >/dev/null 2>&1 || { echo "test-workers.sh: $tool is needed" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/modelshop-test.XXXXXX")
server_pid=''
cleanup() {
  if [[ -n $server_pid ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

models=$here/models
cat "$here"/lib/sh/*.sh >"$tmp/lib.sh"

# --- helpers -----------------------------------------------------------------

# check.py FILE [PATH=JSON]...: FILE must hold a JSON object; each PATH
# (dot-separated keys and list indexes; "-" for the whole value) must hold
# the JSON value given. Prints one line per mismatch.
cat >"$tmp/check.py" <<'PY'
import json, sys
try:
    with open(sys.argv[1], encoding="utf-8") as f:
        doc = json.load(f)
except Exception as e:
    print("data is not JSON: %s" % e)
    sys.exit(1)
if not isinstance(doc, dict):
    print("data is not a JSON object")
    sys.exit(1)
bad = 0
for arg in sys.argv[2:]:
    path, _, want = arg.partition("=")
    want = json.loads(want)
    got = doc
    try:
        for key in ([] if path == "-" else path.split(".")):
            got = got[int(key)] if isinstance(got, list) else got[key]
    except (KeyError, IndexError, ValueError, TypeError):
        print("%s: missing" % path)
        bad = 1
        continue
    if got != want or type(got) is bool and type(want) is not bool or type(want) is bool and type(got) is not bool:
        print("%s: want %s, got %s" % (path, json.dumps(want), json.dumps(got)[:200]))
        bad = 1
sys.exit(bad)
PY

# A local HTTP server: GET /models/<file> serves models/ (404 otherwise),
# GET /empty is empty; POST /parts, /parts-num, /parts-noid, /flaky (503
# once), /reject (422) answer like a registration endpoint; PUT stores.
# Every request body is saved under its path in $tmp/http/.
mkdir -p "$tmp/http"
cat >"$tmp/server.py" <<'PY'
import http.server, os, sys
port_file, models, store = sys.argv[1:4]
hits = {}
class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def reply(self, code, body, ctype="application/json"):
        body = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def save(self):
        n = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(n)
        name = self.path.split("?")[0].strip("/").replace("/", "_") or "root"
        with open(os.path.join(store, name), "wb") as f:
            f.write(body)
        with open(os.path.join(store, name + ".type"), "w") as f:
            f.write(self.headers.get("Content-Type", ""))
        return name
    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/models/"):
            f = os.path.join(models, os.path.basename(path))
            if os.path.isfile(f):
                with open(f, "rb") as fh:
                    return self.reply(200, fh.read(), "application/octet-stream")
        if path == "/empty":
            return self.reply(200, b"")
        self.reply(404, "not found")
    def do_POST(self):
        name = self.save()
        hits[name] = hits.get(name, 0) + 1
        if name == "parts":
            return self.reply(201, '{"ok": true, "id": "part-\\"7\\"", "owner": {"id": "nested"}}')
        if name == "parts-num":
            return self.reply(200, '{\n  "id": 42\n}')
        if name == "parts-noid":
            return self.reply(200, "{}")
        if name.startswith("flaky") and hits[name] == 1:
            return self.reply(503, "try again")
        if name.startswith("flaky"):
            return self.reply(201, '{"id": "p-1"}')
        if name == "reject":
            return self.reply(422, '{"error": "no volume"}')
        self.reply(404, "{}")
    def do_PUT(self):
        self.save()
        self.reply(204, b"")
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
PY
python3 "$tmp/server.py" "$tmp/port" "$models" "$tmp/http" &
server_pid=$!
for _ in $(seq 50); do
  [[ -s $tmp/port ]] && break
  sleep 0.1
done
[[ -s $tmp/port ]] || { echo "test-workers.sh: the test HTTP server did not start" >&2; exit 1; }
base="http://127.0.0.1:$(cat "$tmp/port")"

# A stand-in for the aws CLI: "aws s3 cp SRC DEST" with s3://bucket/key
# mapped to $tmp/s3/bucket/key.
mkdir -p "$tmp/fake-aws" "$tmp/s3/bucket"
cat >"$tmp/fake-aws/aws" <<EOF
#!/usr/bin/env bash
set -euo pipefail
[[ \$1 == s3 && \$2 == cp ]] || { echo "fake aws: unsupported: \$*" >&2; exit 2; }
shift 2
args=()
for a in "\$@"; do [[ \$a == --* ]] || args+=("\$a"); done
map() { case \$1 in s3://*) echo "$tmp/s3/\${1#s3://}" ;; *) echo "\$1" ;; esac; }
src=\$(map "\${args[0]}")
dest=\$(map "\${args[1]}")
[[ -f \$src ]] || { echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key not found" >&2; exit 1; }
mkdir -p "\$(dirname "\$dest")"
cp "\$src" "\$dest"
EOF
chmod +x "$tmp/fake-aws/aws"
cp "$models/cube.stl" "$tmp/s3/bucket/cube.stl"

# Extra models made here: a binary STL (12 zero triangles), one whose header
# starts with "solid" like some exporters write, a CRLF + upper-case copy of
# the prism, a cube with one facet turned over, a cube with a zero-area
# triangle (closed, and with the not_closed hole), a cube with a facet
# twice, two triangles back to back, a truncated cube, an empty file, a text
# file and one byte over the size limit.
extra=$tmp/models
mkdir -p "$extra"
{ head -c 80 /dev/zero; printf '\014\000\000\000'; head -c 600 /dev/zero; } >"$extra/binary.stl"
{ printf 'solid exported by a binary writer'; head -c 47 /dev/zero; printf '\001\000\000\000'; head -c 50 /dev/zero; } >"$extra/binary_solid.stl"
sed 's/$/\r/' "$models/hex_prism.stl" | tr 'a-z' 'A-Z' >"$extra/PRISM_CRLF.STL"
# lines 4-5 of cube.stl are the first facet's first two vertices: swap them
awk 'NR == 4 { a = $0; next } NR == 5 { print; print a; next } { print }' "$models/cube.stl" >"$extra/flipped.stl"
# lines 2-8 of cube.stl (and not_closed.stl) are the first facet,
# a = (0 0 0), b = (0 20 0), c = (20 20 0): split it at m = (10 20 0), the
# middle of b-c, into a-b-m and a-m-c, and close the gap along b-c with the
# zero-area triangle m-b-c (still closed: every edge is used twice, in
# opposite directions)
split=$(printf '  facet normal 0 0 -1\n    outer loop\n      vertex %s\n      vertex %s\n      vertex %s\n    endloop\n  endfacet\n' \
  '0 0 0' '0 20 0' '10 20 0' '0 0 0' '10 20 0' '20 20 0' '10 20 0' '0 20 0' '20 20 0')
awk -v q="$split" 'NR == 2 { print q } NR >= 2 && NR <= 8 { next } { print }' "$models/cube.stl" >"$extra/degenerate.stl"
awk -v q="$split" 'NR == 2 { print q } NR >= 2 && NR <= 8 { next } { print }' "$models/not_closed.stl" >"$extra/open_degenerate.stl"
# the first facet twice: its 3 edges are used by 3 triangles
awk 'NR >= 2 && NR <= 8 { f = f (NR > 2 ? "\n" : "") $0 } { print } NR == 8 { print f }' "$models/cube.stl" >"$extra/doubled.stl"
printf 'solid flat\n' >"$extra/flat.stl"
printf '  facet normal 0 0 0\n    outer loop\n      vertex %s\n      vertex %s\n      vertex %s\n    endloop\n  endfacet\n' \
  '0 0 0' '10 0 0' '0 10 0' '0 0 0' '0 10 0' '10 0 0' >>"$extra/flat.stl"
printf 'endsolid flat\n' >>"$extra/flat.stl"
head -n 40 "$models/cube.stl" >"$extra/truncated.stl"
printf 'solid nothing\nendsolid nothing\n' >"$extra/no_triangles.stl"
: >"$extra/empty.stl"
printf 'hello, world\n' >"$extra/hello.txt"
truncate -s 52428801 "$extra/huge.stl"

passed=0
failed=0
current_awk=''

# run JOB [VAR=VALUE...]: run JOB's body in a fresh workspace, as the
# wrapper would. Sets ws (the workspace), rc and last (the last line out).
run() {
  local job=$1
  shift
  ws=$(mktemp -d "$tmp/ws.XXXXXX")
  rc=0
  (cd "$ws" && env -i PATH="$run_path" HOME="$ws" BASH_ENV="$tmp/lib.sh" \
    JOBCTL_REPORT_DATA="$ws/data.json" WORKSPACE="$ws" "$@" \
    bash "$here/jobs/$job/run.sh") >"$ws/log" 2>&1 || rc=$?
  last=$(grep -v '^[[:space:]]*$' "$ws/log" | tail -n 1 || true)
}

pass() {
  passed=$((passed + 1))
  echo "ok    $1 [$current_awk]"
}

fail() {
  failed=$((failed + 1))
  echo "FAIL  $1 [$current_awk]"
  shift
  printf '        %s\n' "$@"
  if [[ -f $ws/log ]]; then
    sed 's/^/        | /' "$ws/log" | tail -n 8
  fi
}

# ok TITLE JOB [VAR=VALUE...] -- [PATH=JSON...]: the body succeeds and its
# data matches.
ok() {
  local title=$1 job=$2 args=() out
  shift 2
  while (($#)) && [[ $1 != -- ]]; do
    args+=("$1")
    shift
  done
  shift
  run "$job" "${args[@]}"
  if ((rc != 0)); then
    fail "$title" "exit $rc: $last"
    return
  fi
  if [[ ! -f $ws/data.json ]]; then
    fail "$title" "no data written to \$JOBCTL_REPORT_DATA"
    return
  fi
  if out=$(python3 "$tmp/check.py" "$ws/data.json" "$@"); then
    pass "$title"
  else
    fail "$title" "$out"
  fi
}

# bad TITLE JOB [VAR=VALUE...] -- MESSAGE [PATH=JSON...]: the body fails and
# its last line is MESSAGE; data, when paths are given, matches.
bad() {
  local title=$1 job=$2 args=() want out
  shift 2
  while (($#)) && [[ $1 != -- ]]; do
    args+=("$1")
    shift
  done
  shift
  want=$1
  shift
  run "$job" "${args[@]}"
  if ((rc == 0)); then
    fail "$title" "succeeded; want failure: $want"
    return
  fi
  if [[ $last != "$want" ]]; then
    fail "$title" "last line: $last" "want:      $want"
    return
  fi
  if (($#)) && ! out=$(python3 "$tmp/check.py" "$ws/data.json" "$@"); then
    fail "$title" "$out"
    return
  fi
  pass "$title"
}

# same TITLE FILE1 FILE2: the two files are identical.
same() {
  if cmp -s "$2" "$3"; then
    pass "$1"
  else
    fail "$1" "$2 and $3 differ"
  fi
}

# --- the checks ----------------------------------------------------------------

suite() {
  local cube_size cube_sum
  cube_size=$(wc -c <"$models/cube.stl")
  cube_size=$((cube_size + 0))
  cube_sum=$(sha256sum <"$models/cube.stl")
  cube_sum=${cube_sum%% *}

  # lib/sh: json_str round-trips through a JSON parser.
  local nasty=$'back\\slash "quote" tab\t nl\n cr\r bell\a esc\x1b del\x7f & é ✓'
  env -i PATH="$run_path" BASH_ENV="$tmp/lib.sh" S="$nasty" bash -c 'printf "{\"s\": %s}" "$(json_str "$S")"' >"$tmp/json_str.json"
  ws=$tmp
  local want
  want=$(S="$nasty" python3 -c 'import json, os; print(json.dumps(os.environ["S"]))')
  if out=$(python3 "$tmp/check.py" "$tmp/json_str.json" "s=$want"); then pass "json_str escapes"; else fail "json_str escapes" "$out"; fi

  # fetch_model
  ok "fetch_model: local path" fetch_model SOURCE="$models/cube.stl" -- \
    name='"cube.stl"' path='"model.stl"' format='"ascii_stl"' size_bytes="$cube_size" sha256="\"$cube_sum\""
  same "fetch_model: the copy is exact" "$models/cube.stl" "$ws/model.stl"
  ok "fetch_model: file:// URL and DEST" fetch_model SOURCE="file://$models/hex_prism.stl" DEST=in/model.stl -- \
    name='"hex_prism.stl"' path='"in/model.stl"' format='"ascii_stl"'
  ok "fetch_model: http URL" fetch_model SOURCE="$base/models/cube.stl?sig=1" -- \
    name='"cube.stl"' format='"ascii_stl"' size_bytes="$cube_size" sha256="\"$cube_sum\""
  ok "fetch_model: s3 URL (aws CLI stand-in)" fetch_model SOURCE=s3://bucket/cube.stl PATH="$tmp/fake-aws:$run_path" -- \
    name='"cube.stl"' size_bytes="$cube_size"
  bad "fetch_model: s3 object missing" fetch_model SOURCE=s3://bucket/nope.stl PATH="$tmp/fake-aws:$run_path" -- \
    "could not fetch s3://bucket/nope.stl with the aws CLI (no such object, or no access)"
  if ! PATH=$run_path command -v aws >/dev/null 2>&1; then
    bad "fetch_model: s3 without the aws CLI" fetch_model SOURCE=s3://bucket/cube.stl -- \
      "cannot fetch s3://bucket/cube.stl: the aws CLI is not installed on this agent (needed for s3:// sources)"
  fi
  ok "fetch_model: binary STL" fetch_model SOURCE="$extra/binary.stl" -- format='"binary_stl"' size_bytes=684
  ok "fetch_model: binary STL whose header says solid" fetch_model SOURCE="$extra/binary_solid.stl" -- format='"binary_stl"'
  bad "fetch_model: HTTP 404" fetch_model SOURCE="$base/models/missing.stl?token=secret" -- \
    "model not found: HTTP 404 from $base/models/missing.stl?..."
  bad "fetch_model: missing file" fetch_model SOURCE="$extra/missing.stl" -- "model file not found: $extra/missing.stl"
  bad "fetch_model: empty file" fetch_model SOURCE="$extra/empty.stl" -- "model file is empty: $extra/empty.stl"
  bad "fetch_model: empty download" fetch_model SOURCE="$base/empty" -- "model file is empty: $base/empty"
  bad "fetch_model: over 50 MiB" fetch_model SOURCE="$extra/huge.stl" -- \
    "model is too large: 52428801 bytes (the limit is 52428800)"
  bad "fetch_model: not an STL" fetch_model SOURCE="$extra/hello.txt" -- \
    "hello.txt is not an STL file: it is neither ASCII STL (text starting with 'solid') nor binary STL (84 + 50 x triangles bytes)"
  bad "fetch_model: unsupported scheme" fetch_model SOURCE=ftp://host/cube.stl -- \
    "unsupported model source ftp://host/cube.stl: use a path, file://, http://, https:// or s3:// URL"
  bad "fetch_model: DEST outside the workspace" fetch_model SOURCE="$models/cube.stl" DEST=../x.stl -- \
    "DEST must be a relative path inside the workspace, found '../x.stl'"

  # inspect_model: volumes by hand. Cube: 20^3 = 8000, surface 6 x 400.
  # Prism: hexagon (10,0), (5,h), (-5,h), ... with h = 8.660254, area
  # 30h = 259.80762, x 30 high = 7794.2286; surface 2 x 259.80762 + 30 x
  # (2 x 10 + 4 x sqrt(25 + h^2)) = 2319.61523. Box: 300 x 100 x 50 =
  # 1500000, surface 2 x (30000 + 15000 + 5000) = 100000.
  ok "inspect_model: cube" inspect_model MODEL_URL="$models/cube.stl" -- \
    triangles=12 volume_mm3=8000 surface_area_mm2=2400 closed=true \
    bbox.min='[0, 0, 0]' bbox.max='[20, 20, 20]' bbox.size='[20, 20, 20]' \
    dimensions='{"x": 20, "y": 20, "z": 20}'
  ok "inspect_model: hexagonal prism" inspect_model MODEL_URL="$models/hex_prism.stl" -- \
    triangles=20 volume_mm3=7794.229 surface_area_mm2=2319.615 closed=true \
    bbox.min='[-10, -8.660254, 0]' bbox.max='[10, 8.660254, 30]' bbox.size='[20, 17.320508, 30]' \
    dimensions='{"x": 20, "y": 17.320508, "z": 30}'
  ok "inspect_model: too big box" inspect_model MODEL_URL="$models/too_big.stl" -- \
    triangles=12 volume_mm3=1500000 surface_area_mm2=100000 bbox.size='[300, 100, 50]' \
    dimensions='{"x": 300, "y": 100, "z": 50}'
  ok "inspect_model: CRLF, upper case" inspect_model MODEL_URL="$extra/PRISM_CRLF.STL" -- \
    triangles=20 volume_mm3=7794.229 surface_area_mm2=2319.615
  ok "inspect_model: over http" inspect_model MODEL_URL="$base/models/cube.stl" -- volume_mm3=8000
  bad "inspect_model: malformed" inspect_model MODEL_URL="$models/malformed.stl" -- \
    "malformed STL: malformed.stl line 26: expected 'vertex X Y Z' with 3 numbers, found 'vertex 20 20 2O'"
  # inspect_model only measures: a mesh that is not closed is no failure
  # (check_mesh judges it). not_closed lacks one x = 0 facet (area 200).
  ok "inspect_model: not closed" inspect_model MODEL_URL="$models/not_closed.stl" -- \
    triangles=11 closed=false surface_area_mm2=2200 bbox.size='[20, 20, 20]' dimensions='{"x": 20, "y": 20, "z": 20}'
  ok "inspect_model: a facet turned over" inspect_model MODEL_URL="$extra/flipped.stl" -- \
    triangles=12 closed=false surface_area_mm2=2400 dimensions='{"x": 20, "y": 20, "z": 20}'
  ok "inspect_model: a zero-area triangle" inspect_model MODEL_URL="$extra/degenerate.stl" -- \
    triangles=14 closed=true volume_mm3=8000 surface_area_mm2=2400
  ok "inspect_model: no enclosed volume" inspect_model MODEL_URL="$extra/flat.stl" -- \
    triangles=2 closed=true volume_mm3=0 surface_area_mm2=100 dimensions='{"x": 10, "y": 10, "z": 0}'
  bad "inspect_model: truncated" inspect_model MODEL_URL="$extra/truncated.stl" -- \
    "malformed STL: truncated.stl: the file ends at line 40 inside a facet"
  bad "inspect_model: no triangles" inspect_model MODEL_URL="$extra/no_triangles.stl" -- \
    "malformed STL: no_triangles.stl: the model has no triangles"
  bad "inspect_model: binary STL" inspect_model MODEL_URL="$extra/binary.stl" -- \
    "binary.stl is a binary STL; only ASCII STL is supported: export the model as ASCII STL"
  bad "inspect_model: not an STL" inspect_model MODEL_URL="$extra/hello.txt" -- "hello.txt is not an STL file"

  # check_mesh: judges the mesh; writes its counts even when it fails.
  ok "check_mesh: cube" check_mesh MODEL_URL="$models/cube.stl" -- \
    printable=true triangles=12 open_edges=0 nonmanifold_edges=0 flipped_edges=0 degenerate_triangles=0 problems='[]'
  ok "check_mesh: hexagonal prism" check_mesh MODEL_URL="$models/hex_prism.stl" -- \
    printable=true triangles=20 open_edges=0 nonmanifold_edges=0 flipped_edges=0 degenerate_triangles=0 problems='[]'
  ok "check_mesh: CRLF, upper case" check_mesh MODEL_URL="$extra/PRISM_CRLF.STL" -- printable=true triangles=20
  ok "check_mesh: over http" check_mesh MODEL_URL="$base/models/cube.stl" -- printable=true problems='[]'
  bad "check_mesh: not closed" check_mesh MODEL_URL="$models/not_closed.stl" -- \
    "the mesh is not printable: 3 open edges" \
    printable=false triangles=11 open_edges=3 nonmanifold_edges=0 flipped_edges=0 degenerate_triangles=0 \
    problems='["3 open edges"]'
  bad "check_mesh: a facet turned over" check_mesh MODEL_URL="$extra/flipped.stl" -- \
    "the mesh is not printable: 3 flipped edges" \
    printable=false open_edges=0 nonmanifold_edges=0 flipped_edges=3 degenerate_triangles=0 problems='["3 flipped edges"]'
  bad "check_mesh: a zero-area triangle" check_mesh MODEL_URL="$extra/degenerate.stl" -- \
    "the mesh is not printable: 1 degenerate triangle" \
    printable=false triangles=14 open_edges=0 nonmanifold_edges=0 flipped_edges=0 degenerate_triangles=1 \
    problems='["1 degenerate triangle"]'
  bad "check_mesh: a facet twice" check_mesh MODEL_URL="$extra/doubled.stl" -- \
    "the mesh is not printable: 3 non-manifold edges" \
    printable=false triangles=13 open_edges=0 nonmanifold_edges=3 flipped_edges=0 problems='["3 non-manifold edges"]'
  bad "check_mesh: every problem is named" check_mesh MODEL_URL="$extra/open_degenerate.stl" -- \
    "the mesh is not printable: 3 open edges, 1 degenerate triangle" \
    printable=false triangles=13 open_edges=3 degenerate_triangles=1 problems='["3 open edges", "1 degenerate triangle"]'
  bad "check_mesh: no enclosed volume" check_mesh MODEL_URL="$extra/flat.stl" -- \
    "the mesh is not printable: no enclosed volume" \
    printable=false open_edges=0 flipped_edges=0 degenerate_triangles=0 problems='["no enclosed volume"]'
  bad "check_mesh: malformed" check_mesh MODEL_URL="$models/malformed.stl" -- \
    "malformed STL: malformed.stl line 26: expected 'vertex X Y Z' with 3 numbers, found 'vertex 20 20 2O'"
  bad "check_mesh: binary STL" check_mesh MODEL_URL="$extra/binary.stl" -- \
    "binary.stl is a binary STL; only ASCII STL is supported: export the model as ASCII STL"

  # check_printability
  ok "check_printability: cube on mk4" check_printability SIZE_X=20 SIZE_Y=20 SIZE_Z=20 PRINTER=mk4 -- \
    fits=true rotated=false printer='"mk4"' build_volume='{"x": 250, "y": 210, "z": 220}'
  ok "check_printability: prism on mini" check_printability SIZE_X=20 SIZE_Y=17.320508 SIZE_Z=30 PRINTER=mini -- \
    fits=true build_volume='{"x": 180, "y": 180, "z": 180}'
  ok "check_printability: exactly the build volume" check_printability SIZE_X=250 SIZE_Y=210 SIZE_Z=220 PRINTER=mk4 -- fits=true
  ok "check_printability: fits turned about Z" check_printability SIZE_X=200 SIZE_Y=240 SIZE_Z=100 PRINTER=mk4 -- \
    fits=true rotated=true
  ok "check_printability: too big box on xl" check_printability SIZE_X=300 SIZE_Y=100 SIZE_Z=50 PRINTER=xl -- fits=true
  bad "check_printability: too big box on mk4" check_printability SIZE_X=300 SIZE_Y=100 SIZE_Z=50 PRINTER=mk4 -- \
    "model (300 x 100 x 50 mm) does not fit the mk4 (250 x 210 x 220 mm): too large by 50 mm in X" \
    fits=false printer='"mk4"' \
    reason='"model (300 x 100 x 50 mm) does not fit the mk4 (250 x 210 x 220 mm): too large by 50 mm in X"'
  bad "check_printability: too big box on mini" check_printability SIZE_X=300 SIZE_Y=100 SIZE_Z=50 PRINTER=mini -- \
    "model (300 x 100 x 50 mm) does not fit the mini (180 x 180 x 180 mm): too large by 120 mm in X" fits=false
  bad "check_printability: too big on two axes" check_printability SIZE_X=400 SIZE_Y=10 SIZE_Z=500 PRINTER=xl -- \
    "model (400 x 10 x 500 mm) does not fit the xl (360 x 360 x 360 mm): too large by 40 mm in X, 140 mm in Z"
  bad "check_printability: too big even turned" check_printability SIZE_X=200 SIZE_Y=260 SIZE_Z=100 PRINTER=mk4 -- \
    "model (200 x 260 x 100 mm) does not fit the mk4 (250 x 210 x 220 mm): too large by 10 mm in X, even turned 90 degrees about Z"
  bad "check_printability: not a number" check_printability SIZE_X=abc SIZE_Y=1 SIZE_Z=1 PRINTER=mk4 -- \
    "SIZE_X must be a non-negative number, found 'abc'"
  bad "check_printability: unknown printer" check_printability SIZE_X=1 SIZE_Y=1 SIZE_Z=1 PRINTER=prusa -- \
    "PRINTER must be one of: mk4 xl mini; found 'prusa'"

  # price_model: 5.00 setup + cm3 x density x rate, rounded to the cent;
  # rush x 1.5. pla 1.24 g/cm3 at 0.05 EUR/g, petg 1.27 at 0.06, resin 1.10
  # at 0.15.
  ok "price_model: cube, pla" price_model VOLUME_MM3=8000 MATERIAL=pla RUSH=false -- \
    price=5.50 currency='"EUR"' breakdown.material_cost=0.50 breakdown.mass_g=9.92 breakdown.subtotal=5.50 breakdown.rush=false
  ok "price_model: cube, petg" price_model VOLUME_MM3=8000 MATERIAL=petg RUSH=false -- price=5.61
  ok "price_model: cube, resin, rush" price_model VOLUME_MM3=8000 MATERIAL=resin RUSH=true -- \
    price=9.48 breakdown.subtotal=6.32 breakdown.rush_factor=1.5 breakdown.rush=true
  ok "price_model: prism, pla" price_model VOLUME_MM3=7794.229 MATERIAL=pla RUSH=false -- price=5.48 breakdown.volume_cm3=7.794229
  ok "price_model: prism, petg, rush" price_model VOLUME_MM3=7794.229 MATERIAL=petg RUSH=true -- price=8.39
  ok "price_model: too big box, pla" price_model VOLUME_MM3=1500000 MATERIAL=pla RUSH=false -- price=98.00 breakdown.material_cost=93.00
  ok "price_model: too big box, pla, rush" price_model VOLUME_MM3=1500000 MATERIAL=pla RUSH=true -- price=147.00
  ok "price_model: half a cent rounds up" price_model VOLUME_MM3=1000 MATERIAL=resin RUSH=true -- \
    breakdown.material_cost=0.17 breakdown.subtotal=5.17 price=7.76
  ok "price_model: nothing to print" price_model VOLUME_MM3=0 MATERIAL=pla RUSH=false -- price=5.00
  ok "price_model: defaults" price_model VOLUME_MM3=8000 -- price=5.50 breakdown.material='"pla"'
  bad "price_model: negative volume" price_model VOLUME_MM3=-1 MATERIAL=pla RUSH=false -- \
    "VOLUME_MM3 must be a non-negative number, found '-1'"
  bad "price_model: unknown material" price_model VOLUME_MM3=1 MATERIAL=wood RUSH=false -- \
    "MATERIAL must be one of: pla petg resin; found 'wood'"
  bad "price_model: bad RUSH" price_model VOLUME_MM3=1 MATERIAL=pla RUSH=maybe -- "RUSH must be true or false, found 'maybe'"

  # render_thumbnail: a top view; only triangles facing up or down show.
  ok "render_thumbnail: cube" render_thumbnail MODEL_URL="$models/cube.stl" -- \
    path='"thumbnail.svg"' width=256 height=256 polygons=4
  if grep -q "^<svg xmlns='http://www.w3.org/2000/svg' width='256' height='256'" "$ws/thumbnail.svg" &&
    [[ $(grep -c '<polygon ' "$ws/thumbnail.svg") == 4 ]] &&
    python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); sys.exit(d["svg"] != open(sys.argv[2]).read())' \
      "$ws/data.json" "$ws/thumbnail.svg"; then
    pass "render_thumbnail: the SVG file and the inline svg"
  else
    fail "render_thumbnail: the SVG file and the inline svg" "thumbnail.svg or data.svg is not as expected"
  fi
  ok "render_thumbnail: prism, 64 px" render_thumbnail MODEL_URL="$models/hex_prism.stl" SIZE=64 -- \
    width=64 height=64 polygons=8
  bad "render_thumbnail: bad SIZE" render_thumbnail MODEL_URL="$models/cube.stl" SIZE=8 -- \
    "SIZE must be a whole number of pixels from 16 to 4096, found '8'"
  bad "render_thumbnail: malformed" render_thumbnail MODEL_URL="$models/malformed.stl" -- \
    "malformed STL: malformed.stl line 26: expected 'vertex X Y Z' with 3 numbers, found 'vertex 20 20 2O'"

  # register_part
  local part='{"name": "cube \"A\".stl", "volume_mm3": 8000, "note": "é & <b>"}'
  rm -f "$tmp/http/parts"
  ok "register_part: created" register_part REGISTRATION_RETURN_URL="$base/parts?key=secret" PART_JSON="$part" -- \
    status_code=201 part_id='"part-\"7\""' attempts=1
  if [[ -f $tmp/http/parts ]] && [[ $(cat "$tmp/http/parts") == "$part" ]] &&
    [[ $(cat "$tmp/http/parts.type") == application/json ]]; then
    pass "register_part: the body and Content-Type arrive unchanged"
  else
    fail "register_part: the body and Content-Type arrive unchanged" "got: $(cat "$tmp/http/parts" 2>/dev/null)"
  fi
  ok "register_part: numeric id" register_part REGISTRATION_RETURN_URL="$base/parts-num" PART_JSON='{}' -- \
    status_code=200 part_id='"42"'
  ok "register_part: no id" register_part REGISTRATION_RETURN_URL="$base/parts-noid" PART_JSON='{}' -- part_id='""'
  ok "register_part: retried after a 503" register_part REGISTRATION_RETURN_URL="$base/flaky/$current_awk" PART_JSON='{}' -- \
    status_code=201 part_id='"p-1"' attempts=2
  bad "register_part: rejected" register_part REGISTRATION_RETURN_URL="$base/reject" PART_JSON='{}' -- \
    "registration rejected by $base/reject: HTTP 422: {\"error\": \"no volume\"}"
  bad "register_part: not a URL" register_part REGISTRATION_RETURN_URL=ftp://host/x PART_JSON='{}' -- \
    "REGISTRATION_RETURN_URL must be an http:// or https:// URL, found 'ftp://host/x'"
  bad "register_part: not an object" register_part REGISTRATION_RETURN_URL="$base/parts" PART_JSON='[1]' -- \
    "PART_JSON must be a JSON object, found '[1]'"

  # store_result
  local result='{"status": "SUCCESS", "data": {"price": 5.5}}'
  ok "store_result: local path" store_result RESULT_URL="$tmp/results/$current_awk/r.json" RESULT_JSON="$result" -- \
    url="\"$tmp/results/$current_awk/r.json\""
  if [[ $(cat "$tmp/results/$current_awk/r.json") == "$result" ]]; then pass "store_result: stored as given"; else fail "store_result: stored as given"; fi
  ok "store_result: http PUT" store_result RESULT_URL="$base/results/$current_awk.json" RESULT_JSON="$result" --
  if [[ $(cat "$tmp/http/results_$current_awk.json") == "$result" ]]; then pass "store_result: PUT body"; else fail "store_result: PUT body"; fi
  ok "store_result: s3 (aws CLI stand-in)" store_result RESULT_URL="s3://bucket/out/$current_awk.json" RESULT_JSON="$result" \
    PATH="$tmp/fake-aws:$run_path" -- url="\"s3://bucket/out/$current_awk.json\""
  bad "store_result: not an object" store_result RESULT_URL="$tmp/x.json" RESULT_JSON=oops -- \
    "RESULT_JSON must be a JSON object, found 'oops'"
}

awks=()
for a in mawk gawk; do
  if command -v "$a" >/dev/null 2>&1; then
    awks+=("$a")
  fi
done
((${#awks[@]} > 0)) || awks=(awk)
for a in "${awks[@]}"; do
  mkdir -p "$tmp/bin-$a"
  ln -s "$(command -v "$a")" "$tmp/bin-$a/awk"
  run_path=$tmp/bin-$a:$PATH
  current_awk=$a
  suite
done
if ((${#awks[@]} < 2)); then
  echo "note: only ${awks[*]} was found; install mawk and gawk to check the bodies on both"
fi

echo "$passed passed, $failed failed"
((failed == 0))
