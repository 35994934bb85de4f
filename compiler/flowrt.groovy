// --- jobctl flow runtime ---
// The methods below are the same in every script jobctl generates from a
// flow (compiler/flowrt.groovy). They are @NonCPS: they run as plain Groovy,
// may use closures, and never call a pipeline step; the generated code
// calls the steps. They mirror package flow (eval.go, json.go, run.go):
// the same values, the same text, the same messages.
//
// The run's state is one Map, jobctl: file (the flow's path, for
// messages), process (the job's name), P (the params), S (step name ->
// [status, reason, data] of the steps that ran), failed, ferr (the first
// flow error), early (the reason a required param fails the run before any
// phase), calls (job -> calls made) and started.
//
// Values are shaped like parsed JSON: null, Boolean, Number (Integer, Long,
// BigInteger or BigDecimal), String, Map and List. An expression is a List
// whose first element names it and whose second is its position
// ('line:col'); messages are 'line:col: text', and the flow's path is put
// in front when one becomes the flow's error:
//   ['lit', pos, value]
//   ['param', pos, name]
//   ['step', pos, step, 'status' | 'reason' | 'data', [path...]]
//   ['!', pos, x]
//   [op, pos, x, y, opPos]          op: || && == != < <= > >=
//   ['tmpl', pos, [text or expression, ...]]
//   ['map', pos, [[name, expression], ...]]
//   ['list', pos, [expression, ...]]
// Evaluation returns [true, value] or [false, message]: an evaluation error
// is a value, never an exception, so that a bug is not taken for one.
//
// Script security: Jenkins runs this code in its Groovy sandbox. It uses
// only what script-security's generic whitelist allows: String, CharSequence
// and StringBuilder methods (String.matches included), Map, List and
// Collection methods and iteration, Number.doubleValue,
// Boolean.booleanValue, Object.toString, Object.getClass, String.valueOf,
// Integer.parseInt, Integer.toString(int, int), Math.abs,
// System.currentTimeMillis, and DefaultGroovyMethods.sort(Collection,
// Closure). Numbers in expressions are Groovy literals (BigDecimal,
// Integer), not constructor calls. Reports are parsed by the readJSON step
// of pipeline-utility-steps (>= 2.9.0, for returnPojo: plain LinkedHashMap
// and ArrayList with real nulls), so nothing needs script approval.

// jobctlStart returns the run's state: the params as Jenkins passes them
// (strings, booleans for boolean params; anything else as its text), and
// the reason the run fails at once when a required param is empty.
@NonCPS
def jobctlStart(Map params, String file, String process, List required) {
  def P = [:]
  for (k in params.keySet()) {
    def v = params.get(k)
    if (v != null && !(v instanceof String) && !(v instanceof Boolean)) {
      v = String.valueOf(v)
    }
    P.put(String.valueOf(k), v)
  }
  def empty = []
  for (name in required) {
    def v = P.get(name)
    if (v == null || (v instanceof String && v.isEmpty())) {
      empty.add(name)
    }
  }
  def early = null
  if (empty.size() == 1) {
    early = 'required param ' + empty.get(0) + ' is empty'
  } else if (empty.size() > 1) {
    def b = new StringBuilder('required params ')
    for (int i = 0; i < empty.size(); i++) {
      if (i > 0) {
        b.append(', ')
      }
      b.append(empty.get(i))
    }
    early = b.append(' are empty').toString()
  }
  return [file: file, process: process, P: P, S: [:], failed: false, ferr: null, early: early,
      calls: [:], started: System.currentTimeMillis()]
}

// jobctlFail records an evaluation error as the flow's error, unless one
// came first.
@NonCPS
def jobctlFail(Map jobctl, String message) {
  if (jobctl.ferr == null) {
    jobctl.ferr = jobctl.file + ':' + message
  }
}

// jobctlStopped records an exception that ended the phases.
@NonCPS
def jobctlStopped(Map jobctl, Throwable e) {
  if (jobctl.ferr == null) {
    jobctl.ferr = 'the flow stopped: ' + e.toString()
  }
}

// jobctlPhaseRuns says whether a phase runs: nothing failed yet and its
// when (null: none) holds.
@NonCPS
def jobctlPhaseRuns(Map jobctl, List when) {
  if (jobctl.failed || jobctl.ferr != null) {
    return false
  }
  if (when == null) {
    return true
  }
  def r = jobctlEvalBool(jobctl, when)
  if (!r[0]) {
    jobctlFail(jobctl, r[1])
    return false
  }
  return r[1]
}

// jobctlPrepare evaluates a step's params, in the order written, into
// step.args: [kind, name, value] with kind boolean (value a Boolean),
// password or string (value its text). Null values are left out. An
// evaluation error becomes the flow's error and leaves step.args null: the
// step does not run.
@NonCPS
def jobctlPrepare(Map jobctl, Map step) {
  def args = []
  for (p in step.params) {
    def r = jobctlEval(jobctl, p[2])
    if (!r[0]) {
      jobctlFail(jobctl, r[1])
      step.args = null
      return step
    }
    def v = r[1]
    if (v == null) {
      continue
    }
    if (p[1] == 'boolean') {
      if (!(v instanceof Boolean)) {
        jobctlFail(jobctl, p[2][1] + ': step ' + step.name + ': param ' + p[0] + ' of job ' + step.job +
            ' is a boolean, found ' + jobctlArticle(v))
        step.args = null
        return step
      }
      args.add(['boolean', p[0], v])
    } else {
      args.add([p[1], p[0], jobctlParamText(v)])
    }
  }
  step.args = args
  return step
}

// jobctlCase is the JOBCTL_CASE param passed on to every call of a noop build.
@NonCPS
def jobctlCase(Map jobctl) {
  def v = jobctl.P.get('JOBCTL_CASE')
  if (v == null || (v instanceof Boolean && !v) || (v instanceof String && v.isEmpty())) {
    return ''
  }
  return String.valueOf(v)
}

// jobctlNextCall counts a call of job and returns its number, from 1.
@NonCPS
def jobctlNextCall(Map jobctl, String job) {
  def n = jobctl.calls.get(job)
  n = n == null ? 1 : n + 1
  jobctl.calls.put(job, n)
  return String.valueOf(n)
}

// jobctlOutcome is [status, reason, data] of one attempt: from the report
// the build archived (rep, parsed by readJSON; null when there was none),
// else from the build's result.
@NonCPS
def jobctlOutcome(String job, rep, result) {
  if (rep instanceof Map) {
    def status = rep.get('status')
    def reason = rep.get('reason')
    def data = rep.get('data')
    return [status == null ? 'FAILURE' : jobctlParamText(status), reason == null ? '' : jobctlParamText(reason),
        data instanceof Map ? data : null]
  }
  def status = result == null || String.valueOf(result).isEmpty() ? 'FAILURE' : String.valueOf(result)
  return [status, job + ' ended ' + status + ' without a report', null]
}

// jobctlPhaseEnd marks the flow failed when a step of the phase that ran
// ended other than SUCCESS and may not fail.
@NonCPS
def jobctlPhaseEnd(Map jobctl, List steps) {
  for (step in steps) {
    def s = jobctl.S.get(step.name)
    if (s != null && s[0] != 'SUCCESS' && !step.allowFailure) {
      jobctl.failed = true
    }
  }
}

// jobctlReport builds the flow's report. plan holds steps ([name, job,
// allowFailure] in flow order, for the default outcome), and the status,
// reason (expressions, null for the default) and data ([name, expression])
// the flow writes.
@NonCPS
def jobctlReport(Map jobctl, Map plan) {
  def status = 'FAILURE'
  def reason = jobctl.early
  def data = [:]
  if (jobctl.early == null) {
    def err = jobctl.ferr
    def defStatus = 'SUCCESS'
    def defReason = ''
    for (st in plan.steps) {
      def s = jobctl.S.get(st[0])
      if (s == null || s[0] == 'SUCCESS' || st[2]) {
        continue
      }
      defStatus = 'FAILURE'
      defReason = 'step ' + st[0] + ' (' + st[1] + ') failed: ' + (s[1] == '' ? 'it ended ' + s[0] : s[1])
      break
    }
    status = defStatus
    reason = defReason
    if (err == null && plan.status != null) {
      def r = jobctlEval(jobctl, plan.status)
      if (!r[0]) {
        err = jobctl.file + ':' + r[1]
      } else if (!(r[1] instanceof String) || (r[1] != 'SUCCESS' && r[1] != 'FAILURE')) {
        err = jobctl.file + ':' + plan.status[1] + ': the report status must be SUCCESS or FAILURE, found ' +
            jobctlDescribe(r[1])
      } else {
        status = r[1]
      }
    }
    if (err == null) {
      if (plan.reason != null) {
        def r = jobctlEval(jobctl, plan.reason)
        if (!r[0]) {
          err = jobctl.file + ':' + r[1]
        } else {
          def t = jobctlText(r[1])
          if (t[0]) {
            reason = t[1]
          } else {
            err = jobctl.file + ':' + plan.reason[1] + ': ' + t[1]
          }
        }
      } else if (status != defStatus) {
        reason = ''
      }
    }
    for (d in plan.data) {
      def r = jobctlEval(jobctl, d[1])
      if (!r[0]) {
        if (err == null) {
          err = jobctl.file + ':' + r[1]
        }
        data = [:]
        break
      }
      if (r[1] != null) {
        data.put(d[0], r[1])
      }
    }
    if (err != null) {
      status = 'FAILURE'
      reason = err
    }
  }
  return [process: jobctl.process, status: status, reason: reason, data: data, log: '',
      duration_ms: System.currentTimeMillis() - jobctl.started, attempts: 1]
}

// jobctlCallbackURL is REPORT_RETURN_URL, '' when the caller gave none.
@NonCPS
def jobctlCallbackURL(Map jobctl) {
  def v = jobctl.P.get('REPORT_RETURN_URL')
  return v instanceof String ? v : ''
}

// --- expressions (flow/eval.go)

@NonCPS
def jobctlEval(Map jobctl, List e) {
  def op = e[0]
  if (op == 'lit') {
    return [true, e[2]]
  }
  if (op == 'param') {
    return [true, jobctl.P.get(e[2])]
  }
  if (op == 'step') {
    def s = jobctl.S.get(e[2])
    if (e[3] == 'status') {
      return [true, s == null ? 'SKIPPED' : s[0]]
    }
    if (e[3] == 'reason') {
      return [true, s == null ? '' : s[1]]
    }
    def v = s == null ? null : s[2]
    for (name in e[4]) {
      if (!(v instanceof Map)) {
        return [true, null]
      }
      v = v.get(name)
    }
    return [true, v]
  }
  if (op == '!') {
    def r = jobctlEvalBool(jobctl, e[2])
    if (!r[0]) {
      return r
    }
    return [true, !r[1]]
  }
  if (op == '&&' || op == '||') {
    def x = jobctlEvalBool(jobctl, e[2])
    if (!x[0] || x[1] == (op == '||')) {
      return x
    }
    return jobctlEvalBool(jobctl, e[3])
  }
  if (op == '==' || op == '!=' || op == '<' || op == '<=' || op == '>' || op == '>=') {
    def x = jobctlEval(jobctl, e[2])
    if (!x[0]) {
      return x
    }
    def y = jobctlEval(jobctl, e[3])
    if (!y[0]) {
      return y
    }
    if (op == '==') {
      return [true, jobctlEqual(x[1], y[1])]
    }
    if (op == '!=') {
      return [true, !jobctlEqual(x[1], y[1])]
    }
    if (x[1] == null || y[1] == null) {
      return [true, false]
    }
    def c = jobctlOrder(x[1], y[1])
    if (!c[0]) {
      return [false, e[4] + ': ' + c[1]]
    }
    if (op == '<') {
      return [true, c[1] < 0]
    }
    if (op == '<=') {
      return [true, c[1] <= 0]
    }
    if (op == '>') {
      return [true, c[1] > 0]
    }
    return [true, c[1] >= 0]
  }
  if (op == 'tmpl') {
    def b = new StringBuilder()
    for (p in e[2]) {
      if (p instanceof String) {
        b.append(p)
        continue
      }
      def r = jobctlEval(jobctl, p)
      if (!r[0]) {
        return r
      }
      def t = jobctlText(r[1])
      if (!t[0]) {
        return [false, p[1] + ': ' + t[1]]
      }
      b.append(t[1])
    }
    return [true, b.toString()]
  }
  if (op == 'map') {
    def m = [:]
    for (f in e[2]) {
      def r = jobctlEval(jobctl, f[1])
      if (!r[0]) {
        return r
      }
      m.put(f[0], r[1])
    }
    return [true, m]
  }
  if (op == 'list') {
    def l = []
    for (item in e[2]) {
      def r = jobctlEval(jobctl, item)
      if (!r[0]) {
        return r
      }
      l.add(r[1])
    }
    return [true, l]
  }
  return [false, e[1] + ': jobctl cannot evaluate ' + String.valueOf(op)]
}

// jobctlEvalBool evaluates an operand of !, && or ||: null counts as false.
@NonCPS
def jobctlEvalBool(Map jobctl, List e) {
  def r = jobctlEval(jobctl, e)
  if (!r[0]) {
    return r
  }
  def v = r[1]
  if (v == null) {
    return [true, false]
  }
  if (v instanceof Boolean) {
    return [true, v.booleanValue()]
  }
  return [false, e[1] + ': want a boolean, found ' + jobctlArticle(v)]
}

// jobctlArticle names a value's type for messages, as flow's Type.article.
@NonCPS
def jobctlArticle(v) {
  if (v == null) {
    return 'null'
  }
  if (v instanceof Boolean) {
    return 'a boolean'
  }
  if (v instanceof Number) {
    return 'a number'
  }
  if (v instanceof String) {
    return 'a string'
  }
  if (v instanceof Map) {
    return 'an object'
  }
  if (v instanceof List) {
    return 'an array'
  }
  return 'an any'
}

// jobctlEqual: null equals only null; booleans and strings by value;
// numbers as doubles; objects and arrays deeply, by the same rules.
@NonCPS
def jobctlEqual(x, y) {
  if (x == null || y == null) {
    return x == null && y == null
  }
  if (x instanceof Boolean) {
    return y instanceof Boolean && x.booleanValue() == y.booleanValue()
  }
  if (x instanceof String) {
    return y instanceof String && x.equals(y)
  }
  if (x instanceof Number) {
    if (!(y instanceof Number)) {
      return false
    }
    double a = x.doubleValue()
    double b = y.doubleValue()
    return a == b
  }
  if (x instanceof Map) {
    if (!(y instanceof Map) || x.size() != y.size()) {
      return false
    }
    for (k in x.keySet()) {
      if (!y.containsKey(k) || !jobctlEqual(x.get(k), y.get(k))) {
        return false
      }
    }
    return true
  }
  if (x instanceof List) {
    if (!(y instanceof List) || x.size() != y.size()) {
      return false
    }
    for (int i = 0; i < x.size(); i++) {
      if (!jobctlEqual(x.get(i), y.get(i))) {
        return false
      }
    }
    return true
  }
  return false
}

// jobctlOrder compares two numbers or two strings: [true, -1 | 0 | 1], or
// [false, message].
@NonCPS
def jobctlOrder(x, y) {
  if (x instanceof Number && y instanceof Number) {
    double a = x.doubleValue()
    double b = y.doubleValue()
    if (a < b) {
      return [true, -1]
    }
    if (a > b) {
      return [true, 1]
    }
    if (a == b) {
      return [true, 0]
    }
    return [false, 'cannot order NaN']
  }
  if (x instanceof String && y instanceof String) {
    return [true, jobctlCompare(x, y)]
  }
  return [false, 'cannot order ' + jobctlArticle(x) + ' and ' + jobctlArticle(y)]
}

// jobctlCodePoint is the code point at i; an unpaired surrogate reads as
// U+FFFD, as Go reads invalid UTF-8.
@NonCPS
def jobctlCodePoint(String s, int i) {
  int c = s.codePointAt(i)
  if (c >= 0xD800 && c <= 0xDFFF) {
    return 0xFFFD
  }
  return c
}

// jobctlCompare compares strings by code point, which is the order of
// their UTF-8 bytes (Go's), not Java's order of UTF-16 units.
@NonCPS
def jobctlCompare(String x, String y) {
  int i = 0
  int j = 0
  while (i < x.length() && j < y.length()) {
    int a = jobctlCodePoint(x, i)
    int b = jobctlCodePoint(y, j)
    if (a != b) {
      return a < b ? -1 : 1
    }
    i += x.codePointAt(i) >= 0x10000 ? 2 : 1
    j += y.codePointAt(j) >= 0x10000 ? 2 : 1
  }
  if (i < x.length()) {
    return 1
  }
  if (j < y.length()) {
    return -1
  }
  return 0
}

// --- text and JSON (flow/json.go)

// jobctlText formats a scalar as interpolation does: [true, text], or
// [false, message] for objects and arrays.
@NonCPS
def jobctlText(v) {
  if (v == null) {
    return [true, '']
  }
  if (v instanceof String) {
    return [true, v]
  }
  if (v instanceof Boolean) {
    return [true, v.booleanValue() ? 'true' : 'false']
  }
  if (v instanceof Number) {
    return [true, jobctlFormatNumber(v)]
  }
  if (v instanceof Map) {
    return [false, 'cannot interpolate an object into a string']
  }
  if (v instanceof List) {
    return [false, 'cannot interpolate an array into a string']
  }
  return [false, 'cannot interpolate a ' + v.getClass().getName() + ' into a string']
}

// jobctlParamText is the text a value is passed to a job's param as:
// objects and arrays as canonical JSON, scalars as jobctlText.
@NonCPS
def jobctlParamText(v) {
  if (v instanceof Map || v instanceof List) {
    return jobctlJson(v)
  }
  def t = jobctlText(v)
  return t[0] ? t[1] : ''
}

// jobctlDescribe is how a wrong report status is shown: its text quoted,
// or the kind of a value that is not text.
@NonCPS
def jobctlDescribe(v) {
  if (v == null || v instanceof Map || v instanceof List) {
    return jobctlArticle(v)
  }
  def t = jobctlText(v)
  return '"' + (t[0] ? t[1] : '') + '"'
}

// jobctlFormatNumber writes a number as flow.FormatNumber writes the
// float64 nearest to it: the shortest digits that read back as that
// float64, in plain notation from 1e-6 up to 1e21 and as d.ddde+X outside.
// A number of at most 15 significant digits is written with its own
// digits, which are exactly the shortest ones of its float64 (but for
// subnormal numbers, below 2.2e-308, where a float64 has fewer digits).
// Longer numbers, and numbers a float64 cannot hold, go through the
// double's String.valueOf, whose digits Java 17 and older do not always
// make the shortest (1e23 reads 9.999999999999999E22 there): such a number
// may be written with more digits than Go writes.
@NonCPS
def jobctlFormatNumber(Number n) {
  def d = jobctlDigits(n.toString())
  if (d == null || d[1].length() > 15 || (d[1].length() > 0 && (d[2] < -323 || d[2] > 309))) {
    def s = String.valueOf(n.doubleValue())
    if (s == 'NaN' || s == 'Infinity' || s == '-Infinity') {
      return s
    }
    d = jobctlDigits(s)
  }
  return jobctlFormatDigits(d[0], d[1], d[2])
}

// jobctlDigits reads a number's text (Java's: -12, 1.50, 1E+21, 1.5E-7)
// as [negative, digits, n]: the value is 0.<digits> times 10^n, digits
// without leading or trailing zeros ('' for zero). Null if it is not a
// number.
@NonCPS
def jobctlDigits(String s) {
  boolean neg = s.startsWith('-')
  def m = neg || s.startsWith('+') ? s.substring(1) : s
  int exp = 0
  int e = m.indexOf('E')
  if (e < 0) {
    e = m.indexOf('e')
  }
  if (e >= 0) {
    def es = m.substring(e + 1)
    if (es.startsWith('+')) {
      es = es.substring(1)
    }
    try {
      exp = Integer.parseInt(es)
    } catch (NumberFormatException x) {
      return null
    }
    m = m.substring(0, e)
  }
  int dot = m.indexOf('.')
  def digits = dot < 0 ? m : m.substring(0, dot) + m.substring(dot + 1)
  int point = dot < 0 ? m.length() : dot
  if (digits.isEmpty() || !digits.matches('[0-9]+')) {
    return null
  }
  int lead = 0
  while (lead < digits.length() && digits.startsWith('0', lead)) {
    lead++
  }
  digits = digits.substring(lead)
  point -= lead
  int end = digits.length()
  while (end > 0 && digits.startsWith('0', end - 1)) {
    end--
  }
  digits = digits.substring(0, end)
  if (digits.isEmpty()) {
    return [false, '', 0]
  }
  return [neg, digits, point + exp]
}

// jobctlFormatDigits writes 0.<digits> times 10^n as JavaScript's
// Number#toString does.
@NonCPS
def jobctlFormatDigits(boolean neg, String digits, int n) {
  if (digits.isEmpty()) {
    return '0'
  }
  int k = digits.length()
  def b = new StringBuilder()
  if (neg) {
    b.append('-')
  }
  if (k <= n && n <= 21) {
    b.append(digits)
    for (int i = k; i < n; i++) {
      b.append('0')
    }
  } else if (0 < n && n <= 21) {
    b.append(digits.substring(0, n)).append('.').append(digits.substring(n))
  } else if (-6 < n && n <= 0) {
    b.append('0.')
    for (int i = n; i < 0; i++) {
      b.append('0')
    }
    b.append(digits)
  } else {
    int x = n - 1
    b.append(digits.substring(0, 1))
    if (k > 1) {
      b.append('.').append(digits.substring(1))
    }
    b.append(x < 0 ? 'e-' : 'e+').append(String.valueOf(Math.abs(x)))
  }
  return b.toString()
}

// jobctlJson writes a value as canonical JSON, byte for byte as flow.JSON:
// keys sorted by their UTF-8 bytes, no space, numbers as
// jobctlFormatNumber, and only the escapes JSON needs.
@NonCPS
def jobctlJson(v) {
  def b = new StringBuilder()
  jobctlJsonTo(b, v)
  return b.toString()
}

@NonCPS
def jobctlJsonTo(StringBuilder b, v) {
  if (v == null) {
    b.append('null')
  } else if (v instanceof Boolean) {
    b.append(v.booleanValue() ? 'true' : 'false')
  } else if (v instanceof Number) {
    def s = jobctlFormatNumber(v)
    b.append(s == 'NaN' || s == 'Infinity' || s == '-Infinity' ? 'null' : s)
  } else if (v instanceof String) {
    jobctlJsonString(b, v)
  } else if (v instanceof Map) {
    def keys = []
    for (k in v.keySet()) {
      keys.add(String.valueOf(k))
    }
    keys.sort { x, y -> jobctlCompare(x, y) }
    b.append('{')
    for (int i = 0; i < keys.size(); i++) {
      if (i > 0) {
        b.append(',')
      }
      jobctlJsonString(b, keys.get(i))
      b.append(':')
      jobctlJsonTo(b, v.get(keys.get(i)))
    }
    b.append('}')
  } else if (v instanceof List) {
    b.append('[')
    for (int i = 0; i < v.size(); i++) {
      if (i > 0) {
        b.append(',')
      }
      jobctlJsonTo(b, v.get(i))
    }
    b.append(']')
  } else {
    b.append('null')
  }
}

@NonCPS
def jobctlJsonString(StringBuilder b, String s) {
  b.append('"')
  int i = 0
  while (i < s.length()) {
    int c = jobctlCodePoint(s, i)
    i += s.codePointAt(i) >= 0x10000 ? 2 : 1
    if (c == 0x22) {
      b.append('\\"')
    } else if (c == 0x5C) {
      b.append('\\\\')
    } else if (c == 0x08) {
      b.append('\\b')
    } else if (c == 0x0C) {
      b.append('\\f')
    } else if (c == 0x0A) {
      b.append('\\n')
    } else if (c == 0x0D) {
      b.append('\\r')
    } else if (c == 0x09) {
      b.append('\\t')
    } else if (c < 0x20 || c == 0x2028 || c == 0x2029) {
      def h = Integer.toString(c, 16)
      b.append('\\u')
      for (int z = h.length(); z < 4; z++) {
        b.append('0')
      }
      b.append(h)
    } else {
      b.appendCodePoint(c)
    }
  }
  b.append('"')
}
