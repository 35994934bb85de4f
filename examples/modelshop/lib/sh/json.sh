# Writing JSON without jq: values are built with printf, strings go
# through json_str.

# json_str STRING: print STRING as a JSON string literal, quotes included.
# Escapes backslash, double quote and every control character; other bytes
# (UTF-8 included) pass through unchanged. It uses no ${s//x/y} replacement,
# whose handling of backslashes differs between bash versions.
json_str() {
  local rest=$1 out='' head c code
  local special=$'\\"\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f'
  while [[ -n $rest ]]; do
    head=${rest%%["$special"]*}
    if [[ $head == "$rest" ]]; then
      out+=$rest
      break
    fi
    out+=$head
    c=${rest:${#head}:1}
    rest=${rest:${#head}+1}
    case $c in
      '\') out+='\\' ;;
      '"') out+='\"' ;;
      $'\n') out+='\n' ;;
      $'\r') out+='\r' ;;
      $'\t') out+='\t' ;;
      $'\b') out+='\b' ;;
      $'\f') out+='\f' ;;
      *)
        printf -v code '\\u%04x' "'$c"
        out+=$code
        ;;
    esac
  done
  printf '"%s"' "$out"
}
