# Checking parameter values in a body. Jenkins already limits choice and
# boolean params, but a body also runs by hand and under tests, so it says
# clearly what is wrong. Uses die (errors.sh).

# require_number NAME VALUE: die unless VALUE is a non-negative decimal
# number (123, 12.5, .5, 1e3).
require_number() {
  local re='^[+]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][-+]?[0-9]+)?$'
  [[ $2 =~ $re ]] || die "$1 must be a non-negative number, found '$2'"
}

# require_choice NAME VALUE CHOICE...: die unless VALUE is one of the CHOICEs.
require_choice() {
  local name=$1 value=$2 c
  shift 2
  for c in "$@"; do
    [[ $value != "$c" ]] || return 0
  done
  die "$name must be one of: $*; found '$value'"
}

# parse_bool NAME VALUE: print true or false for a boolean param's value
# (Jenkins passes true or false; 1/0 and yes/no are accepted too).
parse_bool() {
  case $2 in
    true | TRUE | True | 1 | yes | YES | Yes) echo true ;;
    false | FALSE | False | 0 | no | NO | No | '') echo false ;;
    *) die "$1 must be true or false, found '$2'" ;;
  esac
}
