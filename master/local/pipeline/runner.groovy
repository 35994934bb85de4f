/*
 * runner.groovy runs one Jenkins pipeline build for jobctl's local master,
 * with a real step library: sh runs shell scripts, build triggers jobs on
 * the master through its REST API, copyArtifacts downloads from it, file
 * steps work on the build's workspace. Package master/local/pipeline embeds
 * it and runs, once per build,
 *
 *     groovy runner.groovy build.json result.json
 *
 * build.json describes the build (see spec in pipeline.go). The console goes
 * to stdout, line by line. When the build ends, result.json gets
 * {"result": "SUCCESS|UNSTABLE|FAILURE|ABORTED", "displayName", "description"}
 * and the process exits 0. A line "abort <message>" on stdin, or the end of
 * stdin, aborts the build: <message> is logged, the script is interrupted
 * (the sh steps it runs are killed, the builds it waits for are stopped) and
 * the build ends ABORTED.
 *
 * Jenkins embeds Groovy 2.4, and so must this file: no lambdas, no var, no
 * !in, no ?.[] and no other syntax newer than 2.4.
 *
 * Threads: the script runs on the main thread, each branch of a parallel
 * step on its own thread. What a block step changes for its body (the
 * current directory, withEnv, the enclosing node) is a Ctx, per thread;
 * env.X assignments and the build result are shared. Interrupting a thread
 * (a timeout, an abort, a failFast parallel) records why in Interrupts
 * first; whatever notices the interruption — a step, or the check that
 * ThreadInterrupt compiles into the script's loops, closures and methods —
 * throws a FlowInterruptedException built from that cause.
 */
package jobctl.pipeline

import groovy.json.JsonException
import groovy.json.JsonLexer
import groovy.json.JsonOutput
import groovy.json.JsonToken
import groovy.json.JsonTokenType
import groovy.transform.ThreadInterrupt
import java.nio.charset.Charset
import java.nio.file.FileVisitResult
import java.nio.file.Files
import java.nio.file.InvalidPathException
import java.nio.file.LinkOption
import java.nio.file.NoSuchFileException
import java.nio.file.Path
import java.nio.file.Paths
import java.nio.file.SimpleFileVisitor
import java.nio.file.StandardCopyOption
import java.nio.file.attribute.BasicFileAttributes
import java.util.concurrent.ConcurrentHashMap
import java.util.concurrent.TimeUnit
import java.util.regex.Matcher
import java.util.regex.Pattern
import org.codehaus.groovy.ast.ClassCodeVisitorSupport
import org.codehaus.groovy.ast.ClassNode
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.classgen.GeneratorContext
import org.codehaus.groovy.control.CompilationFailedException
import org.codehaus.groovy.control.CompilePhase
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.SourceUnit
import org.codehaus.groovy.control.customizers.ASTTransformationCustomizer
import org.codehaus.groovy.control.customizers.CompilationCustomizer
import org.codehaus.groovy.control.customizers.ImportCustomizer

System.exit(PipelineRun.start(args))

/**
 * Jenkins defines the classes of Jenkins that scripts name: NonCPS,
 * hudson.AbortException, hudson.model.Result and the exceptions of
 * workflow-step-api. They are compiled at start-up, in a class loader above
 * the script's.
 */
class Jenkins {
  static GroovyClassLoader loader
  static Class abort
  static Class interrupted
  static Class missingContext

  static void define(ClassLoader parent) {
    loader = new GroovyClassLoader(parent)
    loader.parseClass('''package com.cloudbees.groovy.cps
import java.lang.annotation.*
@Retention(RetentionPolicy.RUNTIME) @interface NonCPS {}
''')
    abort = loader.parseClass('''package hudson
class AbortException extends IOException {
  AbortException(String message) { super(message) }
}
''')
    loader.parseClass('''package hudson.model
class Result implements Serializable {
  static final Result SUCCESS = new Result('SUCCESS', 0)
  static final Result UNSTABLE = new Result('UNSTABLE', 1)
  static final Result FAILURE = new Result('FAILURE', 2)
  static final Result NOT_BUILT = new Result('NOT_BUILT', 3)
  static final Result ABORTED = new Result('ABORTED', 4)
  final String name
  final int ordinal
  private Result(String name, int ordinal) { this.name = name; this.ordinal = ordinal }
  static Result fromString(String s) {
    for (Result r in [SUCCESS, UNSTABLE, FAILURE, NOT_BUILT, ABORTED]) {
      if (r.name.equalsIgnoreCase(s)) {
        return r
      }
    }
    return FAILURE
  }
  boolean isWorseThan(Result r) { ordinal > r.ordinal }
  boolean isWorseOrEqualTo(Result r) { ordinal >= r.ordinal }
  boolean isBetterThan(Result r) { ordinal < r.ordinal }
  boolean isBetterOrEqualTo(Result r) { ordinal <= r.ordinal }
  String toString() { name }
}
''')
    interrupted = loader.parseClass('''package org.jenkinsci.plugins.workflow.steps
import hudson.model.Result
class FlowInterruptedException extends InterruptedException {
  final Result result
  final boolean actualInterruption
  FlowInterruptedException(Result result, boolean actualInterruption, String message) {
    super(message)
    this.result = result
    this.actualInterruption = actualInterruption
  }
  FlowInterruptedException(jobctl.pipeline.Cause cause) {
    this(Result.fromString(cause.result), cause.actual, cause.message)
  }
  // What the script throws where it notices that its thread was interrupted.
  FlowInterruptedException(String ignored) {
    this(jobctl.pipeline.Interrupts.take())
  }
}
''')
    missingContext = loader.parseClass('''package org.jenkinsci.plugins.workflow.steps
class MissingContextVariableException extends Exception {
  MissingContextVariableException(String message) { super(message) }
}
''')
  }

  static Throwable abortException(String message) { (Throwable) abort.newInstance(message) }

  static Throwable flowInterrupted(Cause cause) { (Throwable) interrupted.newInstance(cause) }

  static boolean isAbort(Throwable t) { abort.isInstance(t) }

  static boolean isFlowInterrupted(Throwable t) { interrupted.isInstance(t) }
}

/** Cause is why a thread was interrupted: the result it gives the build and what to say. */
class Cause {
  final String result
  // actual: a real interruption (an abort), which retry does not retry.
  final boolean actual
  final String message

  Cause(String result, boolean actual, String message) {
    this.result = result
    this.actual = actual
    this.message = message
  }
}

/** Interrupts interrupts threads with a cause; see the top of the file. */
class Interrupts {
  private static final Map<Thread, Cause> causes = new ConcurrentHashMap<Thread, Cause>()

  /** interrupt interrupts t with cause, unless it already has a cause pending. */
  static void interrupt(Thread t, Cause cause) {
    causes.putIfAbsent(t, cause)
    t.interrupt()
  }

  /** take clears the current thread's interruption and returns its cause. */
  static Cause take() {
    Thread.interrupted()
    Cause c = causes.remove(Thread.currentThread())
    return c != null ? c : new Cause('ABORTED', true, null)
  }

  /** forget clears the current thread's interruption if cause is pending. */
  static void forget(Cause cause) {
    if (causes.remove(Thread.currentThread(), cause)) {
      Thread.interrupted()
    }
  }

  /** flowInterrupted takes the current thread's interruption as a FlowInterruptedException. */
  static Throwable flowInterrupted() { Jenkins.flowInterrupted(take()) }
}

/** Build results in Jenkins' order (hudson.model.Result). */
class Results {
  static final List<String> ORDER = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED']

  /** parse reads a result as Result.fromString does: unknown names are FAILURE. */
  static String parse(Object value) {
    String name = value == null ? '' : value.toString().toUpperCase()
    return ORDER.contains(name) ? name : 'FAILURE'
  }

  static boolean worse(String a, String b) { ORDER.indexOf(a) > ORDER.indexOf(b) }

  static String worst(String a, String b) { worse(a, b) ? a : b }
}

/** Console is the build's console: whole lines to stdout, from any thread. */
class Console {
  private final PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false, 'UTF-8')

  /** line writes text and a newline. */
  synchronized void line(String text) {
    out.print(text + '\n')
    out.flush()
  }

  /** text writes text as it is. */
  synchronized void text(String text) {
    out.print(text)
    out.flush()
  }

  /** pipeline writes a [Pipeline] line, as Jenkins marks steps. */
  void pipeline(String text) { line('[Pipeline] ' + text) }

  /** stream returns a stream whose lines go to the console (System.out and System.err). */
  PrintStream stream() {
    Console c = this
    OutputStream lines = new OutputStream() {
      private final ByteArrayOutputStream buf = new ByteArrayOutputStream()

      synchronized void write(int b) {
        if (b == 10) {
          c.line(new String(buf.toByteArray(), 'UTF-8'))
          buf.reset()
        } else {
          buf.write(b)
        }
      }

      synchronized void flush() {
        if (buf.size() > 0) {
          c.text(new String(buf.toByteArray(), 'UTF-8'))
          buf.reset()
        }
      }
    }
    return new PrintStream(lines, true, 'UTF-8')
  }
}

/** Spans writes durations as Jenkins' Util.getTimeSpanString does. */
class Spans {
  static String of(long ms) {
    long hours = ms.intdiv(3600000L)
    long minutes = ms.intdiv(60000L) % 60
    long seconds = ms.intdiv(1000L) % 60
    if (hours > 0) {
      return "${hours} hr ${minutes} min"
    }
    if (minutes > 0) {
      return "${minutes} min ${seconds} sec"
    }
    if (seconds >= 10) {
      return "${seconds} sec"
    }
    if (seconds >= 1) {
      return "${ms.intdiv(100) / 10} sec"
    }
    if (ms >= 100) {
      return "${ms.intdiv(10) / 100} sec"
    }
    return "${ms} ms"
  }
}

/**
 * Json parses JSON as JsonSlurperClassic does (the same lexer, the same
 * value types: String, Integer, Long, BigInteger, BigDecimal, Boolean, real
 * nulls) into LinkedHashMaps and ArrayLists, keeping the order of keys.
 */
class Json {
  static Object parse(String text) {
    JsonLexer lexer = new JsonLexer(new StringReader(text))
    Object value = value(lexer, lexer.nextToken())
    JsonToken extra = lexer.nextToken()
    if (extra != null) {
      throw unexpected(extra, 'the end of the text')
    }
    return value
  }

  private static Object value(JsonLexer lexer, JsonToken t) {
    if (t == null) {
      throw new JsonException('unexpected end of the JSON text')
    }
    switch (t.type) {
      case JsonTokenType.OPEN_CURLY:
        Map<String, Object> map = new LinkedHashMap<String, Object>()
        JsonToken key = lexer.nextToken()
        if (key?.type == JsonTokenType.CLOSE_CURLY) {
          return map
        }
        while (true) {
          if (key?.type != JsonTokenType.STRING) {
            throw unexpected(key, 'a string')
          }
          JsonToken colon = lexer.nextToken()
          if (colon?.type != JsonTokenType.COLON) {
            throw unexpected(colon, "':'")
          }
          map.put((String) key.value, value(lexer, lexer.nextToken()))
          JsonToken next = lexer.nextToken()
          if (next?.type == JsonTokenType.CLOSE_CURLY) {
            return map
          }
          if (next?.type != JsonTokenType.COMMA) {
            throw unexpected(next, "',' or '}'")
          }
          key = lexer.nextToken()
        }
      case JsonTokenType.OPEN_BRACKET:
        List<Object> list = new ArrayList<Object>()
        JsonToken item = lexer.nextToken()
        if (item?.type == JsonTokenType.CLOSE_BRACKET) {
          return list
        }
        while (true) {
          list.add(value(lexer, item))
          JsonToken next = lexer.nextToken()
          if (next?.type == JsonTokenType.CLOSE_BRACKET) {
            return list
          }
          if (next?.type != JsonTokenType.COMMA) {
            throw unexpected(next, "',' or ']'")
          }
          item = lexer.nextToken()
        }
      case JsonTokenType.STRING:
      case JsonTokenType.NUMBER:
      case JsonTokenType.TRUE:
      case JsonTokenType.FALSE:
      case JsonTokenType.NULL:
        return t.value
      default:
        throw unexpected(t, 'a value')
    }
  }

  private static JsonException unexpected(JsonToken t, String wanted) {
    if (t == null) {
      return new JsonException("expected ${wanted}, found the end of the JSON text")
    }
    return new JsonException("expected ${wanted} on line ${t.startLine}, column ${t.startColumn}, found ${t.text}")
  }

  /** pretty formats v as JSON, indented by indent per level, as net.sf.json's toString(indent) does. */
  static String pretty(Object v, String indent, String pad) {
    String inner = pad + indent
    if (v instanceof Map) {
      if (v.isEmpty()) {
        return '{}'
      }
      List<String> members = v.collect { k, x ->
        inner + JsonOutput.toJson(String.valueOf(k)) + ': ' + pretty(x, indent, inner)
      }
      return '{\n' + members.join(',\n') + '\n' + pad + '}'
    }
    if (v instanceof Collection || v instanceof Object[]) {
      List items = v as List
      if (items.isEmpty()) {
        return '[]'
      }
      return '[\n' + items.collect { inner + pretty(it, indent, inner) }.join(',\n') + '\n' + pad + ']'
    }
    return JsonOutput.toJson(v)
  }
}

/** Globs matches slash-separated paths against comma-separated Ant patterns. */
class Globs {
  private final List<Pattern> patterns = []

  Globs(String list) {
    for (String p in (list ?: '').split(',')) {
      if (p.trim()) {
        patterns.add(compile(p.trim()))
      }
    }
  }

  boolean isEmpty() { patterns.isEmpty() }

  boolean matches(String path) { patterns.any { it.matcher(path).matches() } }

  private static Pattern compile(String glob) {
    String s = glob.replace('\\', '/').replaceFirst('^\\./', '')
    if (s.endsWith('/')) {
      s += '**'
    }
    StringBuilder re = new StringBuilder()
    int i = 0
    while (i < s.length()) {
      if (s.startsWith('**/', i)) {
        re.append('(?:.*/)?')
        i += 3
      } else if (s.startsWith('**', i)) {
        re.append('.*')
        i += 2
      } else {
        String c = s.substring(i, i + 1)
        re.append(c == '*' ? '[^/]*' : c == '?' ? '[^/]' : Pattern.quote(c))
        i++
      }
    }
    return Pattern.compile(re.toString())
  }
}

/**
 * ScriptCompiler compiles the pipeline script as Jenkins does: class
 * WorkflowScript, a subclass of PipelineScript (the step library), with
 * NonCPS imported. It also compiles interruption checks into the script
 * (ThreadInterrupt) and records the lines of its calls (StepCalls).
 */
class ScriptCompiler {
  final CallSites sites = new CallSites()

  Class compile(String text) throws CompilationFailedException {
    CompilerConfiguration config = new CompilerConfiguration()
    config.scriptBaseClass = PipelineScript.name
    ImportCustomizer imports = new ImportCustomizer()
    imports.addImports('com.cloudbees.groovy.cps.NonCPS')
    config.addCompilationCustomizers(imports, new StepCalls(sites),
        new ASTTransformationCustomizer([thrown: Jenkins.interrupted], ThreadInterrupt))
    GroovyClassLoader scripts = new GroovyClassLoader(Jenkins.loader, config)
    GroovyCodeSource source = new GroovyCodeSource(text, PipelineRun.SCRIPT, GroovyShell.DEFAULT_CODE_BASE)
    return scripts.parseClass(source, false)
  }
}

/**
 * StepCalls looks at every bare method call of the script (a step, or a
 * method of the script): it records the lines each spans, and it makes a
 * bare call of sleep, which Groovy gives every object, a call on the script
 * as it is in Jenkins (in a closure, Groovy would call
 * DefaultGroovyMethods.sleep on the closure itself).
 */
class StepCalls extends CompilationCustomizer {
  private final CallSites sites

  StepCalls(CallSites sites) {
    super(CompilePhase.CANONICALIZATION)
    this.sites = sites
  }

  void call(SourceUnit source, GeneratorContext context, ClassNode node) {
    CallSites into = sites
    new ClassCodeVisitorSupport() {
      protected SourceUnit getSourceUnit() { source }

      void visitMethodCallExpression(MethodCallExpression call) {
        if (call.implicitThis && call.methodAsString != null) {
          into.add(call.methodAsString, call.lineNumber, call.lastLineNumber)
          if (call.methodAsString == 'sleep') {
            call.implicitThis = false // this.sleep(...): `this` is the script, even in a closure
          }
        }
        super.visitMethodCallExpression(call)
      }
    }.visitClass(node)
  }
}

/**
 * CallSites are the lines the bare method calls of the script span. A stack
 * trace gives the line a call was on when it was made, which for a call over
 * several lines (build job: ..., parameters: [...]) is the line of its last
 * argument; Jenkins gives the line it starts on.
 */
class CallSites {
  private final Map<String, List<int[]>> byName = [:]

  void add(String name, int first, int last) {
    if (first > 0) {
      List<int[]> spans = byName[name]
      if (spans == null) {
        spans = []
        byName[name] = spans
      }
      spans.add([first, Math.max(first, last)] as int[])
    }
  }

  /** start returns the line the innermost call of name spanning line starts on, or line. */
  int start(String name, int line) {
    int best = line
    int bestFirst = 0
    for (int[] span in (byName[name] ?: [])) {
      if (span[0] <= line && line <= span[1] && span[0] > bestFirst) {
        bestFirst = span[0]
        best = span[0]
      }
    }
    return best
  }
}

/**
 * Ctx is what the enclosing block steps give the code of one thread: the
 * current directory (null outside node), the withEnv overlays (innermost
 * last) and the parallel branch.
 */
class Ctx {
  final String cwd
  final List<Map<String, String>> overlays
  final String branch

  Ctx(String cwd, List<Map<String, String>> overlays, String branch) {
    this.cwd = cwd
    this.overlays = Collections.unmodifiableList(new ArrayList<Map<String, String>>(overlays))
    this.branch = branch
  }

  Ctx withCwd(String dir) { new Ctx(dir, overlays, branch) }

  Ctx withOverlay(Map<String, String> vars) {
    List<Map<String, String>> all = new ArrayList<Map<String, String>>(overlays)
    all.add(vars)
    return new Ctx(cwd, all, branch)
  }

  Ctx withBranch(String name) { new Ctx(cwd, overlays, name) }
}

/**
 * EnvGlobal is the env global: withEnv overlays of the current thread over
 * env.X assignments over the build's variables over the agent's.
 */
class EnvGlobal {
  private final PipelineRun run

  EnvGlobal(PipelineRun run) { this.run = run }

  Object getProperty(String name) { run.envGet(name) }

  void setProperty(String name, Object value) { run.envSet(name, value) }

  Object getAt(String name) { run.envGet(name) }

  void putAt(String name, Object value) { run.envSet(name, value) }

  /** getEnvironment returns a copy of every variable. */
  Map<String, String> getEnvironment() { run.environment() }

  String toString() { 'env' }
}

/** CurrentBuild is the currentBuild global (a RunWrapper of this build). */
class CurrentBuild {
  private final PipelineRun run
  String displayName
  String description

  CurrentBuild(PipelineRun run) {
    this.run = run
    displayName = '#' + run.number
  }

  String getResult() { run.getResult() }

  void setResult(Object result) { run.worsen(Results.parse(result)) }

  String getCurrentResult() { run.getResult() ?: 'SUCCESS' }

  boolean resultIsBetterOrEqualTo(String r) { !Results.worse(getCurrentResult(), Results.parse(r)) }

  boolean resultIsWorseOrEqualTo(String r) { !Results.worse(Results.parse(r), getCurrentResult()) }

  int getNumber() { run.number }

  String getId() { String.valueOf(run.number) }

  String getProjectName() { run.job.substring(run.job.lastIndexOf('/') + 1) }

  String getFullProjectName() { run.job }

  String getFullDisplayName() { run.job.replace('/', ' » ') + ' ' + displayName }

  String getAbsoluteUrl() {
    String url = run.buildEnv.get('BUILD_URL')
    return url ?: (run.master.base ?: '/') + Master.jobPath(run.job) + run.number + '/'
  }

  long getStartTimeInMillis() { run.started }

  long getTimeInMillis() { run.started }

  long getDuration() { System.currentTimeMillis() - run.started }

  String getDurationString() { Spans.of(getDuration()) + ' and counting' }

  Map<String, String> getBuildVariables() { run.environment() }

  boolean getBuilding() { true }

  String toString() { getFullDisplayName() }
}

/** ParamValue is a parameter of a build step: string(name: ..., value: ...) and its kin. */
class ParamValue {
  final String type // StringParameterValue, BooleanParameterValue, ...
  final String name
  final Object value

  ParamValue(String type, Object name, Object value) {
    this.type = type
    this.name = name == null ? null : name.toString()
    this.value = value
  }

  /** text is the value as the master is sent it. */
  String getText() {
    if (value == null) {
      return ''
    }
    return value.toString()
  }

  String toString() { "@${type}(name=${name},value=${type.startsWith('Password') ? '****' : value})" }
}

/** Selector is a build selector of copyArtifacts: specific(), lastSuccessful(), lastCompleted(). */
class Selector {
  final String kind
  // the path of the build under its job: a number or a permalink
  final String path

  Selector(String kind, String path) {
    this.kind = kind
    this.path = path
  }

  String toString() { kind == 'specific' ? "specific('${path}')" : kind + '()' }
}

/** DownstreamRun is what the build step returns, like Jenkins' RunWrapper. */
class DownstreamRun {
  final int number
  final String id
  final String result
  final String currentResult
  final String fullProjectName
  final String projectName
  final String displayName
  final String fullDisplayName
  final String absoluteUrl
  final Map<String, String> buildVariables
  final String description
  final long duration
  final long startTimeInMillis
  final long timeInMillis

  DownstreamRun(String full, Map b) {
    number = (b.number ?: 0) as int
    id = b.id != null ? b.id.toString() : String.valueOf(number)
    result = b.result == null ? null : b.result.toString()
    currentResult = result ?: 'SUCCESS'
    fullProjectName = full
    projectName = full.substring(full.lastIndexOf('/') + 1)
    displayName = b.displayName ?: '#' + number
    fullDisplayName = b.fullDisplayName ?: full.replace('/', ' » ') + ' ' + displayName
    absoluteUrl = b.url
    description = b.description
    duration = (b.duration ?: 0) as long
    startTimeInMillis = (b.timestamp ?: 0) as long
    timeInMillis = startTimeInMillis
    Map<String, String> vars = new LinkedHashMap<String, String>()
    for (Object action in (b.actions ?: [])) {
      if (action instanceof Map && action.parameters instanceof List) {
        for (Object p in action.parameters) {
          if (p instanceof Map && p.name != null) {
            vars.put(p.name.toString(), p.value == null ? null : p.value.toString())
          }
        }
      }
    }
    buildVariables = Collections.unmodifiableMap(vars)
  }

  String getDurationString() { Spans.of(duration) }

  boolean resultIsBetterOrEqualTo(String r) { !Results.worse(currentResult, Results.parse(r)) }

  boolean resultIsWorseOrEqualTo(String r) { !Results.worse(Results.parse(r), currentResult) }

  String toString() { fullDisplayName }
}

/** Response is an answer of the master. */
class Response {
  final int code
  final String body
  final Map<String, List<String>> headers

  Response(int code, String body, Map<String, List<String>> headers) {
    this.code = code
    this.body = body
    this.headers = headers
  }

  String header(String name) {
    for (Map.Entry<String, List<String>> e in headers) {
      if (e.key != null && e.key.equalsIgnoreCase(name) && e.value) {
        return e.value[0]
      }
    }
    return null
  }

  /** describe says what went wrong, for messages. */
  String describe() {
    String why = header('X-Error')
    if (!why) {
      why = (body ?: '').replaceAll('<[^>]*>', ' ').readLines()*.trim().find { it }
    }
    String s = 'HTTP ' + code + (why ? ': ' + why : '')
    return s.length() > 300 ? s.substring(0, 300) + '...' : s
  }
}

/**
 * Master talks to the master through its REST API, as a client would:
 * Basic auth with an API token when the build has one (exempt from CSRF
 * crumbs), otherwise a crumb from the crumb issuer, bound to the session
 * cookie the issuer sets.
 */
class Master {
  final String base
  private final String authorization
  private final Map<String, String> cookies = new LinkedHashMap<String, String>()
  private Map<String, String> crumb // header -> value; empty: no crumbs; null: not asked yet

  Master(String base, String user, String token) {
    this.base = base ? (base.endsWith('/') ? base : base + '/') : null
    if (user || token) {
      authorization = 'Basic ' + "${user ?: ''}:${token ?: ''}".toString().getBytes('UTF-8').encodeBase64().toString()
    }
  }

  /** jobPath returns the path of a job by full name: job/a/job/b/. */
  static String jobPath(String full) {
    full.split('/').findAll { it }.collect { 'job/' + enc(it) }.join('/') + '/'
  }

  /** enc encodes a path segment. */
  static String enc(String s) { URLEncoder.encode(s, 'UTF-8').replace('+', '%20') }

  Response get(String path) { send('GET', path, null, null) }

  /** json returns the JSON object at path (…/api/json), null on 404; other failures throw. */
  Map json(String path) {
    Response r = get(path)
    if (r.code == 404) {
      return null
    }
    if (r.code != 200) {
      throw new IOException("GET ${base}${path}: ${r.describe()}")
    }
    Object v = Json.parse(r.body)
    if (!(v instanceof Map)) {
      throw new IOException("GET ${base}${path}: not a JSON object")
    }
    return (Map) v
  }

  /** post posts a form (name/value pairs); a stale crumb is fetched again once. */
  Response post(String path, List<List<String>> form) {
    Response r = send('POST', path, form, null)
    if (r.code == 403 && authorization == null && (r.body ?: '').contains('No valid crumb')) {
      synchronized (this) {
        crumb = null
      }
      r = send('POST', path, form, null)
    }
    return r
  }

  /** download writes the file at path to to; it returns the answer (its body is empty on success). */
  Response download(String path, Path to) { send('GET', path, null, to) }

  private Response send(String method, String path, List<List<String>> form, Path to) {
    if (base == null) {
      throw new IOException('the build was given no master URL')
    }
    HttpURLConnection c = (HttpURLConnection) new URL(base + path).openConnection()
    c.instanceFollowRedirects = false
    c.useCaches = false
    c.connectTimeout = 10000
    c.readTimeout = 60000
    c.requestMethod = method
    if (authorization != null) {
      c.setRequestProperty('Authorization', authorization)
    } else if (method == 'POST') {
      crumb().each { String k, String v -> c.setRequestProperty(k, v) }
    }
    String cookie = cookieHeader()
    if (cookie) {
      c.setRequestProperty('Cookie', cookie)
    }
    if (method == 'POST') {
      byte[] body = formBody(form).getBytes('UTF-8')
      c.doOutput = true
      c.setRequestProperty('Content-Type', 'application/x-www-form-urlencoded')
      c.setFixedLengthStreamingMode(body.length)
      OutputStream out = c.outputStream
      try {
        out.write(body)
      } finally {
        out.close()
      }
    }
    int code = c.responseCode
    keepCookies(c.headerFields)
    InputStream stream = code < 400 ? c.inputStream : c.errorStream
    String text = ''
    if (stream != null) {
      try {
        if (code == 200 && to != null) {
          Files.copy(stream, to, StandardCopyOption.REPLACE_EXISTING)
        } else {
          text = new String(stream.bytes, 'UTF-8')
        }
      } finally {
        stream.close()
      }
    }
    return new Response(code, text, c.headerFields)
  }

  private static String formBody(List<List<String>> form) {
    (form ?: []).collect { URLEncoder.encode(it[0], 'UTF-8') + '=' + URLEncoder.encode(it[1], 'UTF-8') }.join('&')
  }

  private synchronized Map<String, String> crumb() {
    if (crumb == null) {
      Response r = send('GET', 'crumbIssuer/api/json', null, null)
      crumb = [:]
      if (r.code == 200) {
        Object j = Json.parse(r.body)
        if (j instanceof Map && j.crumbRequestField && j.crumb) {
          crumb[j.crumbRequestField.toString()] = j.crumb.toString()
        }
      }
    }
    return crumb
  }

  private synchronized String cookieHeader() { cookies.collect { k, v -> k + '=' + v }.join('; ') }

  private synchronized void keepCookies(Map<String, List<String>> headers) {
    headers.each { String k, List<String> values ->
      if (k != null && k.equalsIgnoreCase('Set-Cookie')) {
        for (String v in values) {
          String pair = v.split(';')[0]
          int eq = pair.indexOf('=')
          if (eq > 0) {
            cookies[pair.substring(0, eq).trim()] = pair.substring(eq + 1).trim()
          }
        }
      }
    }
  }

  /** normalize resolves . and .. in a slash-separated job path; null if it climbs above the root. */
  static String normalize(String path) {
    List<String> parts = []
    for (String p in path.split('/')) {
      if (p == '..') {
        if (!parts) {
          return null
        }
        parts.remove(parts.size() - 1)
      } else if (p && p != '.') {
        parts.add(p)
      }
    }
    return parts ? parts.join('/') : null
  }

  private final Map<String, Map> items = new ConcurrentHashMap<String, Map>()

  /**
   * item finds a job as Jenkins.getItem(name, folder) does: relative to
   * the folder first, then from the root; a leading / is absolute. It
   * returns [fullName, parameterized], or null if there is none.
   */
  Map item(String name, String folder) {
    List<String> candidates = []
    if (name.startsWith('/')) {
      candidates.add(normalize(name))
    } else {
      candidates.add(normalize(folder ? folder + '/' + name : name))
      candidates.add(normalize(name))
    }
    for (String full in candidates.findAll { it }.unique()) {
      Map hit = items.get(full)
      if (hit != null) {
        return hit
      }
      Map j = json(jobPath(full) + 'api/json?tree=' + URLEncoder.encode('fullName,property[parameterDefinitions[name]]', 'UTF-8'))
      if (j == null) {
        continue
      }
      boolean parameterized = (j.property ?: []).any { it instanceof Map && it.parameterDefinitions }
      hit = [fullName: (j.fullName ?: full).toString(), parameterized: parameterized]
      items.put(full, hit)
      return hit
    }
    return null
  }
}

/**
 * PipelineScript is the base class of the script: its methods are the
 * steps and globals. It has no state of its own (a field here would be a
 * variable of every script); the build is PipelineRun.current.
 */
abstract class PipelineScript extends Script {
  // --- globals

  Map getParams() { PipelineRun.current.params }

  EnvGlobal getEnv() { PipelineRun.current.env }

  CurrentBuild getCurrentBuild() { PipelineRun.current.currentBuild }

  /** An unknown variable: Jenkins looks it up in env last, then gives up. */
  def propertyMissing(String name) {
    String value = PipelineRun.current.envGet(name)
    if (value == null) {
      throw new MissingPropertyException(name, this.getClass())
    }
    return value
  }

  /**
   * An unknown step: NoSuchMethodError, as in Jenkins (an Error: `catch
   * (Exception e)` does not swallow it). A method of the script, or a step,
   * called with the wrong arguments is a MissingMethodException.
   */
  def methodMissing(String name, Object args) {
    Object[] values = (Object[]) args
    if (this.getClass().declaredMethods.any { it.name == name } || PipelineRun.STEPS.contains(name)) {
      throw new MissingMethodException(name, this.getClass(), values)
    }
    throw PipelineRun.current.thrown(name, new NoSuchMethodError("No such DSL method '${name}' found among steps ${PipelineRun.STEPS} " +
        "or globals ${PipelineRun.GLOBALS}"))
  }

  // --- output: Script's own println looks for an `out` variable

  void println() { PipelineRun.current.console.text('\n') }

  void println(Object value) { PipelineRun.current.console.text(String.valueOf(value) + '\n') }

  void print(Object value) { PipelineRun.current.console.text(String.valueOf(value)) }

  void printf(String format, Object value) { PipelineRun.current.console.text(String.format(format, value)) }

  void printf(String format, Object[] values) { PipelineRun.current.console.text(String.format(format, values)) }

  // --- steps

  void echo(Object message) { PipelineRun.current.echo(message) }

  def error(Object message) { PipelineRun.current.error(message) }

  def error(Map args) { PipelineRun.current.error(args.message) }

  void unstable(Object message) { PipelineRun.current.unstable(message) }

  void unstable(Map args) { PipelineRun.current.unstable(args.message) }

  def stage(Object name, Closure body) { PipelineRun.current.stage(name instanceof Map ? ((Map) name).name : name, body) }

  def node(Closure body) { PipelineRun.current.node(null, body) }

  def node(Object label, Closure body) { PipelineRun.current.node(label instanceof Map ? ((Map) label).label : label, body) }

  def parallel(Map branches) { PipelineRun.current.parallel(branches) }

  def retry(Object count, Closure body) { PipelineRun.current.retry(count instanceof Map ? ((Map) count).count : count, body) }

  def timeout(Object minutes, Closure body) {
    PipelineRun.current.timeout(minutes instanceof Map ? (Map) minutes : [time: minutes, unit: 'MINUTES'], body)
  }

  def catchError(Closure body) { PipelineRun.current.catchError([:], body) }

  def catchError(Map args, Closure body) { PipelineRun.current.catchError(args, body) }

  def warnError(Object message, Closure body) {
    Map args = message instanceof Map ? (Map) message : [message: message]
    PipelineRun.current.catchError([buildResult: 'UNSTABLE', message: args.message, catchInterruptions: args.catchInterruptions], body)
  }

  def withEnv(List vars, Closure body) { PipelineRun.current.withEnv(vars, body) }

  void sleep(long seconds) { PipelineRun.current.sleep(seconds, 'SECONDS') }

  void sleep(Map args) { PipelineRun.current.sleep(args.time, args.unit ?: 'SECONDS') }

  boolean isUnix() { true }

  def sh(Object script) { PipelineRun.current.sh(script instanceof Map ? (Map) script : [script: script]) }

  def build(Object job) { PipelineRun.current.build(job instanceof Map ? (Map) job : [job: job]) }

  ParamValue string(Map args) { new ParamValue('StringParameterValue', args.name, args.value) }

  ParamValue booleanParam(Map args) { new ParamValue('BooleanParameterValue', args.name, args.value) }

  ParamValue password(Map args) { new ParamValue('PasswordParameterValue', args.name, args.value) }

  ParamValue text(Map args) { new ParamValue('TextParameterValue', args.name, args.value) }

  def copyArtifacts(Map args) { PipelineRun.current.copyArtifacts(args) }

  Selector specific(Object number) {
    Object n = number instanceof Map ? ((Map) number).buildNumber : number
    new Selector('specific', n == null ? '' : n.toString())
  }

  Selector lastSuccessful() { new Selector('lastSuccessful', 'lastSuccessfulBuild') }

  Selector lastSuccessful(Map args) {
    args.stable ? new Selector('lastSuccessful', 'lastStableBuild') : lastSuccessful()
  }

  Selector lastCompleted() { new Selector('lastCompleted', 'lastCompletedBuild') }

  def dir(Object path, Closure body) { PipelineRun.current.dir(path, body) }

  void deleteDir() { PipelineRun.current.deleteDir() }

  String pwd() { PipelineRun.current.pwd(false) }

  String pwd(Map args) { PipelineRun.current.pwd(args.tmp as boolean) }

  void writeFile(Map args) { PipelineRun.current.writeFile(args) }

  String readFile(Object file) { PipelineRun.current.readFile(file instanceof Map ? (Map) file : [file: file]) }

  boolean fileExists(Object file) { PipelineRun.current.fileExists(file instanceof Map ? ((Map) file).file : file) }

  def readJSON(Map args) { PipelineRun.current.readJSON(args) }

  def writeJSON(Map args) { PipelineRun.current.writeJSON(args) }

  void archiveArtifacts(Object artifacts) {
    PipelineRun.current.archiveArtifacts(artifacts instanceof Map ? (Map) artifacts : [artifacts: artifacts])
  }
}

/** PipelineRun is the build being run: its state and its steps. */
class PipelineRun {
  static final String SCRIPT = 'WorkflowScript'
  /** STEPS and GLOBALS are what the step library has, as an unknown step lists them. */
  static final List<String> STEPS = ['archiveArtifacts', 'booleanParam', 'build', 'catchError', 'copyArtifacts',
      'deleteDir', 'dir', 'echo', 'error', 'fileExists', 'isUnix', 'lastCompleted', 'lastSuccessful', 'node',
      'parallel', 'password', 'pwd', 'readFile', 'readJSON', 'retry', 'sh', 'sleep', 'specific', 'stage', 'string',
      'text', 'timeout', 'unstable', 'warnError', 'withEnv', 'writeFile', 'writeJSON']
  static final List<String> GLOBALS = ['currentBuild', 'env', 'params']
  /** current is the build; the steps find it here. */
  static PipelineRun current
  private static final ThreadLocal<Ctx> CTX = new ThreadLocal<Ctx>()

  final Console console = new Console()
  final String job
  final String folder
  final int number
  final String script
  final Map params
  final Map<String, String> buildEnv
  final Map<String, String> agentEnv
  final Path ws
  final Path artifactsDir
  final Master master
  final EnvGlobal env
  final CurrentBuild currentBuild
  final long started = System.currentTimeMillis()

  private final Map<String, String> assigned = Collections.synchronizedMap(new LinkedHashMap<String, String>())
  private String result // currentBuild.result: null until set
  private volatile boolean aborted
  private Thread main
  private CallSites sites = new CallSites()
  // an exception a step threw -> the step, for the line of its call
  private final Map<Throwable, String> stepOf = Collections.synchronizedMap(new IdentityHashMap<Throwable, String>())
  private final Timer timers = new Timer('timeouts', true)

  /** start runs the build of args[0] and writes its result to args[1]. */
  static int start(String[] args) {
    Map spec = (Map) Json.parse(new File(args[0]).getText('UTF-8'))
    Jenkins.define(PipelineRun.classLoader)
    PipelineRun run = new PipelineRun(spec)
    current = run
    System.setOut(run.console.stream())
    System.setErr(run.console.stream())
    String result = run.execute()
    Map out = [result: result, displayName: run.currentBuild.displayName, description: run.currentBuild.description]
    new File(args[1]).setText(JsonOutput.toJson(out), 'UTF-8')
    return 0
  }

  PipelineRun(Map spec) {
    job = spec.job ?: 'pipeline'
    folder = job.contains('/') ? job.substring(0, job.lastIndexOf('/')) : ''
    number = (spec.number ?: 1) as int
    script = spec.script ?: ''
    Map<String, Object> p = new LinkedHashMap<String, Object>()
    Map types = spec.paramTypes ?: [:]
    (spec.params ?: [:]).each { String k, Object v ->
      p.put(k, types[k] == 'boolean' ? Boolean.valueOf(String.valueOf(v)) : (v == null ? null : v.toString()))
    }
    params = Collections.unmodifiableMap(p)
    buildEnv = strings(spec.env)
    agentEnv = strings(spec.agentEnv)
    ws = Paths.get(spec.workspace ?: '.').toAbsolutePath().normalize()
    artifactsDir = Paths.get(spec.artifactsDir ?: ws.toString() + '@archive').toAbsolutePath().normalize()
    master = new Master(spec.masterURL, spec.user, spec.token)
    env = new EnvGlobal(this)
    currentBuild = new CurrentBuild(this)
  }

  private static Map<String, String> strings(Object m) {
    Map<String, String> out = new LinkedHashMap<String, String>()
    ((Map) (m ?: [:])).each { k, v -> out.put(k.toString(), v == null ? '' : v.toString()) }
    return Collections.unmodifiableMap(out)
  }

  // --- the run

  String execute() {
    main = Thread.currentThread()
    listen()
    Class type
    try {
      ScriptCompiler compiler = new ScriptCompiler()
      type = compiler.compile(script)
      sites = compiler.sites
    } catch (CompilationFailedException e) {
      console.line(e.toString().trim())
      return 'FAILURE'
    }
    if (!Script.isAssignableFrom(type)) {
      console.line('ERROR: the pipeline script has no statements: it only defines ' + type.name)
      return 'FAILURE'
    }
    CTX.set(new Ctx(null, [], null))
    Throwable ended = null
    console.pipeline('Start of Pipeline')
    try {
      Script s = (Script) type.newInstance()
      s.binding = new Binding()
      s.run()
    } catch (Throwable t) {
      ended = t
    }
    console.pipeline('End of Pipeline')
    String r = getResult() ?: 'SUCCESS'
    if (ended != null) {
      report(ended)
      r = Results.worst(r, resultOf(ended))
    }
    if (aborted) {
      r = 'ABORTED'
    }
    return r == 'NOT_BUILT' ? 'FAILURE' : r
  }

  /** listen aborts the build on "abort <message>" or the end of stdin. */
  private void listen() {
    Thread t = new Thread({
      BufferedReader input = new BufferedReader(new InputStreamReader(System.in, 'UTF-8'))
      while (true) {
        String line = null
        try {
          line = input.readLine()
        } catch (IOException e) {
          // as the end of stdin
        }
        if (line == null) {
          abort('Aborted: jobctl stopped')
          return
        }
        if (line.startsWith('abort')) {
          abort(line.substring(5).trim() ?: 'Aborted')
        }
      }
    }, 'control')
    t.daemon = true
    t.start()
  }

  private synchronized void abort(String message) {
    if (aborted) {
      return
    }
    aborted = true
    console.line(message)
    Interrupts.interrupt(main, new Cause('ABORTED', true, message))
  }

  /** resultOf is the result a build that ends with t gets. */
  private static String resultOf(Throwable t) {
    if (Jenkins.isFlowInterrupted(t)) {
      return t.result.toString()
    }
    return t instanceof InterruptedException ? 'ABORTED' : 'FAILURE'
  }

  /** report writes how the build ended with t, as Jenkins does, with the script lines. */
  private void report(Throwable t) {
    if (Jenkins.isFlowInterrupted(t)) {
      if (t.actualInterruption) {
        return // the abort said so already
      }
      if (t.message) {
        console.line(t.message)
      }
    } else if (Jenkins.isAbort(t)) {
      console.line('ERROR: ' + t.message)
    } else {
      console.line(t.toString())
    }
    for (String f in frames(t)) {
      console.line(f)
    }
  }

  /** frames are t's stack-trace elements in the script, the first at the line its step call starts on. */
  List<String> frames(Throwable t) {
    List<String> out = []
    String step = stepOf.get(t)
    for (StackTraceElement e in t.stackTrace) {
      if (e.fileName == SCRIPT && e.lineNumber > 0) {
        int line = out.isEmpty() && step != null ? sites.start(step, e.lineNumber) : e.lineNumber
        out.add("\tat ${e.className}.${e.methodName}(${SCRIPT}:${line})".toString())
      }
    }
    return out
  }

  /** thrown returns e, an exception of step, remembering the step for the line of its call. */
  Throwable thrown(String step, Throwable e) {
    stepOf.put(e, step)
    return e
  }

  /** abortException returns a hudson.AbortException of step. */
  Throwable abortException(String step, String message) { thrown(step, Jenkins.abortException(message)) }

  private Throwable interrupted(String step) { thrown(step, Interrupts.flowInterrupted()) }

  // --- state

  synchronized String getResult() { result }

  synchronized void worsen(String r) {
    if (result == null || Results.worse(r, result)) {
      result = r
    }
  }

  private static Ctx ctx() {
    Ctx c = CTX.get()
    return c != null ? c : new Ctx(null, [], null)
  }

  private static Object within(Ctx c, Closure body) {
    Ctx saved = CTX.get()
    CTX.set(c)
    try {
      return body.call()
    } finally {
      CTX.set(saved)
    }
  }

  /** step starts a step: its [Pipeline] line, and a check that the thread was not interrupted. */
  private void step(String name) {
    console.pipeline(name)
    if (Thread.currentThread().isInterrupted()) {
      throw interrupted(name)
    }
  }

  /** block runs the body of a block step between its [Pipeline] lines. */
  private Object block(String name, String label, Ctx c, Closure body) {
    console.pipeline(label ? '{ (' + label + ')' : '{')
    try {
      return within(c ?: ctx(), body)
    } finally {
      console.pipeline('}')
      console.pipeline('// ' + name)
    }
  }

  private static String str(Object o) { o == null ? null : o.toString() }

  private static boolean bool(Object o) { o instanceof String ? Boolean.parseBoolean((String) o) : o as boolean }

  // --- env

  String envGet(String name) {
    List<Map<String, String>> overlays = ctx().overlays
    for (int i = overlays.size() - 1; i >= 0; i--) {
      if (overlays[i].containsKey(name)) {
        return overlays[i][name]
      }
    }
    String v = assigned.get(name)
    if (v != null) {
      return v
    }
    v = buildEnv.get(name)
    return v != null ? v : agentEnv.get(name)
  }

  void envSet(String name, Object value) {
    if (value == null) {
      assigned.remove(name)
    } else {
      assigned.put(name, value.toString())
    }
  }

  /** environment is every variable the current thread sees, as sh gets them. */
  Map<String, String> environment() {
    Map<String, String> all = new TreeMap<String, String>(agentEnv)
    all.putAll(buildEnv)
    synchronized (assigned) {
      all.putAll(assigned)
    }
    for (Map<String, String> o in ctx().overlays) {
      all.putAll(o)
    }
    return all
  }

  // --- basic steps

  void echo(Object message) {
    step('echo')
    console.line(String.valueOf(message))
  }

  def error(Object message) {
    step('error')
    throw abortException('error', String.valueOf(message))
  }

  void unstable(Object message) {
    step('unstable')
    worsen('UNSTABLE')
    console.line('WARNING: ' + message)
  }

  void sleep(Object time, Object unit) {
    step('sleep')
    long ms = TimeUnit.valueOf(String.valueOf(unit).toUpperCase()).toMillis((time ?: 0) as long)
    console.line('Sleeping for ' + Spans.of(ms))
    try {
      Thread.sleep(ms)
    } catch (InterruptedException e) {
      throw interrupted('sleep')
    }
  }

  def stage(Object name, Closure body) {
    step('stage')
    String n = String.valueOf(name)
    return block('stage', n, ctx().withOverlay([STAGE_NAME: n]), body)
  }

  def node(Object label, Closure body) {
    step('node')
    String l = str(label)
    console.line("Running on built-in node in ${ws}" +
        (l ? " (label '${l}' is not checked: the local master runs every node block itself)" : ''))
    Files.createDirectories(ws)
    Ctx c = ctx().withCwd(ws.toString()).withOverlay([WORKSPACE: ws.toString(), NODE_NAME: 'built-in',
        NODE_LABELS: 'built-in'])
    return block('node', null, c, body)
  }

  def withEnv(List vars, Closure body) {
    step('withEnv')
    Map<String, String> overlay = new LinkedHashMap<String, String>()
    for (Object v in vars) {
      String s = String.valueOf(v)
      int eq = s.indexOf('=')
      if (eq < 0) {
        throw thrown('withEnv', new IllegalArgumentException("withEnv: '${s}' is not of the form NAME=value"))
      }
      String name = s.substring(0, eq)
      String value = s.substring(eq + 1)
      int plus = name.indexOf('+')
      if (plus >= 0) { // PATH+EXTRA=/opt/bin prepends to PATH
        name = name.substring(0, plus)
        String old = overlay.containsKey(name) ? overlay[name] : envGet(name)
        value = old ? value + ':' + old : value
      }
      overlay[name] = value
    }
    return block('withEnv', null, ctx().withOverlay(overlay), body)
  }

  def retry(Object count, Closure body) {
    step('retry')
    int n = (count ?: 1) as int
    int attempt = 0
    try {
      while (true) {
        attempt++
        console.pipeline('{')
        try {
          return within(ctx(), body)
        } catch (Exception e) {
          if (attempt >= n || e instanceof InterruptedException && !(Jenkins.isFlowInterrupted(e) && !e.actualInterruption)) {
            throw e
          }
          console.line(errorText(e))
          console.line('Retrying')
        } finally {
          console.pipeline('}')
        }
      }
    } finally {
      console.pipeline('// retry')
    }
  }

  /** errorText is how Jenkins logs a failure that a step caught. */
  private static String errorText(Throwable t) {
    if (Jenkins.isAbort(t) || Jenkins.isFlowInterrupted(t)) {
      return 'ERROR: ' + t.message
    }
    return t.toString()
  }

  def catchError(Map args, Closure body) {
    step('catchError')
    String buildResult = args.containsKey('buildResult') ? (args.buildResult == null ? null :
        Results.parse(args.buildResult)) : 'FAILURE'
    boolean interruptions = args.containsKey('catchInterruptions') && args.catchInterruptions != null ?
        bool(args.catchInterruptions) : true
    try {
      return block('catchError', null, null, body)
    } catch (Throwable t) {
      if (!interruptions && (t instanceof InterruptedException)) {
        throw t
      }
      if (args.message) {
        console.line(String.valueOf(args.message))
      }
      console.line(errorText(t))
      if (buildResult != null) {
        worsen(buildResult)
      }
      return null
    }
  }

  def timeout(Map args, Closure body) {
    step('timeout')
    long ms = TimeUnit.valueOf(String.valueOf(args.unit ?: 'MINUTES').toUpperCase()).toMillis((args.time ?: 0) as long)
    console.line('Timeout set to expire in ' + Spans.of(ms))
    Thread me = Thread.currentThread()
    Cause cause = new Cause('ABORTED', false, 'Timeout has been exceeded')
    Object lock = new Object()
    boolean[] state = [false, false] as boolean[] // done, fired
    TimerTask task = new TimerTask() {
      void run() {
        synchronized (lock) {
          if (!state[0]) {
            state[1] = true
            console.line('Cancelling nested steps due to timeout')
            Interrupts.interrupt(me, cause)
          }
        }
      }
    }
    timers.schedule(task, ms)
    try {
      Object value = block('timeout', null, null, body)
      synchronized (lock) {
        state[0] = true
      }
      return value
    } catch (Throwable t) {
      synchronized (lock) {
        state[0] = true
      }
      if (state[1]) {
        throw thrown('timeout', Jenkins.flowInterrupted(cause))
      }
      throw t
    } finally {
      task.cancel()
      if (state[1]) {
        Interrupts.forget(cause)
      }
    }
  }

  /**
   * parallel runs the branches at the same time, each on its own thread,
   * and waits for all of them. The first failure is rethrown once every
   * branch has ended; with failFast, it interrupts the others.
   */
  def parallel(Map branches) {
    step('parallel')
    boolean failFast = bool(branches.failFast)
    Map<String, Closure> bodies = new LinkedHashMap<String, Closure>()
    branches.each { k, v ->
      if (k == 'failFast') {
        return
      }
      if (!(v instanceof Closure)) {
        throw thrown('parallel', new IllegalArgumentException("Expected a closure but found ${k}=${v}"))
      }
      bodies.put(String.valueOf(k), (Closure) v)
    }
    Ctx parent = ctx()
    Map<String, Object> values = Collections.synchronizedMap(new LinkedHashMap<String, Object>())
    bodies.keySet().each { values.put(it, null) } // the branches' order, whatever order they end in
    List<Throwable> failures = Collections.synchronizedList(new ArrayList<Throwable>())
    Map<String, Thread> threads = new LinkedHashMap<String, Thread>()
    bodies.each { String name, Closure body ->
      threads.put(name, new Thread({
        console.pipeline('{ (Branch: ' + name + ')')
        try {
          values.put(name, within(parent.withBranch(name), body))
        } catch (Throwable t) {
          failed(name, t, failures, failFast, threads)
        } finally {
          console.pipeline('}')
        }
      }, 'branch ' + name))
    }
    synchronized (threads) {
      threads.values()*.start()
    }
    try {
      for (Thread t in threads.values()) {
        t.join()
      }
    } catch (InterruptedException e) {
      Cause cause = Interrupts.take()
      synchronized (threads) {
        for (Thread t in threads.values()) {
          if (t.alive) {
            Interrupts.interrupt(t, cause)
          }
        }
      }
      joinAll(threads.values())
      console.pipeline('// parallel')
      throw thrown('parallel', Jenkins.flowInterrupted(cause))
    }
    console.pipeline('// parallel')
    if (!failures.isEmpty()) {
      throw failures[0]
    }
    return values
  }

  private void failed(String name, Throwable t, List<Throwable> failures, boolean failFast, Map<String, Thread> threads) {
    synchronized (threads) {
      boolean first = failures.isEmpty()
      failures.add(t)
      if (failFast && first) {
        console.line('Failed in branch ' + name)
        Cause cause = new Cause('ABORTED', false, 'Failed in branch ' + name)
        threads.each { String other, Thread th ->
          if (other != name && th.alive) {
            Interrupts.interrupt(th, cause)
          }
        }
      }
    }
  }

  private static void joinAll(Collection<Thread> threads) {
    for (Thread t in threads) {
      while (t.alive) {
        try {
          t.join()
        } catch (InterruptedException e) {
          // keep waiting: the branches are ending
        }
      }
    }
  }

  // --- the workspace

  /** cwd is the current directory of step, which needs a node. */
  private Path cwd(String step) {
    Ctx c = ctx()
    if (c.cwd == null) {
      throw thrown(step, (Throwable) Jenkins.missingContext.newInstance('Required context class hudson.FilePath is ' +
          'missing\nPerhaps you forgot to surround the code with a step that provides this, such as: node'))
    }
    return Paths.get(c.cwd)
  }

  /**
   * inside resolves path p of step against the current directory. A path
   * outside the workspace — absolute elsewhere, climbing out with .., or
   * through a symbolic link that leads out — is refused.
   */
  Path inside(String step, Object p) {
    Path base = cwd(step)
    String s = p == null ? '' : p.toString()
    Path target
    try {
      target = base.resolve(s).normalize()
    } catch (InvalidPathException e) {
      throw abortException(step, "${step}: '${s}' is not a valid path")
    }
    if (!target.startsWith(ws)) {
      throw abortException(step, "${step}: '${s}' is outside the workspace ${ws}")
    }
    Path existing = target
    while (existing != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
      existing = existing.parent
    }
    if (existing != null && existing.startsWith(ws)) {
      Path real
      try {
        real = existing.toRealPath()
      } catch (IOException e) {
        real = null // a dangling link
      }
      if (real == null || !real.startsWith(realWorkspace())) {
        throw abortException(step, "${step}: '${s}' leads outside the workspace ${ws} through a symbolic link")
      }
    }
    return target
  }

  private Path realWorkspace() {
    try {
      return ws.toRealPath()
    } catch (IOException e) {
      return ws
    }
  }

  /** files returns the regular files under dir (links only when they stay in the workspace), as relative paths. */
  private List<String> files(Path dir) {
    List<String> out = []
    if (!Files.isDirectory(dir)) {
      return out
    }
    Path real = realWorkspace()
    Files.walkFileTree(dir, new SimpleFileVisitor<Path>() {
      FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
        boolean ok = attrs.regularFile
        if (attrs.symbolicLink) {
          try {
            Path to = f.toRealPath()
            ok = to.startsWith(real) && Files.isRegularFile(to)
          } catch (IOException e) {
            ok = false
          }
        }
        if (ok) {
          out.add(dir.relativize(f).toString().replace(File.separator, '/'))
        }
        return FileVisitResult.CONTINUE
      }

      FileVisitResult visitFileFailed(Path f, IOException e) { FileVisitResult.CONTINUE }
    })
    return out.sort()
  }

  def dir(Object path, Closure body) {
    step('dir')
    Path d = inside('dir', path)
    console.line('Running in ' + d)
    return block('dir', null, ctx().withCwd(d.toString()), body)
  }

  void deleteDir() {
    step('deleteDir')
    Path d = cwd('deleteDir')
    if (!Files.exists(d, LinkOption.NOFOLLOW_LINKS)) {
      return
    }
    Files.walkFileTree(d, new SimpleFileVisitor<Path>() {
      FileVisitResult visitFile(Path f, BasicFileAttributes attrs) {
        Files.delete(f)
        return FileVisitResult.CONTINUE
      }

      FileVisitResult postVisitDirectory(Path f, IOException e) {
        if (e != null) {
          throw e
        }
        Files.delete(f)
        return FileVisitResult.CONTINUE
      }
    })
  }

  String pwd(boolean tmp) {
    step('pwd')
    Path d = cwd('pwd')
    return tmp ? d.toString() + '@tmp' : d.toString()
  }

  private static Charset charset(Object encoding) {
    encoding ? Charset.forName(encoding.toString()) : Charset.forName('UTF-8')
  }

  void writeFile(Map args) {
    step('writeFile')
    if (args.file == null || args.text == null) {
      throw thrown('writeFile', new IllegalArgumentException('writeFile needs file: and text:'))
    }
    Path f = inside('writeFile', args.file)
    Files.createDirectories(f.parent)
    String text = args.text.toString()
    if (str(args.encoding)?.equalsIgnoreCase('Base64')) {
      Files.write(f, text.decodeBase64())
    } else {
      Files.write(f, text.getBytes(charset(args.encoding)))
    }
  }

  String readFile(Map args) {
    step('readFile')
    Path f = inside('readFile', args.file)
    if (!Files.isRegularFile(f)) {
      throw thrown('readFile', new NoSuchFileException(f.toString()))
    }
    byte[] data = Files.readAllBytes(f)
    if (str(args.encoding)?.equalsIgnoreCase('Base64')) {
      return data.encodeBase64().toString()
    }
    return new String(data, charset(args.encoding))
  }

  boolean fileExists(Object file) {
    step('fileExists')
    return Files.exists(inside('fileExists', file))
  }

  // Jenkins returns net.sf.json objects (JSONObject, JSONArray) unless
  // returnPojo: true; this returns plain LinkedHashMaps and ArrayLists with
  // real nulls either way.
  def readJSON(Map args) {
    step('readJSON')
    if (args.file && args.text != null) {
      throw thrown('readJSON', new IllegalArgumentException('At most one of file or text must be provided to readJSON.'))
    }
    String text
    if (args.file) {
      Path f = inside('readJSON', args.file)
      if (!Files.isRegularFile(f)) {
        throw thrown('readJSON', new FileNotFoundException(f.toString() + ' does not exist.'))
      }
      text = new String(Files.readAllBytes(f), 'UTF-8')
    } else if (args.text != null) {
      text = args.text.toString()
    } else {
      throw thrown('readJSON', new IllegalArgumentException('At least one of file or text needs to be provided to readJSON.'))
    }
    try {
      return Json.parse(text)
    } catch (JsonException e) {
      throw thrown('readJSON', e)
    }
  }

  def writeJSON(Map args) {
    step('writeJSON')
    if (args.json == null) {
      throw thrown('writeJSON', new IllegalArgumentException('writeJSON: json: is required'))
    }
    int pretty = args.pretty ? args.pretty as int : 0
    String text = pretty > 0 ? Json.pretty(args.json, ' ' * pretty, '') : JsonOutput.toJson(args.json)
    if (args.returnText) {
      return text
    }
    if (!args.file) {
      throw thrown('writeJSON', new IllegalArgumentException('writeJSON needs file: or returnText: true'))
    }
    Path f = inside('writeJSON', args.file)
    Files.createDirectories(f.parent)
    Files.write(f, text.getBytes('UTF-8'))
    return null
  }

  void archiveArtifacts(Map args) {
    step('archiveArtifacts')
    if (args.artifacts == null) {
      throw thrown('archiveArtifacts', new IllegalArgumentException('archiveArtifacts needs artifacts:'))
    }
    Path base = cwd('archiveArtifacts')
    String pattern = args.artifacts.toString()
    if (bool(args.onlyIfSuccessful) && getResult() != null && getResult() != 'SUCCESS') {
      console.line('Skipped archiving because build is not successful')
      return
    }
    console.line('Archiving artifacts')
    Globs include = new Globs(pattern)
    Globs exclude = new Globs(str(args.excludes) ?: '')
    List<String> found = files(base).findAll { include.matches(it) && !exclude.matches(it) }
    if (found.isEmpty()) {
      String message = "No artifacts found that match the file pattern \"${pattern}\". Configuration error?"
      if (bool(args.allowEmptyArchive)) {
        console.line(message)
        return
      }
      throw abortException('archiveArtifacts', message)
    }
    for (String rel in found) {
      Path to = artifactsDir.resolve(rel).normalize()
      Files.createDirectories(to.parent)
      Files.copy(base.resolve(rel), to, StandardCopyOption.REPLACE_EXISTING)
    }
  }

  // --- sh

  /**
   * sh runs a shell script as Jenkins' durable-task does: the script is
   * written to a file in the workspace's @tmp folder and run by /bin/sh -xe,
   * or by the interpreter of its #! line; its output goes to a file that is
   * copied to the console as it grows (so a background process it leaves
   * behind cannot hold the step), or is returned (returnStdout).
   */
  def sh(Map args) {
    step('sh')
    if (args.script == null) {
      throw thrown('sh', new IllegalArgumentException('sh needs script:'))
    }
    String text = args.script.toString()
    boolean returnStdout = bool(args.returnStdout)
    boolean returnStatus = bool(args.returnStatus)
    Charset cs = charset(args.encoding)
    Path cwd = cwd('sh')
    Files.createDirectories(cwd)
    Path tmp = Paths.get(ws.toString() + '@tmp')
    Files.createDirectories(tmp)
    Path d = Files.createTempDirectory(tmp, 'durable-')
    try {
      Path file = d.resolve('script.sh')
      Files.write(file, text.getBytes('UTF-8'))
      List<String> command
      if (text.startsWith('#!')) { // as the kernel reads a #! line: the interpreter and one argument
        String line = (text.substring(2).readLines() ?: [''])[0].trim()
        int sp = line.indexOf(' ')
        command = sp < 0 ? [line] : [line.substring(0, sp), line.substring(sp + 1).trim()]
        command.add(file.toString())
      } else {
        command = ['/bin/sh', '-xe', file.toString()]
      }
      Path log = d.resolve('jenkins-log.txt')
      Path output = d.resolve('output.txt')
      ProcessBuilder pb = new ProcessBuilder(command)
      pb.directory(cwd.toFile())
      pb.environment().clear()
      pb.environment().putAll(environment())
      pb.redirectInput(ProcessBuilder.Redirect.from(new File('/dev/null')))
      if (returnStdout) {
        pb.redirectOutput(output.toFile())
        pb.redirectError(log.toFile())
      } else {
        pb.redirectErrorStream(true)
        pb.redirectOutput(log.toFile())
      }
      Process proc
      try {
        proc = pb.start()
      } catch (IOException e) {
        throw abortException('sh', 'sh: cannot run ' + command[0] + ': ' + e.message)
      }
      Tail tail = new Tail(log, console, cs)
      try {
        while (!proc.waitFor(100, TimeUnit.MILLISECONDS)) {
          tail.pump()
        }
      } catch (InterruptedException e) {
        kill(proc)
        tail.pump()
        tail.end()
        throw interrupted('sh')
      }
      tail.pump()
      tail.end()
      int status = proc.exitValue()
      if (returnStatus) {
        return status
      }
      if (status != 0) {
        throw abortException('sh', 'script returned exit code ' + status)
      }
      return returnStdout ? new String(Files.readAllBytes(output), cs) : null
    } finally {
      d.toFile().deleteDir()
    }
  }

  /** kill kills a process and its descendants, the descendants first. */
  private static void kill(Process proc) {
    for (int round = 0; round < 2; round++) {
      for (Object h in proc.toHandle().descendants().toArray()) {
        ((ProcessHandle) h).destroyForcibly()
      }
    }
    proc.destroyForcibly()
    try {
      proc.waitFor(5, TimeUnit.SECONDS)
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt()
    }
  }

  // --- downstream builds

  /** rest runs body, turning a failure to talk to the master into an AbortException of step. */
  private Object rest(String step, String what, Closure body) {
    try {
      return body.call()
    } catch (IOException e) {
      if (Jenkins.isAbort(e)) {
        throw e
      }
      throw abortException(step, "${what}: ${e.message}")
    }
  }

  /** parameters returns build parameters as name/text pairs. */
  private List<List<String>> parameters(Object list) {
    List<List<String>> out = []
    for (Object p in (list ?: [])) {
      if (p instanceof ParamValue && p.name != null) {
        out.add([p.name, p.text])
      } else if (p instanceof Map && p.name != null && String.valueOf(p['$class']).endsWith('ParameterValue')) {
        out.add([p.name.toString(), p.value == null ? '' : p.value.toString()])
      } else {
        throw thrown('build', new IllegalArgumentException("build: ${p} is not a parameter value " +
            "(string(name: ..., value: ...), booleanParam(...), password(...) or text(...))"))
      }
    }
    return out
  }

  private static String display(String full) { full.replace('/', ' » ') }

  private static long pollDelay(int i) { Math.min(250L, 100L + 25L * i) }

  /**
   * build triggers a job on the master and, unless wait: false, waits for
   * its build to end. See the brief in pipeline.go for the protocol.
   */
  def build(Map args) {
    step('build')
    if (args.job == null) {
      throw thrown('build', new IllegalArgumentException('build needs job:'))
    }
    String name = args.job.toString()
    boolean wait = args.containsKey('wait') ? bool(args.wait) : true
    boolean propagate = args.containsKey('propagate') ? bool(args.propagate) : true
    List<List<String>> form = parameters(args.parameters)
    Map item = (Map) rest('build', 'build ' + name) { master.item(name, folder) }
    if (item == null) {
      throw abortException('build', "No item named ${name} found")
    }
    String full = item.fullName
    console.line('Scheduling project: ' + display(full))
    String path = Master.jobPath(full) + (item.parameterized ? 'buildWithParameters' : 'build')
    Response r = (Response) rest('build', 'build ' + full) { master.post(path, item.parameterized ? form : []) }
    if (!(r.code in [200, 201, 302, 303])) {
      throw abortException('build', "Failed to schedule ${display(full)}: ${r.describe()}")
    }
    Matcher m = (r.header('Location') ?: '') =~ /\/queue\/item\/(\d+)/
    if (!m.find()) {
      throw abortException('build', "Failed to schedule ${display(full)}: the master gave no queue item " +
          "(Location: ${r.header('Location')})")
    }
    long queueId = m.group(1) as long
    if (!wait) {
      return null
    }
    int number = 0
    Map b
    try {
      number = waitQueue(full, queueId)
      console.line("Starting building: ${display(full)} #${number}")
      b = waitBuild(full, number)
    } catch (InterruptedException e) {
      Throwable stop = interrupted('build')
      stopDownstream(full, queueId, number)
      throw stop
    }
    DownstreamRun run = new DownstreamRun(full, b)
    if (propagate && run.result == 'UNSTABLE') {
      worsen('UNSTABLE')
    } else if (propagate && run.result != 'SUCCESS') {
      String message = "${full} #${number} completed with status ${run.result} (propagate: false to ignore)"
      throw thrown('build', Jenkins.flowInterrupted(new Cause(run.result, false, message)))
    }
    return run
  }

  private int waitQueue(String full, long id) throws InterruptedException {
    int i = 0
    while (true) {
      Map q = (Map) rest('build', 'build ' + full) { master.json("queue/item/${id}/api/json") }
      if (q == null) {
        throw abortException('build', "${full}: queue item ${id} is gone")
      }
      if (q.cancelled) {
        throw abortException('build', "${full} #? was cancelled")
      }
      if (q.executable instanceof Map && q.executable.number != null) {
        return q.executable.number as int
      }
      Thread.sleep(pollDelay(i++))
    }
  }

  private Map waitBuild(String full, int number) throws InterruptedException {
    int i = 0
    while (true) {
      Map b = (Map) rest('build', 'build ' + full) { master.json(Master.jobPath(full) + number + '/api/json') }
      if (b == null) {
        throw abortException('build', "${display(full)} #${number} is gone")
      }
      if (!b.building && b.result != null) {
        return b
      }
      Thread.sleep(pollDelay(i++))
    }
  }

  /** stopDownstream cancels the queue item, or stops the build, of an interrupted build step; best effort. */
  private void stopDownstream(String full, long queueId, int number) {
    try {
      if (number == 0) {
        master.post("queue/cancelItem?id=${queueId}", [])
      } else {
        console.line("Stopping ${display(full)} #${number}")
        master.post(Master.jobPath(full) + number + '/stop', [])
      }
    } catch (IOException e) {
      console.line("Could not stop ${display(full)}: ${e.message}")
    }
  }

  // --- copyArtifacts

  def copyArtifacts(Map args) {
    step('copyArtifacts')
    Object project = args.projectName
    if (project == null) {
      throw thrown('copyArtifacts', new IllegalArgumentException('copyArtifacts needs projectName:'))
    }
    String name = project.toString()
    Object selector = args.selector ?: new Selector('lastSuccessful', 'lastSuccessfulBuild')
    if (!(selector instanceof Selector)) {
      throw thrown('copyArtifacts', new IllegalArgumentException("copyArtifacts: unknown selector ${selector}: " +
          'use specific(...), lastSuccessful() or lastCompleted()'))
    }
    String filter = str(args.filter) ?: ''
    boolean optional = bool(args.optional)
    Path target = inside('copyArtifacts', str(args.target) ?: '')
    Map item = (Map) rest('copyArtifacts', 'copyArtifacts from ' + name) { master.item(name, folder) }
    if (item == null) {
      String message = "Unable to find project for artifact copy: ${name}\nThis may be due to incorrect project " +
          'name or permission settings; see help for project name in job configuration.'
      if (optional) {
        console.line(message)
        return null
      }
      throw abortException('copyArtifacts', message)
    }
    String full = item.fullName
    Selector s = (Selector) selector
    Map b = (Map) rest('copyArtifacts', 'copyArtifacts from ' + full) {
      s.path ? master.json(Master.jobPath(full) + Master.enc(s.path) + '/api/json') : null
    }
    if (b == null || b.number == null) {
      String message = 'Unable to find a build for artifact copy from: ' + name
      if (optional) {
        console.line(message)
        return null
      }
      throw abortException('copyArtifacts', message)
    }
    Globs include = new Globs(filter)
    Globs exclude = new Globs(str(args.excludes) ?: '')
    List<String> found = []
    for (Object a in (b.artifacts ?: [])) {
      String rel = a instanceof Map ? str(a.relativePath) : null
      if (rel && (include.isEmpty() || include.matches(rel)) && !exclude.matches(rel)) {
        found.add(rel)
      }
    }
    if (found.isEmpty()) {
      String message = "Failed to copy artifacts from ${name} with filter: ${filter ?: '**'}"
      if (optional) {
        console.line(message)
        return null
      }
      throw abortException('copyArtifacts', message)
    }
    Files.createDirectories(target)
    for (String rel in found) {
      String local = bool(args.flatten) ? rel.substring(rel.lastIndexOf('/') + 1) : rel
      Path to = target.resolve(local).normalize()
      if (rel.startsWith('/') || rel.split('/').any { it == '..' } || !to.startsWith(target) || to == target) {
        throw abortException('copyArtifacts', "copyArtifacts: the artifact '${rel}' of ${display(full)} " +
            "#${b.number} would land outside ${target}")
      }
      Files.createDirectories(to.parent)
      String path = Master.jobPath(full) + b.number + '/artifact/' + rel.split('/').collect { Master.enc(it) }.join('/')
      Response r = (Response) rest('copyArtifacts', 'copyArtifacts from ' + full) { master.download(path, to) }
      if (r.code != 200) {
        throw abortException('copyArtifacts', "Failed to copy ${rel} from ${display(full)} #${b.number}: ${r.describe()}")
      }
    }
    console.line("Copied ${found.size()} artifact${found.size() == 1 ? '' : 's'} from \"${display(full)}\" " +
        "build number ${b.number}")
    return null
  }
}

/** Tail copies a growing log file to the console, line by line. */
class Tail {
  private final RandomAccessFile file
  private final Console console
  private final Charset cs
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream()
  private final byte[] buf = new byte[8192]

  Tail(Path path, Console console, Charset cs) {
    if (!Files.exists(path)) {
      Files.createFile(path)
    }
    this.file = new RandomAccessFile(path.toFile(), 'r')
    this.console = console
    this.cs = cs
  }

  /** pump writes the complete lines added since the last call. */
  void pump() {
    int n
    while ((n = file.read(buf)) > 0) {
      for (int i = 0; i < n; i++) {
        if (buf[i] == (byte) 10) {
          console.line(new String(partial.toByteArray(), cs))
          partial.reset()
        } else {
          partial.write(buf[i])
        }
      }
    }
  }

  /** end writes what is left, a last line without a newline, and closes the file. */
  void end() {
    if (partial.size() > 0) {
      console.line(new String(partial.toByteArray(), cs))
      partial.reset()
    }
    file.close()
  }
}
