# shellcheck shell=bash
#
# The jobctl worker wrapper: the behaviour every worker job shares.
#
# RenderWorkerScript (wrapper.go) puts a generated header in front of this
# file. The header only assigns data, always single-quoted or as quoted
# here-documents, so nothing in it is ever expanded:
#
#   JOBCTL_DEPLOYED      the deployed name of the job
#   JOBCTL_PROCESS       the common name; the report's "process"
#   JOBCTL_SOURCE        the body's path in the job repository, for messages
#   JOBCTL_TIMEOUT_MS    the overall timeout in milliseconds, 0 for none
#   JOBCTL_TIMEOUT_TEXT  the same, as the user would write it ("1m30s")
#   JOBCTL_RETRIES       extra attempts after the first
#   JOBCTL_REQUIRED      array: the names of the required params
#   JOBCTL_TOOL_NAMES, JOBCTL_TOOL_CONSTRAINTS, JOBCTL_TOOL_PROBES,
#   JOBCTL_TOOL_CHECKS   parallel arrays, one element per tool; a checks
#                        element is "op version op version ..."
#   JOBCTL_BODY          the body, starting with its shebang line
#   JOBCTL_LIB           lib/sh code for a bash body, or empty
#
# What it does, in order (every step logs with a timestamp):
#   1. recreate $WORKSPACE/.jobctl, remove a stale report.json, install traps
#      that write the report whatever happens;
#   2. check the required params, then the tools (no attempt if either fails);
#   3. run the body up to 1+JOBCTL_RETRIES times under one overall deadline,
#      with a doubling backoff between attempts;
#   4. check the data the body left in $JOBCTL_REPORT_DATA;
#   5. write $WORKSPACE/report.json and, if REPORT_RETURN_URL is set, POST it.
#
# What the body is given in its environment, besides its params:
#
#   JOBCTL_REPORT_DATA    a path (removed before every attempt): the body may
#                         write the report's data there, one JSON object
#                         (checked; at most 1 MiB)
#   JOBCTL_REPORT_REASON  a path (removed before every attempt, like
#                         JOBCTL_REPORT_DATA): a failing body may write a
#                         one-line reason there. When the run fails because
#                         the last attempt failed, the report's reason is
#                         its first line, trimmed, at most 500 characters
#                         (then "..."), instead of the default "exit status
#                         N: <last output line>". It is ignored when the
#                         attempt succeeds, and for failures that are not
#                         the body's: timeouts, missing params, tool checks.
#   JOBCTL_ATTEMPT        the attempt's number, from 1
#
# Needs bash >= 4.4 and, on the agent, only coreutils, awk and curl. Status is
# handled explicitly: no set -e.

set -u -o pipefail
shopt -u patsub_replacement 2>/dev/null # bash 5.2: no '&' magic in ${v//p/r}

# ---------------------------------------------------------------- clock, log

# jobctl_clock sets JOBCTL_NOW (milliseconds since the epoch) and JOBCTL_TS
# (the log timestamp, local time) with builtins only. Without EPOCHREALTIME
# (bash < 5) it falls back to whole seconds.
jobctl_clock() {
	local t=${EPOCHREALTIME-} s f
	s=${t%%[.,]*}
	if [[ -n $t && $s != "$t" ]]; then
		f=${t#*[.,]}000
		f=${f:0:3}
	else
		printf -v s '%(%s)T' -1
		f=000
	fi
	JOBCTL_NOW=$((s * 1000 + 10#$f))
	printf -v JOBCTL_TS '%(%Y-%m-%d %H:%M:%S)T.%s' "$s" "$f"
}

# jobctl_log prints its arguments as the wrapper's own log line(s):
# timestamped, prefixed "jobctl: ", on stdout and in the attempt's log.
jobctl_log() {
	local msg=$* line out=''
	jobctl_clock
	while :; do
		line=${msg%%$'\n'*}
		out+="$JOBCTL_TS jobctl: $line"$'\n'
		[[ $msg == *$'\n'* ]] || break
		msg=${msg#*$'\n'}
	done
	printf '%s' "$out"
	{ printf '%s' "$out" >>"$JOBCTL_LOG"; } 2>/dev/null
}

# jobctl_stamp copies stdin (the body's output) to stdout and to the
# attempt's log, every line timestamped; a last line without a newline is
# printed too. At the end it leaves the last non-empty line in
# .jobctl/last, for the failure reason. It ignores the signals that abort a
# build, so the body's last words still reach the console. This loop is
# the wrapper's hot path: jobctl_clock inlined, the date formatted once a
# second. (read takes a pipe a byte at a time: about 1.5 MB/s.)
jobctl_stamp() {
	trap '' INT TERM HUP
	local line last='' t s f sec='' day out
	exec 3>>"$JOBCTL_LOG"
	while IFS= read -r line || [[ -n $line ]]; do
		t=${EPOCHREALTIME-}
		s=${t%%[.,]*}
		if [[ -n $t && $s != "$t" ]]; then
			f=${t:${#s}+1:3}
		else
			printf -v s '%(%s)T' -1
			f=000
		fi
		[[ $s == "$sec" ]] || printf -v day '%(%Y-%m-%d %H:%M:%S)T' "$s"
		sec=$s
		out="$day.$f $line"$'\n'
		printf '%s' "$out"
		printf '%s' "$out" >&3
		[[ $line == *[![:space:]]* ]] && last=$line
	done
	printf '%s' "$last" >"$JOBCTL_DIR/last"
}

# jobctl_nap sleeps for $1 seconds (fractions allowed) in a way traps can
# interrupt: a read with a timeout on a FIFO nobody writes, so no fork.
jobctl_nap() {
	if [[ -p $JOBCTL_TICK ]]; then
		read -r -t "$1" <>"$JOBCTL_TICK"
	else
		sleep "$1" &
		JOBCTL_CHILD=$!
		wait "$JOBCTL_CHILD" 2>/dev/null
		JOBCTL_CHILD=''
	fi
	return 0
}

# jobctl_secs formats milliseconds $1 as seconds for messages: 5s, 0.25s.
jobctl_secs() {
	local s=$(($1 / 1000)) f
	printf -v f '%03d' $(($1 % 1000))
	f=${f%0}
	f=${f%0}
	f=${f%0}
	JOBCTL_TXT=$s${f:+.$f}s
}

# jobctl_parse_secs sets JOBCTL_MS from seconds $2 (decimal, fractions
# allowed) read from the variable named $1, or to $3 with a warning when the
# value is not a number.
jobctl_parse_secs() {
	local v=$2 i f
	if [[ $v =~ ^([0-9]{0,7})(\.([0-9]*))?$ && -n ${BASH_REMATCH[1]}${BASH_REMATCH[3]} ]]; then
		i=${BASH_REMATCH[1]:-0}
		f=${BASH_REMATCH[3]}000
		JOBCTL_MS=$((10#$i * 1000 + 10#${f:0:3}))
	else
		JOBCTL_MS=$3
		jobctl_secs "$3"
		jobctl_log "ignoring $1=$v: not a number of seconds; using $JOBCTL_TXT"
	fi
}

# ---------------------------------------------------------------- report

# The awk programs run with LC_ALL=C, so that they see bytes, and are
# portable: POSIX awk, tested with mawk and gawk.

# JOBCTL_JSON_AWK checks that its input, of -v size=<bytes>, is exactly one
# JSON object (RFC 8259), by recursive descent over the whole document. If
# it is, it exits 0 and prints "not ASCII" if it has bytes above 0x7f (for
# iconv to check the UTF-8), nothing otherwise. If not, it prints "offset N:
# what is wrong" (N counts bytes from 0) and exits 1. It reads the document
# as one record, with 0x01 as the record separator: a 0x01 anywhere is an
# error anyway, and the size tells whether there is one at the very end.
JOBCTL_JSON_AWK='
BEGIN {
	RS = sprintf("%c", 1)
	for (i = 1; i < 256; i++) ord[sprintf("%c", i)] = i
	maxdepth = 64
}
{ doc = (NR == 1) ? $0 : (doc RS $0) }
END {
	n = length(doc)
	if (n == size - 1) { doc = doc RS; n++ }
	pos = 1
	err = ""
	high = 0
	if (n != size) { fail("read " n " of " size " bytes"); print err; exit 1 }
	ws()
	if (pos > n) fail("empty document")
	else if (substr(doc, pos, 1) != "{") fail("the top level must be an object, found " desc(substr(doc, pos, 1)))
	else if (value(0)) {
		ws()
		if (pos <= n) fail("unexpected " desc(substr(doc, pos, 1)) " after the object")
	}
	if (err != "") { print err; exit 1 }
	if (high) print "not ASCII"
	exit 0
}
function fail(msg) {
	if (err == "") err = "offset " (pos - 1) ": " msg
	return 0
}
function desc(c) {
	if (c == "") return "end of input"
	if (ord[c] > 32 && ord[c] < 127) return "\"" c "\""
	return sprintf("byte 0x%02x", ord[c])
}
function isdigit(c) { return c != "" && index("0123456789", c) > 0 }
function ishex(c) { return c != "" && index("0123456789abcdefABCDEF", c) > 0 }
function ws(    c) {
	while (pos <= n) {
		c = substr(doc, pos, 1)
		if (c != " " && c != "\t" && c != "\n" && c != "\r") return
		pos++
	}
}
function value(depth,    c) {
	ws()
	c = substr(doc, pos, 1)
	if (c == "{") return object(depth + 1)
	if (c == "[") return array(depth + 1)
	if (c == "\"") return str()
	if (c == "-" || isdigit(c)) return num()
	if (c == "t") return lit("true")
	if (c == "f") return lit("false")
	if (c == "n") return lit("null")
	return fail("unexpected " desc(c) ", expected a value")
}
function lit(w) {
	if (substr(doc, pos, length(w)) != w) return fail("invalid literal, expected " w)
	pos += length(w)
	return 1
}
function object(depth,    c) {
	if (depth > maxdepth) return fail("nested deeper than " maxdepth " levels")
	pos++
	ws()
	if (substr(doc, pos, 1) == "}") { pos++; return 1 }
	for (;;) {
		ws()
		c = substr(doc, pos, 1)
		if (c != "\"") return fail("unexpected " desc(c) ", expected a string key")
		if (!str()) return 0
		ws()
		c = substr(doc, pos, 1)
		if (c != ":") return fail("unexpected " desc(c) ", expected \":\"")
		pos++
		if (!value(depth)) return 0
		ws()
		c = substr(doc, pos, 1)
		if (c == "}") { pos++; return 1 }
		if (c != ",") return fail("unexpected " desc(c) ", expected \",\" or \"}\"")
		pos++
	}
}
function array(depth,    c) {
	if (depth > maxdepth) return fail("nested deeper than " maxdepth " levels")
	pos++
	ws()
	if (substr(doc, pos, 1) == "]") { pos++; return 1 }
	for (;;) {
		if (!value(depth)) return 0
		ws()
		c = substr(doc, pos, 1)
		if (c == "]") { pos++; return 1 }
		if (c != ",") return fail("unexpected " desc(c) ", expected \",\" or \"]\"")
		pos++
	}
}
function str(    c, start) {
	start = pos
	pos++
	while (pos <= n) {
		c = substr(doc, pos, 1)
		if (c == "\"") { pos++; return 1 }
		if (c == "\\") {
			c = substr(doc, pos + 1, 1)
			if (c == "u") {
				if (!(ishex(substr(doc, pos + 2, 1)) && ishex(substr(doc, pos + 3, 1)) && ishex(substr(doc, pos + 4, 1)) && ishex(substr(doc, pos + 5, 1))))
					return fail("invalid \\u escape in a string")
				pos += 6
				continue
			}
			if (c == "" || index("\"\\/bfnrt", c) == 0) return fail("invalid escape in a string")
			pos += 2
			continue
		}
		if (ord[c] < 32) return fail("unescaped control character (" desc(c) ") in a string")
		if (ord[c] > 127) high = 1
		pos++
	}
	pos = start
	return fail("unterminated string")
}
function num(    c) {
	if (substr(doc, pos, 1) == "-") pos++
	c = substr(doc, pos, 1)
	if (c == "0") pos++
	else if (isdigit(c)) { while (isdigit(substr(doc, pos, 1))) pos++ }
	else return fail("invalid number: expected a digit, found " desc(c))
	if (substr(doc, pos, 1) == ".") {
		pos++
		if (!isdigit(substr(doc, pos, 1))) return fail("invalid number: expected a digit after \".\"")
		while (isdigit(substr(doc, pos, 1))) pos++
	}
	c = substr(doc, pos, 1)
	if (c == "e" || c == "E") {
		pos++
		c = substr(doc, pos, 1)
		if (c == "+" || c == "-") pos++
		if (!isdigit(substr(doc, pos, 1))) return fail("invalid number: expected a digit in the exponent")
		while (isdigit(substr(doc, pos, 1))) pos++
	}
	return 1
}
'

# JOBCTL_REPORT_AWK writes the report: its input is the attempt's log, of
# which it keeps the last 50 lines, as many as fit in 16 KiB (a last line
# longer than that alone keeps its timestamp and its end). The strings come
# from the environment (JOBCTL_R_PROCESS, JOBCTL_R_REASON), the data from the
# checked file JOBCTL_R_DATA (or {}), the numbers from -v. Every string is
# escaped as JSON requires. Bytes that are not UTF-8 are iconv's business.
JOBCTL_REPORT_AWK='
BEGIN {
	for (i = 1; i < 32; i++) esc[sprintf("%c", i)] = sprintf("\\u%04x", i)
	esc["\""] = "\\\""
	esc["\\"] = "\\\\"
	esc["\n"] = "\\n"
	esc["\r"] = "\\r"
	esc["\t"] = "\\t"
}
{ line[NR % 50] = $0 }
END {
	first = NR - 49
	if (first < 1) first = 1
	total = 0
	start = NR + 1
	for (i = NR; i >= first; i--) {
		if (total + length(line[i % 50]) + 1 > 16384) break
		total += length(line[i % 50]) + 1
		start = i
	}
	text = ""
	if (start > NR && NR > 0) {
		s = line[NR % 50]
		text = substr(s, 1, 24) "[...]" substr(s, length(s) - 16383 + 30) "\n"
	}
	for (i = start; i <= NR; i++) text = text line[i % 50] "\n"
	printf "{\"process\":%s,\"status\":\"%s\",\"reason\":%s,\"data\":", json(ENVIRON["JOBCTL_R_PROCESS"]), status, json(ENVIRON["JOBCTL_R_REASON"])
	f = ENVIRON["JOBCTL_R_DATA"]
	sep = ""
	if (f != "") while ((getline l < f) > 0) { printf "%s%s", sep, l; sep = "\n" }
	if (sep == "") printf "{}"
	printf ",\"log\":%s,\"duration_ms\":%d,\"attempts\":%d}\n", json(text), duration, attempts
}
function json(s,    i, n, c, out, from) {
	out = ""
	from = 1
	n = length(s)
	for (i = 1; i <= n; i++) {
		c = substr(s, i, 1)
		if (c in esc) {
			out = out substr(s, from, i - from) esc[c]
			from = i + 1
		}
	}
	return "\"" out substr(s, from) "\""
}
'

# jobctl_report writes $WORKSPACE/report.json from JOBCTL_STATUS,
# JOBCTL_REASON, the checked data, the attempt's log and the counters:
# complete, then renamed into place, so a reader never sees half of it.
# iconv -c drops what is not UTF-8; it cannot break the JSON, whose syntax
# is ASCII.
jobctl_report() {
	local tmp=$JOBCTL_DIR/report.json.tmp log=$JOBCTL_LOG data='' ok=0
	[[ -d $JOBCTL_DIR ]] || mkdir -p "$JOBCTL_DIR" 2>/dev/null
	[[ -f $log ]] || log=/dev/null
	((JOBCTL_DATA_OK)) && data=$JOBCTL_DIR/data.checked
	jobctl_clock
	set -- -v status="$JOBCTL_STATUS" -v duration=$((JOBCTL_NOW - JOBCTL_START_MS)) -v attempts="$JOBCTL_ATTEMPTS" "$JOBCTL_REPORT_AWK" "$log"
	if ((JOBCTL_HAVE_ICONV)); then
		JOBCTL_R_PROCESS=$JOBCTL_PROCESS JOBCTL_R_REASON=$JOBCTL_REASON JOBCTL_R_DATA=$data LC_ALL=C awk "$@" 2>/dev/null |
			iconv -c -f UTF-8 -t UTF-8 >"$tmp" 2>/dev/null
		((PIPESTATUS[0] == 0 && PIPESTATUS[1] <= 1)) && ok=1
	fi
	if ((!ok)); then
		JOBCTL_R_PROCESS=$JOBCTL_PROCESS JOBCTL_R_REASON=$JOBCTL_REASON JOBCTL_R_DATA=$data LC_ALL=C awk "$@" >"$tmp" 2>/dev/null &&
			ok=1
	fi
	if ((!ok)); then
		# Without a working awk: a report that says so, still JSON.
		printf '{"process":"","status":"FAILURE","reason":"jobctl could not write the report: awk failed","data":{},"log":"","duration_ms":%d,"attempts":%d}\n' \
			$((JOBCTL_NOW - JOBCTL_START_MS)) "$JOBCTL_ATTEMPTS" >"$tmp" && ok=1
	fi
	if ((ok)) && mv -f "$tmp" "$JOBCTL_REPORT" 2>/dev/null; then
		JOBCTL_REPORTED=1
	else
		jobctl_log "could not write $JOBCTL_REPORT"
		JOBCTL_REPORTED=2
	fi
}

# ---------------------------------------------------------------- callback

# jobctl_callback POSTs report.json to REPORT_RETURN_URL, if set, retrying
# on connection errors, 5xx and 429 with a doubling backoff (from
# JOBCTL_CALLBACK_BACKOFF, default 1 s, at most 15 s) until
# JOBCTL_CALLBACK_DEADLINE (default 600 s) has passed. It never changes the
# report or the exit status. The URL goes to curl on stdin, not on its
# command line, and is logged without its userinfo.
jobctl_callback() {
	local url=${REPORT_RETURN_URL-} shown quoted backoff pause start deadline n=0 rc code why bs='\' q='"'
	[[ -n $url && $JOBCTL_REPORTED == 1 ]] || return 0
	shown=$url
	if [[ $url =~ ^([A-Za-z][A-Za-z0-9+.-]*://)([^/?#]*@)(.*)$ ]]; then
		shown=${BASH_REMATCH[1]}***@${BASH_REMATCH[3]}
	fi
	if ! command -v curl >/dev/null 2>&1; then
		jobctl_log "curl is not installed: the report could not be delivered to $shown"
		return 0
	fi
	if [[ $url == *[$'\n\r']* ]]; then
		jobctl_log "REPORT_RETURN_URL contains a line break: the report could not be delivered"
		return 0
	fi
	quoted=${url//"$bs"/"$bs$bs"}
	quoted=${quoted//"$q"/"$bs$q"}
	jobctl_parse_secs JOBCTL_CALLBACK_BACKOFF "${JOBCTL_CALLBACK_BACKOFF:-1}" 1000
	backoff=$JOBCTL_MS
	jobctl_parse_secs JOBCTL_CALLBACK_DEADLINE "${JOBCTL_CALLBACK_DEADLINE:-600}" 600000
	jobctl_clock
	start=$JOBCTL_NOW
	deadline=$((JOBCTL_NOW + JOBCTL_MS))
	while :; do
		n=$((n + 1))
		curl -sS --max-time 10 -o /dev/null -w '%{http_code}' -K - \
			-H 'Content-Type: application/json' --data-binary "@$JOBCTL_REPORT" \
			<<<"url = \"$quoted\"" >"$JOBCTL_DIR/callback.code" 2>"$JOBCTL_DIR/callback.err" &
		JOBCTL_CHILD=$!
		wait "$JOBCTL_CHILD" 2>/dev/null
		rc=$?
		JOBCTL_CHILD=''
		code=''
		read -r code <"$JOBCTL_DIR/callback.code"
		if ((rc == 0)); then
			why="HTTP $code"
			if [[ $code == 2?? ]]; then
				jobctl_log "report delivered to $shown ($why, attempt $n)"
				return 0
			fi
			if [[ $code != 5?? && $code != 429 ]]; then
				jobctl_log "the report was refused by $shown ($why); not retrying"
				return 0
			fi
		else
			why=''
			read -r why <"$JOBCTL_DIR/callback.err"
			why=${why:-curl exit status $rc}
			case $rc in
			5 | 6 | 7 | 16 | 18 | 28 | 35 | 52 | 55 | 56 | 92) ;; # connection trouble
			*)
				jobctl_log "could not deliver the report to $shown: $why; not retrying"
				return 0
				;;
			esac
		fi
		jobctl_clock
		if ((JOBCTL_NOW >= deadline)); then
			jobctl_secs $((JOBCTL_NOW - start))
			jobctl_log "gave up delivering the report to $shown after $n attempts in $JOBCTL_TXT: $why"
			return 0
		fi
		pause=$backoff
		((pause > deadline - JOBCTL_NOW)) && pause=$((deadline - JOBCTL_NOW))
		jobctl_secs "$pause"
		jobctl_log "delivering the report to $shown failed ($why); retrying in $JOBCTL_TXT"
		jobctl_nap "${JOBCTL_TXT%s}"
		backoff=$((backoff * 2))
		((backoff > 15000)) && backoff=15000
	done
}

# ---------------------------------------------------------------- ending

# jobctl_finish ends the run: status $1, reason $2, exit status $3. It logs
# the outcome, writes the report (signals wait until it is written), posts
# it, and exits.
jobctl_finish() {
	trap '' INT TERM HUP
	JOBCTL_STATUS=$1
	JOBCTL_REASON=$2
	JOBCTL_EXIT=$3
	jobctl_clock
	jobctl_secs $((JOBCTL_NOW - JOBCTL_START_MS))
	if [[ $1 == SUCCESS ]]; then
		((JOBCTL_RETRIES)) && JOBCTL_TXT+=", attempt $JOBCTL_ATTEMPTS/$((JOBCTL_RETRIES + 1))"
		jobctl_log "SUCCESS in $JOBCTL_TXT"
	else
		jobctl_log "FAILURE: $2"
	fi
	jobctl_report
	jobctl_traps
	jobctl_callback
	exit "$JOBCTL_EXIT"
}

# jobctl_stop_children signals what the wrapper is waiting for, if
# anything: an attempt or a probe (coreutils timeout, the leader of its own
# process group: it passes the signal on and kills after its grace period),
# then the whole group, in case timeout has already gone.
jobctl_stop_children() {
	local pid=${JOBCTL_CHILD-}
	[[ -n $pid ]] || return 0
	kill -"$1" "$pid" 2>/dev/null
	kill -"$1" -- "-$pid" 2>/dev/null
	return 0
}

# jobctl_on_signal handles the signals that abort a build: stop the body and
# write the report, FAILURE "aborted (SIGTERM)". Exit status 128+signal.
jobctl_on_signal() {
	trap '' INT TERM HUP
	jobctl_stop_children TERM
	if ((JOBCTL_REPORTED)); then
		jobctl_log "aborted (SIG$1)"
		exit "$2"
	fi
	jobctl_finish FAILURE "aborted (SIG$1)" "$2"
}

# jobctl_on_exit is the last resort: if the wrapper exits without a report
# (a bug, or a shell error), write one that says so.
jobctl_on_exit() {
	local rc=$?
	((JOBCTL_REPORTED)) && exit "$rc"
	((rc == 0)) && rc=1
	jobctl_stop_children TERM
	JOBCTL_STATUS=FAILURE
	JOBCTL_REASON="the jobctl wrapper stopped unexpectedly (exit status $rc)"
	jobctl_log "FAILURE: $JOBCTL_REASON"
	jobctl_report
	jobctl_callback
	exit "$rc"
}

jobctl_traps() {
	trap 'jobctl_on_signal TERM 143' TERM
	trap 'jobctl_on_signal INT 130' INT
	trap 'jobctl_on_signal HUP 129' HUP
}

# ---------------------------------------------------------------- checks

# jobctl_check_params fails the run at once when a required param is unset
# or empty.
jobctl_check_params() {
	local name missing=() list
	for name in "${JOBCTL_REQUIRED[@]}"; do
		[[ -n ${!name-} ]] || missing+=("$name")
	done
	((${#missing[@]})) || return 0
	printf -v list '%s, ' "${missing[@]}"
	list=${list%, }
	jobctl_log "set $list when starting the build: in Jenkins with \"Build with Parameters\", or as parameters of the calling job or jobctl run"
	jobctl_finish FAILURE "missing required param(s): $list" 1
}

# jobctl_vercmp compares dotted-digit versions $1 and $2 numerically,
# segment by segment, missing segments counting as 0, and sets JOBCTL_CMP
# to -1, 0 or 1. Segments compare as numbers of any length.
jobctl_vercmp() {
	local -a a b
	local i x y len
	IFS=. read -ra a <<<"$1"
	IFS=. read -ra b <<<"$2"
	len=${#a[@]}
	((${#b[@]} > len)) && len=${#b[@]}
	JOBCTL_CMP=0
	for ((i = 0; i < len; i++)); do
		x=${a[i]-0}
		y=${b[i]-0}
		while [[ $x == 0?* ]]; do x=${x#0}; done
		while [[ $y == 0?* ]]; do y=${y#0}; done
		if ((${#x} != ${#y})); then
			((${#x} < ${#y})) && JOBCTL_CMP=-1 || JOBCTL_CMP=1
			return 0
		fi
		if [[ $x != "$y" ]]; then
			[[ $x < $y ]] && JOBCTL_CMP=-1 || JOBCTL_CMP=1
			return 0
		fi
	done
}

# jobctl_holds reports whether version $1 passes the checks $2
# ("op version op version ...").
jobctl_holds() {
	local -a checks
	local i
	read -ra checks <<<"$2"
	for ((i = 0; i + 1 < ${#checks[@]}; i += 2)); do
		jobctl_vercmp "$1" "${checks[i + 1]}"
		case ${checks[i]} in
		'=') ((JOBCTL_CMP == 0)) ;;
		'!=') ((JOBCTL_CMP != 0)) ;;
		'>') ((JOBCTL_CMP > 0)) ;;
		'<') ((JOBCTL_CMP < 0)) ;;
		'>=') ((JOBCTL_CMP >= 0)) ;;
		'<=') ((JOBCTL_CMP <= 0)) ;;
		*) false ;;
		esac || return 1
	done
	return 0
}

# jobctl_check_tools runs every tool's probe (user code, through bash -c,
# at most 30 s), reads the first version-looking token of its output and
# checks it. All failures are reported together; any failure ends the run.
jobctl_check_tools() {
	local i name need out rc version first failures=() list
	for i in "${!JOBCTL_TOOL_NAMES[@]}"; do
		name=${JOBCTL_TOOL_NAMES[i]}
		need="needs $name ${JOBCTL_TOOL_CONSTRAINTS[i]}"
		timeout --kill-after=5s 30 "${BASH:-bash}" -c "${JOBCTL_TOOL_PROBES[i]}" \
			</dev/null >"$JOBCTL_DIR/probe" 2>&1 &
		JOBCTL_CHILD=$!
		wait "$JOBCTL_CHILD" 2>/dev/null
		rc=$?
		JOBCTL_CHILD=''
		out=''
		IFS= read -r -d '' -n 4096 out <"$JOBCTL_DIR/probe"
		if ((rc == 127)); then
			failures+=("$need, $name not found on PATH")
		elif [[ $out =~ [0-9]+(\.[0-9]+)* ]]; then
			version=${BASH_REMATCH[0]}
			if jobctl_holds "$version" "${JOBCTL_TOOL_CHECKS[i]}"; then
				jobctl_log "found $name $version (${JOBCTL_TOOL_CONSTRAINTS[i]})"
			else
				failures+=("$need, found $version")
			fi
		elif ((rc == 124)); then
			failures+=("$need, its version probe did not finish within 30s")
		else
			first=${out%%$'\n'*}
			first=${first%$'\r'}
			((${#first} > 200)) && first=${first:0:200}...
			failures+=("$need, could not read a version from \"$first\"")
		fi
	done
	((${#failures[@]})) || return 0
	printf -v list '%s; ' "${failures[@]}"
	jobctl_finish FAILURE "${list%; }" 1
}

# jobctl_bad_data fails the run with reason $2 when $1 is strict, and
# otherwise logs that the data is dropped and returns 1.
jobctl_bad_data() {
	[[ $1 == strict ]] && jobctl_finish FAILURE "$2" 1
	jobctl_log "the report data is dropped: $2"
	return 1
}

# jobctl_check_data checks what the body left in $JOBCTL_REPORT_DATA: nothing
# (data {}), or a JSON object of at most 1 MiB in valid UTF-8, which it
# copies aside for the report. After a successful attempt ($1 = strict) bad
# data fails the run; after the last failed attempt, data the body managed
# to write is kept when it is valid (a failure can explain itself in data),
# and otherwise dropped with a log line.
jobctl_check_data() {
	local strict=$1 f=$JOBCTL_DIR/data.checked size msg rc
	local what='report data in $JOBCTL_REPORT_DATA'
	[[ -e $JOBCTL_REPORT_DATA ]] || return 0
	if [[ ! -f $JOBCTL_REPORT_DATA ]]; then
		jobctl_bad_data "$strict" "$what is not a regular file" || return 0
	fi
	# Check a copy, and report that: what is checked is what is reported.
	if ! cp -- "$JOBCTL_REPORT_DATA" "$f" 2>/dev/null; then
		jobctl_bad_data "$strict" "$what cannot be read" || return 0
	fi
	size=$(wc -c <"$f")
	size=${size//[!0-9]/}
	if ((size > 1048576)); then
		jobctl_bad_data "$strict" "$what is $size bytes, more than the limit of 1 MiB (1048576 bytes)" || return 0
	fi
	msg=$(LC_ALL=C awk -v size="$size" "$JOBCTL_JSON_AWK" <"$f" 2>&1)
	rc=$?
	msg=${msg%%$'\n'*}
	if ((rc != 0)); then
		jobctl_bad_data "$strict" "$what is not a JSON object: ${msg:-awk exit status $rc}" || return 0
	fi
	if [[ $msg == 'not ASCII' ]] && ((JOBCTL_HAVE_ICONV)) &&
		! iconv -f UTF-8 -t UTF-8 <"$f" >/dev/null 2>&1; then
		jobctl_bad_data "$strict" "$what is not valid UTF-8" || return 0
	fi
	JOBCTL_DATA_OK=1
}

# ---------------------------------------------------------------- attempts

# jobctl_write_body (re)writes .jobctl/body, and .jobctl/lib.sh when there is
# lib code: before every attempt, in case an attempt cleaned the workspace.
jobctl_write_body() {
	local f=$JOBCTL_DIR/body
	{ [[ -d $JOBCTL_DIR ]] || mkdir -p "$JOBCTL_DIR"; } 2>/dev/null &&
		{ printf '%s' "$JOBCTL_BODY" >"$f"; } 2>/dev/null &&
		{ [[ -x $f ]] || chmod 700 "$f"; } 2>/dev/null || return 1
	[[ -n $JOBCTL_LIB ]] || return 0
	{
		printf '%s' "$JOBCTL_LIB"
		[[ $JOBCTL_LIB == *$'\n' ]] || printf '\n'
		printf 'unset BASH_ENV\n'
	} >"$JOBCTL_DIR/lib.sh"
}

# jobctl_attempt runs the body once, at most $1 (timeout's syntax; 0 = no
# limit), and sets JOBCTL_RC. coreutils timeout makes itself the leader of a
# new process group and, when the time is up, signals the whole group, so
# grandchildren die too and the output pipe closes. The body runs in the
# background so that the wrapper's traps run at once.
jobctl_attempt() {
	local fifo=$JOBCTL_OUT group
	if [[ ! -p $fifo ]] && ! mkfifo -m 600 -- "$fifo" 2>/dev/null; then
		JOBCTL_RC=1
		return
	fi
	: >"$JOBCTL_DIR/last"
	jobctl_stamp <"$fifo" &
	JOBCTL_STAMPER=$!
	if [[ -n $JOBCTL_LIB ]]; then
		BASH_ENV=$JOBCTL_DIR/lib.sh timeout --kill-after=10s "$1" "$JOBCTL_DIR/body" </dev/null >"$fifo" 2>&1 &
	else
		timeout --kill-after=10s "$1" "$JOBCTL_DIR/body" </dev/null >"$fifo" 2>&1 &
	fi
	group=$!
	JOBCTL_CHILD=$group
	wait "$group" 2>/dev/null
	JOBCTL_RC=$?
	JOBCTL_CHILD=''
	# The log is complete when the stamper has seen the end of the output.
	# Processes the body left running in the background may hold it open:
	# after a moment, stop them, as Jenkins would at the end of the build.
	# (Processes that let go of the output are left to Jenkins.)
	if ! jobctl_await "$JOBCTL_STAMPER" 20; then
		jobctl_log "stopping the processes the body left running"
		kill -TERM -- "-$group" 2>/dev/null
		if ! jobctl_await "$JOBCTL_STAMPER" 500; then
			kill -KILL -- "-$group" 2>/dev/null
			if ! jobctl_await "$JOBCTL_STAMPER" 100; then
				# Something that left the process group holds it; the next
				# attempt gets a FIFO of its own.
				{ kill -KILL "$JOBCTL_STAMPER" && wait "$JOBCTL_STAMPER"; } 2>/dev/null # no "Killed" notice
				rm -f -- "$fifo"
				jobctl_log "no longer logging the output of processes the body detached"
			fi
		fi
	fi
	wait "$JOBCTL_STAMPER" 2>/dev/null
	JOBCTL_STAMPER=''
}

# jobctl_await waits until process $1 (a child) has ended, polling $2 times
# every 10 ms; it fails if the process is still running.
jobctl_await() {
	local i
	for ((i = 0; i < $2; i++)); do
		kill -0 "$1" 2>/dev/null || return 0
		jobctl_nap 0.01
	done
	! kill -0 "$1" 2>/dev/null
}

# jobctl_exit_reason sets JOBCTL_WHY to how an attempt that ended with
# status $1 failed, and JOBCTL_SHORT to the short form for the retry line.
jobctl_exit_reason() {
	local rc=$1 last='' sig
	if ((rc > 128 && rc <= 128 + 64)); then
		sig=$(kill -l $((rc - 128)) 2>/dev/null)
		JOBCTL_SHORT="killed by signal $((rc - 128))"
		JOBCTL_WHY="$JOBCTL_SHORT${sig:+ (SIG$sig)}"
	else
		JOBCTL_SHORT="exit $rc"
		JOBCTL_WHY="exit status $rc"
	fi
	[[ -f $JOBCTL_DIR/last ]] && IFS= read -r -d '' last <"$JOBCTL_DIR/last"
	last=${last%$'\r'}
	((${#last} > 500)) && last=${last:0:500}...
	if ((rc == 126 || rc == 127)) && [[ $last == "timeout: failed to run command"* ]]; then
		last+=" (check the shebang line of $JOBCTL_SOURCE: ${JOBCTL_BODY%%$'\n'*})"
	fi
	JOBCTL_WHY+=${last:+: $last}
}

# jobctl_body_reason replaces JOBCTL_WHY with the reason the body wrote to
# $JOBCTL_REPORT_REASON, if any: the first line of a regular file, trimmed,
# at most 500 characters. A file that is missing, empty or blank on its
# first line leaves the default reason.
jobctl_body_reason() {
	local f=$JOBCTL_REPORT_REASON line=''
	[[ -f $f ]] || return 0
	IFS= read -r -n 2048 line <"$f" 2>/dev/null
	line=${line%$'\r'}
	line=${line#"${line%%[![:space:]]*}"}
	line=${line%"${line##*[![:space:]]}"}
	[[ -n $line ]] || return 0
	((${#line} > 500)) && line=${line:0:500}...
	jobctl_log "the body failed (${JOBCTL_WHY%%: *}): reporting the reason it wrote to \$JOBCTL_REPORT_REASON"
	JOBCTL_WHY=$line
}

# jobctl_run runs the attempts and ends the run.
jobctl_run() {
	local max=$((JOBCTL_RETRIES + 1)) n deadline=0 remaining=0 limit backoff pause
	((JOBCTL_TIMEOUT_MS > 0)) && deadline=$((JOBCTL_START_MS + JOBCTL_TIMEOUT_MS))
	jobctl_parse_secs JOBCTL_RETRY_BACKOFF "${JOBCTL_RETRY_BACKOFF:-5}" 5000
	backoff=$JOBCTL_MS
	for ((n = 1; n <= max; n++)); do
		limit=0
		if ((deadline)); then
			jobctl_clock
			remaining=$((deadline - JOBCTL_NOW))
			((remaining > 0)) || jobctl_finish FAILURE "timed out after $JOBCTL_TIMEOUT_TEXT" 124
			printf -v limit '%d.%03d' $((remaining / 1000)) $((remaining % 1000))
		fi
		((n > 1)) && : >"$JOBCTL_LOG"
		[[ -e $JOBCTL_REPORT_DATA || -L $JOBCTL_REPORT_DATA ]] && rm -f -- "$JOBCTL_REPORT_DATA"
		[[ -e $JOBCTL_REPORT_REASON || -L $JOBCTL_REPORT_REASON ]] && rm -f -- "$JOBCTL_REPORT_REASON"
		if ! jobctl_write_body; then
			jobctl_finish FAILURE "could not write the body to $JOBCTL_DIR/body" 1
		fi
		JOBCTL_ATTEMPTS=$n
		export JOBCTL_ATTEMPT=$n
		((max > 1)) && jobctl_log "attempt $n/$max"
		jobctl_attempt "$limit"
		if ((JOBCTL_RC == 0)); then
			jobctl_check_data strict
			jobctl_finish SUCCESS '' 0
		fi
		if ((deadline)); then
			jobctl_clock
			((JOBCTL_NOW >= deadline)) && jobctl_finish FAILURE "timed out after $JOBCTL_TIMEOUT_TEXT" 124
		fi
		jobctl_exit_reason "$JOBCTL_RC"
		if ((n >= max)); then
			jobctl_body_reason
			jobctl_check_data lenient
			jobctl_finish FAILURE "$JOBCTL_WHY" "$JOBCTL_RC"
		fi
		pause=$backoff
		((pause > 60000)) && pause=60000
		((deadline && pause > deadline - JOBCTL_NOW)) && pause=$((deadline - JOBCTL_NOW))
		jobctl_secs "$pause"
		jobctl_log "attempt $n/$max failed ($JOBCTL_SHORT); retrying in $JOBCTL_TXT"
		jobctl_nap "${JOBCTL_TXT%s}"
		backoff=$((backoff * 2))
		((backoff > 60000)) && backoff=60000
	done
}

# ---------------------------------------------------------------- main

JOBCTL_START_MS=0 JOBCTL_NOW=0 JOBCTL_TS='' JOBCTL_TXT='' JOBCTL_MS=0 JOBCTL_CMP=0
JOBCTL_STATUS=FAILURE JOBCTL_REASON='' JOBCTL_EXIT=1 JOBCTL_RC=0 JOBCTL_WHY='' JOBCTL_SHORT=''
JOBCTL_ATTEMPTS=0 JOBCTL_DATA_OK=0 JOBCTL_REPORTED=0 JOBCTL_CHILD='' JOBCTL_STAMPER=''
JOBCTL_HAVE_ICONV=0
command -v iconv >/dev/null 2>&1 && JOBCTL_HAVE_ICONV=1

jobctl_clock
JOBCTL_START_MS=$JOBCTL_NOW
WORKSPACE=${WORKSPACE:-$PWD}
[[ $WORKSPACE == /* ]] || WORKSPACE=$PWD/$WORKSPACE
export WORKSPACE
JOBCTL_DIR=$WORKSPACE/.jobctl
JOBCTL_LOG=$JOBCTL_DIR/log
JOBCTL_TICK=$JOBCTL_DIR/tick
JOBCTL_OUT=$JOBCTL_DIR/out
JOBCTL_REPORT=$WORKSPACE/report.json
export JOBCTL_REPORT_DATA="$WORKSPACE/.jobctl/data.json"
export JOBCTL_REPORT_REASON="$WORKSPACE/.jobctl/reason"
trap jobctl_on_exit EXIT
jobctl_traps

if ! cd -- "$WORKSPACE" 2>/dev/null; then
	jobctl_finish FAILURE "cannot change to the workspace $WORKSPACE" 1
fi
rm -rf -- "$JOBCTL_REPORT" "$JOBCTL_DIR" 2>/dev/null
if ! mkdir -m 700 -- "$JOBCTL_DIR" 2>/dev/null || ! : 2>/dev/null >"$JOBCTL_LOG"; then
	jobctl_finish FAILURE "cannot create $JOBCTL_DIR" 1
fi
mkfifo -m 600 -- "$JOBCTL_TICK" "$JOBCTL_OUT" 2>/dev/null

JOBCTL_I="$JOBCTL_PROCESS${JOBCTL_DEPLOYED:+ ($JOBCTL_DEPLOYED)}: running $JOBCTL_SOURCE"
((JOBCTL_TIMEOUT_MS > 0)) && JOBCTL_I+=", timeout $JOBCTL_TIMEOUT_TEXT"
((JOBCTL_RETRIES == 1)) && JOBCTL_I+=", 1 retry"
((JOBCTL_RETRIES > 1)) && JOBCTL_I+=", $JOBCTL_RETRIES retries"
jobctl_log "$JOBCTL_I"
unset JOBCTL_I

jobctl_check_params
jobctl_check_tools
jobctl_run
