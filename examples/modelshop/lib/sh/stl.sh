# Reading ASCII STL models. Uses die (errors.sh), fetch_to and stl_format
# (fetch.sh).

# stl_triangles FILE [NAME]: check that FILE is a well-formed ASCII STL and
# print its triangles, one per line: "x1 y1 z1 x2 y2 z2 x3 y3 z3". Numbers
# are normalised (%.15g, no "-0") so that equal coordinates are equal
# strings. Facet normals are ignored (many exporters write 0 0 0). On a
# malformed file it prints "malformed STL: NAME line N: what is wrong" to
# stderr, as its last line, and fails.
# Keywords are case-insensitive; CRLF line ends and several solids per file
# are accepted.
stl_triangles() {
  local file=$1 name=${2:-$1}
  # The awk functions carry the stl_ prefix: jobctl takes any line that
  # looks like "name() {" in lib/sh for a shell function of this file.
  STL_NAME=$name LC_ALL=C awk '
    function stl_fail(msg) {
      stl_fail_at(msg, " line " NR)
    }
    function stl_fail_at(msg, where) {
      print "malformed STL: " name where ": " msg | "cat 1>&2"
      close("cat 1>&2")
      bad = 1
      exit 1
    }
    function stl_shown(s) {
      gsub(/[^ -~]/, "?", s)
      sub(/^ +/, "", s)
      sub(/ +$/, "", s)
      return length(s) > 60 ? substr(s, 1, 57) "..." : s
    }
    function stl_num(s) {
      return s ~ /^[-+]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][-+]?[0-9]+)?$/
    }
    function stl_norm(s, v) {
      v = s + 0
      if (v == 0) return "0"
      return sprintf("%.15g", v)
    }
    BEGIN { name = ENVIRON["STL_NAME"]; q = "\047"; state = "start"; n = 0 }
    { sub(/\r$/, "") }
    NF == 0 { next }
    {
      kw = tolower($1)
      if (state == "start" || state == "end") {
        if (kw != "solid") {
          if (state == "start")
            stl_fail("not an ASCII STL file: expected " q "solid" q " first, found " q stl_shown($0) q)
          stl_fail("expected " q "solid" q " or the end of the file after " q "endsolid" q ", found " q stl_shown($0) q)
        }
        state = "solid"
      } else if (state == "solid") {
        if (kw == "facet") {
          if (NF != 5 || tolower($2) != "normal")
            stl_fail("expected " q "facet normal NX NY NZ" q ", found " q stl_shown($0) q)
          state = "facet"
        } else if (kw == "endsolid") {
          state = "end"
        } else {
          stl_fail("expected " q "facet" q " or " q "endsolid" q ", found " q stl_shown($0) q)
        }
      } else if (state == "facet") {
        if (NF != 2 || kw != "outer" || tolower($2) != "loop")
          stl_fail("expected " q "outer loop" q ", found " q stl_shown($0) q)
        state = "loop"
        nv = 0
      } else if (state == "loop") {
        if (kw == "vertex") {
          if (NF != 4 || !stl_num($2) || !stl_num($3) || !stl_num($4))
            stl_fail("expected " q "vertex X Y Z" q " with 3 numbers, found " q stl_shown($0) q)
          if (++nv > 3)
            stl_fail("a facet has more than 3 vertices")
          v[nv] = stl_norm($2) " " stl_norm($3) " " stl_norm($4)
        } else if (kw == "endloop") {
          if (nv != 3)
            stl_fail("a facet needs 3 vertices, found " nv)
          state = "endfacet"
        } else {
          stl_fail("expected " q "vertex" q " or " q "endloop" q ", found " q stl_shown($0) q)
        }
      } else if (state == "endfacet") {
        if (kw != "endfacet")
          stl_fail("expected " q "endfacet" q ", found " q stl_shown($0) q)
        print v[1] " " v[2] " " v[3]
        n++
        state = "solid"
      }
    }
    END {
      if (bad) exit 1
      if (state == "start") stl_fail_at("the file is empty", "")
      if (state == "solid") stl_fail_at("the file ends at line " NR " without " q "endsolid" q, "")
      if (state != "end") stl_fail_at("the file ends at line " NR " inside a facet", "")
      if (n == 0) stl_fail_at("the model has no triangles", "")
    }
  ' "$file"
}

# stl_load SOURCE STL TRIANGLES: fetch SOURCE to the file STL, check it is
# an ASCII STL and write its triangles (see stl_triangles) to the file
# TRIANGLES. Dies with a clear message otherwise.
stl_load() {
  local src=$1 stl=$2 tris=$3 format name
  fetch_to "$src" "$stl"
  name=$(source_name "$src")
  format=$(stl_format "$stl")
  case $format in
    ascii_stl) ;;
    binary_stl) die "$name is a binary STL; only ASCII STL is supported: export the model as ASCII STL" ;;
    *) die "$name is not an STL file" ;;
  esac
  # On failure stl_triangles has printed the reason, with its line number.
  stl_triangles "$stl" "$name" >"$tris" || exit 1
}

# stl_edges TRIANGLES: check the mesh in the file TRIANGLES (as written by
# stl_triangles) and print one line: "open nonmanifold flipped degenerate",
# the counts of
# - open edges: used by one triangle only (a hole in the surface);
# - non-manifold edges: used by more than two triangles;
# - flipped edges: shared by two triangles that traverse it in the same
#   direction (one of them is turned over);
# - degenerate triangles: zero area, i.e. two equal vertices or three
#   collinear ones.
# The mesh is closed when the first three are 0. An edge is keyed by its two
# vertices' coordinate strings, which stl_triangles normalised so that equal
# points are equal strings; zero-length edges (a triangle with two equal
# vertices) are not edges. A triangle is degenerate when |(b-a) x (c-a)|, its
# doubled area, is at most 1e-12 times the square of the model's bounding-box
# diagonal: exactly zero for repeated vertices, and a margin for collinear
# points whose decimal coordinates leave a rounding error (the diagonal makes
# the threshold independent of the unit and the model's size).
stl_edges() {
  # The awk functions carry the stl_ prefix and are indented: see
  # stl_triangles.
  LC_ALL=C awk '
    function stl_edge(p, r, k) {
      if (p == r) return
      if (p < r) { k = p "|" r; dir[k]++ } else { k = r "|" p; dir[k]-- }
      uses[k]++
    }
    {
      for (i = 1; i <= 9; i++) {
        c = (i - 1) % 3
        if (NR == 1 && i <= 3) { lo[c] = $i + 0; hi[c] = $i + 0 }
        if ($i + 0 < lo[c]) lo[c] = $i + 0
        if ($i + 0 > hi[c]) hi[c] = $i + 0
      }
      ux = $4 - $1; uy = $5 - $2; uz = $6 - $3
      vx = $7 - $1; vy = $8 - $2; vz = $9 - $3
      nx = uy * vz - uz * vy; ny = uz * vx - ux * vz; nz = ux * vy - uy * vx
      area2[NR] = sqrt(nx * nx + ny * ny + nz * nz)
      a = $1 " " $2 " " $3; b = $4 " " $5 " " $6; c = $7 " " $8 " " $9
      stl_edge(a, b); stl_edge(b, c); stl_edge(c, a)
    }
    END {
      open = nonmanifold = flipped = degenerate = 0
      for (k in uses) {
        if (uses[k] == 1) open++
        else if (uses[k] > 2) nonmanifold++
        else if (dir[k] != 0) flipped++
      }
      diag2 = 0
      for (c = 0; c < 3; c++) diag2 += (hi[c] - lo[c]) * (hi[c] - lo[c])
      for (t = 1; t <= NR; t++) if (area2[t] <= 1e-12 * diag2) degenerate++
      printf "%d %d %d %d\n", open, nonmanifold, flipped, degenerate
    }
  ' "$1"
}
