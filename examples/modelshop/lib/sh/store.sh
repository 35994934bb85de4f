# Putting a file somewhere: the way back of fetch_to. Uses die (errors.sh)
# and redact_url (fetch.sh).

# store_to FILE DEST: copy FILE to DEST, a local path, a file:// URL, an
# http(s):// URL (PUT, retried on 5xx) or s3://bucket/key (with the aws
# CLI). Dies with a clear message when it cannot.
store_to() {
  local file=$1 dest=$2 shown path code rc
  [[ -f $file ]] || die "nothing to store: $file is not a file"
  [[ -n $dest ]] || die "no destination given"
  shown=$(redact_url "$dest")
  case $dest in
    http://* | https://*)
      rc=0
      code=$(curl -sS -o /dev/null -w '%{http_code}' --retry 3 --connect-timeout 10 --max-time 120 \
        -X PUT -H 'Content-Type: application/json' --data-binary "@$file" "$dest") || rc=$?
      ((rc == 0)) || die "could not store the result at $shown (curl exit $rc)"
      [[ $code == 2?? ]] || die "could not store the result at $shown: HTTP $code"
      ;;
    s3://*)
      command -v aws >/dev/null 2>&1 ||
        die "cannot store to $shown: the aws CLI is not installed on this agent (needed for s3:// destinations)"
      aws s3 cp --only-show-errors "$file" "$dest" ||
        die "could not store the result at $shown with the aws CLI (no access?)"
      ;;
    file://*)
      path=${dest#file://}
      path=${path#localhost/}
      [[ $path == /* ]] || path=/$path
      store_to "$file" "$path"
      return
      ;;
    *://*)
      die "unsupported destination $shown: use a path, file://, http://, https:// or s3:// URL"
      ;;
    *)
      [[ ! -d $dest ]] || die "destination $dest is a directory"
      case $dest in
        */*) mkdir -p -- "${dest%/*}" || die "could not create the folder of $dest" ;;
      esac
      cp -- "$file" "$dest" || die "could not write $dest"
      ;;
  esac
  echo "stored $file at $shown"
}
