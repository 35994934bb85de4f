# Getting a model into the workspace, and looking at what was fetched.
# Uses die (errors.sh).

# model_max_bytes: the largest model a job accepts, in bytes (50 MiB).
model_max_bytes() {
  echo 52428800
}

# file_size FILE: print FILE's size in bytes.
file_size() {
  local n
  n=$(wc -c <"$1") || return 1
  printf '%s\n' "$((n + 0))"
}

# sha256_of FILE: print FILE's SHA-256 as lowercase hex.
sha256_of() {
  local sum
  if command -v sha256sum >/dev/null 2>&1; then
    sum=$(sha256sum <"$1") || return 1
  else
    sum=$(shasum -a 256 <"$1") || return 1
  fi
  printf '%s\n' "${sum%% *}"
}

# redact_url URL: URL without its query string and fragment, which may
# carry signatures or tokens, for messages.
redact_url() {
  local u=${1%%[?#]*}
  [[ $u == "$1" ]] || u+='?...'
  printf '%s\n' "$u"
}

# source_name SOURCE: the file name a path or URL points at.
source_name() {
  local s=${1%%[?#]*}
  s=${s%/}
  printf '%s\n' "${s##*/}"
}

# stl_format FILE: print binary_stl, ascii_stl or unknown. A binary STL is
# 80 header bytes, a little-endian uint32 triangle count n, then 50 bytes
# per triangle: exactly 84 + 50n bytes. This is checked first, since some
# binary headers also begin with "solid". Text that starts with "solid" is
# ASCII STL.
stl_format() {
  local f=$1 size b0 b1 b2 b3 first
  size=$(file_size "$f") || return 1
  if ((size >= 84)); then
    read -r b0 b1 b2 b3 <<<"$(od -An -v -tu1 -j80 -N4 "$f")"
    if ((size == 84 + 50 * (b0 + 256 * b1 + 65536 * b2 + 16777216 * b3))); then
      echo binary_stl
      return 0
    fi
  fi
  first=$(head -c 4096 "$f" | LC_ALL=C awk 'NF { print tolower($1); exit }')
  if [[ $first == solid* ]]; then
    echo ascii_stl
  else
    echo unknown
  fi
}

# fetch_to SOURCE DEST: copy or download SOURCE to the file DEST. SOURCE is
# a local path, a file:// URL, an http(s):// URL or s3://bucket/key (with
# the aws CLI). Dies with a clear message when the source is missing, not
# found, empty or larger than model_max_bytes.
fetch_to() {
  local src=$1 dest=$2 tmp path code rc size shown max
  max=$(model_max_bytes)
  [[ -n $src ]] || die "no model source given"
  [[ -n $dest ]] || die "no destination file given"
  [[ ! -d $dest ]] || die "destination $dest is a directory"
  tmp="$dest.part.$$"
  shown=$(redact_url "$src")
  case $src in
    http://* | https://*)
      rc=0
      code=$(curl -sS -L --proto '=http,https' --proto-redir '=http,https' \
        --retry 3 --connect-timeout 20 --max-time 240 \
        --max-filesize "$max" -o "$tmp" -w '%{http_code}' "$src") || rc=$?
      if ((rc == 63)); then
        rm -f "$tmp"
        die "model is too large: more than $max bytes at $shown"
      fi
      if ((rc != 0)); then
        rm -f "$tmp"
        die "could not download $shown (curl exit $rc)"
      fi
      case $code in
        2??) ;;
        404 | 410)
          rm -f "$tmp"
          die "model not found: HTTP $code from $shown"
          ;;
        *)
          rm -f "$tmp"
          die "could not download $shown: HTTP $code"
          ;;
      esac
      ;;
    s3://*)
      command -v aws >/dev/null 2>&1 ||
        die "cannot fetch $shown: the aws CLI is not installed on this agent (needed for s3:// sources)"
      if ! aws s3 cp --only-show-errors "$src" "$tmp"; then
        rm -f "$tmp"
        die "could not fetch $shown with the aws CLI (no such object, or no access)"
      fi
      ;;
    file://*)
      path=${src#file://}
      path=${path#localhost/}
      [[ $path == /* ]] || path=/$path
      case $path in
        *%*) # percent-encoded bytes, such as %20 for a space
          path=$(printf '%s' "$path" | sed 's/\\/\\\\/g; s/%\([0-9A-Fa-f][0-9A-Fa-f]\)/\\x\1/g')
          printf -v path '%b' "$path"
          ;;
      esac
      fetch_to "$path" "$dest"
      return
      ;;
    *://*)
      die "unsupported model source $shown: use a path, file://, http://, https:// or s3:// URL"
      ;;
    *)
      [[ -e $src ]] || die "model file not found: $src"
      [[ -f $src ]] || die "model source is not a regular file: $src"
      [[ -r $src ]] || die "model file is not readable: $src"
      size=$(file_size "$src")
      ((size <= max)) || die "model is too large: $size bytes (the limit is $max)"
      if [[ -e $dest && $src -ef $dest ]]; then
        tmp=$dest # already in place
      else
        cp -- "$src" "$tmp" || { rm -f "$tmp"; die "could not copy $src"; }
      fi
      ;;
  esac
  [[ -f $tmp ]] || : >"$tmp" # curl writes no file for an empty body
  size=$(file_size "$tmp")
  if ((size == 0)); then
    [[ $tmp == "$dest" ]] || rm -f "$tmp"
    die "model file is empty: $shown"
  fi
  if ((size > max)); then
    [[ $tmp == "$dest" ]] || rm -f "$tmp"
    die "model is too large: $size bytes (the limit is $max)"
  fi
  [[ $tmp == "$dest" ]] || mv -f -- "$tmp" "$dest"
  echo "fetched $shown to $dest ($size bytes)"
}
