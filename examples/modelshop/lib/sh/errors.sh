# Failing clearly. The worker wrapper takes the last line a failed body
# prints as the failure reason, so die's message is the last thing printed.

# die MESSAGE...: print MESSAGE to stderr and exit 1.
die() {
  printf '%s\n' "$*" >&2
  exit 1
}
