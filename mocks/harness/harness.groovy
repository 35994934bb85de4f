/*
 * harness.groovy runs raw Jenkins pipeline scripts offline against a mocked
 * Jenkins step library. jobctl's Go package mocks/harness embeds it and runs
 *
 *     groovy harness.groovy in.json out.json
 *
 * in.json is {"cases": [...]} and out.json {"results": [...]}: one result per
 * case, in order (see harness.go for the fields). Every case runs in this one
 * JVM, one after the other; each distinct script text is compiled once.
 *
 * Jenkins embeds Groovy 2.4, and so must this file: no lambdas, no var, no
 * !in, no ?.[] and no other syntax newer than 2.4.
 *
 * Two kinds of failure are kept apart:
 *   - an exception of the script (error, a failed sh, a propagated downstream
 *     failure, a NullPointerException...) ends the build as it would in
 *     Jenkins: Result, Error and ErrorLine say how;
 *   - a fault is a failure of the case (a call with no mock, a step the mock
 *     library does not have, ...): Fault and FaultLine. Faults are Errors, not
 *     Exceptions, so that a script's `catch (e)` cannot swallow them.
 */
package jobctl.mocks

import groovy.json.JsonException
import groovy.json.JsonLexer
import groovy.json.JsonOutput
import groovy.json.JsonToken
import groovy.json.JsonTokenType
import java.nio.file.NoSuchFileException
import java.util.regex.Pattern
import org.codehaus.groovy.ast.ClassCodeVisitorSupport
import org.codehaus.groovy.ast.ClassNode
import org.codehaus.groovy.ast.expr.MethodCallExpression
import org.codehaus.groovy.classgen.GeneratorContext
import org.codehaus.groovy.control.CompilationFailedException
import org.codehaus.groovy.control.CompilePhase
import org.codehaus.groovy.control.CompilerConfiguration
import org.codehaus.groovy.control.MultipleCompilationErrorsException
import org.codehaus.groovy.control.SourceUnit
import org.codehaus.groovy.control.customizers.CompilationCustomizer
import org.codehaus.groovy.control.customizers.ImportCustomizer
import org.codehaus.groovy.control.messages.ExceptionMessage
import org.codehaus.groovy.control.messages.SyntaxErrorMessage

def input = Json.parse(new File(args[0]).getText('UTF-8'))
def compiler = new ScriptCompiler(this.class.classLoader)
def results = []
for (spec in input.cases) {
  results << new CaseRun(spec, compiler).run()
}
new File(args[1]).setText(JsonOutput.toJson([results: results]), 'UTF-8')

/** A failure of the case rather than of the script; see the top of the file. */
class MockFault extends Error {
  final int line

  MockFault(String message, int line) {
    super(message)
    this.line = line
  }
}

/** The script does not compile: a fault found before the case runs. */
class CompileFailure extends Exception {
  final int line

  CompileFailure(String message, int line) {
    super(message)
    this.line = line
  }
}

/**
 * ScriptCompiler compiles scripts as Jenkins does: as subclasses of the mock
 * base class, with NonCPS imported, and with the classes of Jenkins that
 * scripts commonly name (hudson.AbortException,
 * org.jenkinsci.plugins.workflow.steps.FlowInterruptedException) defined.
 */
class ScriptCompiler {
  final Class abortException
  final Class flowInterrupted
  private final GroovyClassLoader scripts
  private final StepCalls stepCalls = new StepCalls()
  private final Map<String, Object> cache = [:] // name + text -> Compiled or CompileFailure

  ScriptCompiler(ClassLoader parent) {
    GroovyClassLoader jenkins = new GroovyClassLoader(parent)
    jenkins.parseClass('''package com.cloudbees.groovy.cps
import java.lang.annotation.*
@Retention(RetentionPolicy.RUNTIME) @interface NonCPS {}
''')
    abortException = jenkins.parseClass('''package hudson
class AbortException extends IOException {
  AbortException(String message) { super(message) }
}
''')
    // The real one's result is a hudson.model.Result; here it is its name.
    flowInterrupted = jenkins.parseClass('''package org.jenkinsci.plugins.workflow.steps
class FlowInterruptedException extends InterruptedException {
  final String result
  FlowInterruptedException(String result, String message) { super(message); this.result = result }
}
''')
    CompilerConfiguration config = new CompilerConfiguration()
    config.scriptBaseClass = MockScript.name
    ImportCustomizer imports = new ImportCustomizer()
    imports.addImports('com.cloudbees.groovy.cps.NonCPS')
    config.addCompilationCustomizers(imports, stepCalls)
    scripts = new GroovyClassLoader(jenkins, config)
  }

  /**
   * compile compiles a script under name (its class and the file name of its
   * stack-trace elements), or throws CompileFailure.
   */
  Compiled compile(String name, String text) throws CompileFailure {
    String key = name + '\n' + text
    Object hit = cache[key]
    if (hit == null) {
      CallSites sites = new CallSites()
      stepCalls.sites = sites
      try {
        GroovyCodeSource source = new GroovyCodeSource(text, name, GroovyShell.DEFAULT_CODE_BASE)
        hit = new Compiled(scripts.parseClass(source, false), sites)
      } catch (CompilationFailedException e) {
        hit = failure(e)
      }
      cache[key] = hit
    }
    if (hit instanceof CompileFailure) {
      throw (CompileFailure) hit
    }
    return (Compiled) hit
  }

  private static CompileFailure failure(CompilationFailedException e) {
    if (!(e instanceof MultipleCompilationErrorsException)) {
      return new CompileFailure('the script does not compile: ' + e.message, 0)
    }
    List<String> messages = []
    int line = 0
    for (Object m in e.errorCollector.errors) {
      if (m instanceof SyntaxErrorMessage) {
        def cause = ((SyntaxErrorMessage) m).cause
        messages << cause.message
        if (line == 0) {
          line = cause.line
        }
      } else if (m instanceof ExceptionMessage) {
        messages << ((ExceptionMessage) m).cause.toString()
      } else {
        StringWriter w = new StringWriter()
        m.write(new PrintWriter(w))
        messages << w.toString().trim()
      }
    }
    return new CompileFailure('the script does not compile: ' + messages.join('; '), line)
  }
}

/**
 * StepCalls looks at every bare method call of a script (a step, or a method
 * of the script): it records the lines each spans, and it makes a bare call
 * of sleep, which Groovy gives every object, a call on the script as it is in
 * Jenkins (in a closure, Groovy would call DefaultGroovyMethods.sleep on the
 * closure itself).
 */
class StepCalls extends CompilationCustomizer {
  /** sites are the calls of the script being compiled. */
  CallSites sites

  StepCalls() { super(CompilePhase.CANONICALIZATION) }

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
 * CallSites are the lines the bare method calls of a script span. A stack
 * trace gives the line a call was on when it was made, which for a call over
 * several lines (build job: ..., parameters: [...]) is the line of its last
 * argument; Jenkins, and the mocks, give the line it starts on.
 */
class CallSites {
  private final Map<String, List<int[]>> byName = [:]

  void add(String name, int first, int last) {
    if (first > 0) {
      List<int[]> spans = byName[name] ?: (byName[name] = [])
      spans << ([first, Math.max(first, last)] as int[])
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

/** Compiled is a compiled script. */
class Compiled {
  final Class type
  final CallSites sites

  Compiled(Class type, CallSites sites) {
    this.type = type
    this.sites = sites
  }
}

/**
 * MockScript is the base class of every script: its public methods are the
 * steps and globals of the mock step library. It has no state of its own (a
 * field or getter here would be a variable of every script); the case being
 * run is CaseRun.current.
 */
abstract class MockScript extends Script {
  // --- globals

  Map getParams() { CaseRun.current.params }

  MockEnv getEnv() { CaseRun.current.env }

  MockCurrentBuild getCurrentBuild() { CaseRun.current.currentBuild }

  /** An unknown variable: Jenkins looks it up in env last, then gives up. */
  def propertyMissing(String name) {
    String value = CaseRun.current.env.get(name)
    if (value == null) {
      throw CaseRun.current.fault(null, "unknown variable '${name}'")
    }
    return value
  }

  /**
   * An unknown step, or a step called with arguments the mocks do not take:
   * faults. A method of the script itself called with the wrong arguments is
   * a MissingMethodException, as in Jenkins.
   */
  def methodMissing(String name, Object args) {
    Object[] values = (Object[]) args
    if (this.getClass().declaredMethods.any { it.name == name }) {
      throw new MissingMethodException(name, this.getClass(), values)
    }
    if (MockScript.declaredMethods.any { it.name == name }) {
      List<String> types = values.collect {
        it == null ? 'null' : it instanceof Closure ? 'Closure' : it.getClass().simpleName
      }
      throw CaseRun.current.fault(name, "${name} does not take arguments (${types.join(', ')})")
    }
    throw CaseRun.current.fault(name, "unknown step '${name}': jobctl's mock step library has no such step")
  }

  // --- output: Script's own println looks for an `out` variable

  void println() { CaseRun.current.print('\n') }

  void println(Object value) { CaseRun.current.print(String.valueOf(value) + '\n') }

  void print(Object value) { CaseRun.current.print(String.valueOf(value)) }

  void printf(String format, Object value) { CaseRun.current.print(String.format(format, value)) }

  void printf(String format, Object[] values) { CaseRun.current.print(String.format(format, values)) }

  void echo(Object message) { CaseRun.current.print(String.valueOf(message) + '\n') }

  // --- flow

  def error(Object message) { throw CaseRun.current.abort('error', String.valueOf(message)) }

  def error(Map args) { error(args.message) }

  void unstable(Object message) { CaseRun.current.unstable(String.valueOf(message)) }

  void unstable(Map args) { unstable(args.message) }

  def stage(Object name, Closure body) { CaseRun.current.stage(String.valueOf(name), body) }

  def stage(Map args, Closure body) { CaseRun.current.stage(String.valueOf(args.name), body) }

  def node(Closure body) { body.call() }

  def node(Object label, Closure body) { body.call() }

  def parallel(Map branches) { CaseRun.current.parallel(branches) }

  def retry(int count, Closure body) { CaseRun.current.retry(count, body) }

  def retry(Map args, Closure body) { CaseRun.current.retry(args.count as int, body) }

  def timeout(Object time, Closure body) { body.call() }

  def timeout(Map args, Closure body) { body.call() }

  def withEnv(List vars, Closure body) { CaseRun.current.withEnv(vars, body) }

  void sleep(long time) {}

  void sleep(Map args) {}

  boolean isUnix() { true }

  def sh(Object script) { CaseRun.current.sh([script: script]) }

  def sh(Map args) { CaseRun.current.sh(args) }

  // --- downstream builds

  def build(Object job) { CaseRun.current.build([job: job]) }

  def build(Map args) { CaseRun.current.build(args) }

  Map string(Map args) { CaseRun.parameter('StringParameterValue', args) }

  Map booleanParam(Map args) { CaseRun.parameter('BooleanParameterValue', args) }

  Map password(Map args) { CaseRun.parameter('PasswordParameterValue', args) }

  Map text(Map args) { CaseRun.parameter('TextParameterValue', args) }

  def copyArtifacts(Map args) { CaseRun.current.copyArtifacts(args) }

  BuildSelector specific(Object number) { new BuildSelector('specific', String.valueOf(number)) }

  BuildSelector specific(Map args) { specific(args.buildNumber) }

  BuildSelector lastSuccessful() { new BuildSelector('lastSuccessful', null) }

  BuildSelector lastCompleted() { new BuildSelector('lastCompleted', null) }

  // --- workspace

  def dir(Object path, Closure body) { CaseRun.current.workspace.dir(String.valueOf(path), body) }

  void deleteDir() { CaseRun.current.workspace.deleteDir() }

  void writeFile(Map args) { CaseRun.current.workspace.writeFile(args) }

  String readFile(Object file) { CaseRun.current.workspace.readFile(file) }

  String readFile(Map args) { CaseRun.current.workspace.readFile(args.file) }

  boolean fileExists(Object file) { CaseRun.current.workspace.exists(file) }

  boolean fileExists(Map args) { CaseRun.current.workspace.exists(args.file) }

  def readJSON(Map args) { CaseRun.current.workspace.readJSON(args) }

  def writeJSON(Map args) { CaseRun.current.workspace.writeJSON(args) }

  void archiveArtifacts(Object artifacts) { CaseRun.current.archive([artifacts: artifacts]) }

  void archiveArtifacts(Map args) { CaseRun.current.archive(args) }
}

/** BuildSelector is what specific(), lastSuccessful() and lastCompleted() return. */
class BuildSelector {
  final String kind
  final String number

  BuildSelector(String kind, String number) {
    this.kind = kind
    this.number = number
  }

  String toString() { number == null ? kind + '()' : kind + "('${number}')" }
}

/** Build results in Jenkins' order (hudson.model.Result.isWorseThan). */
class Results {
  static final List<String> ORDER = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED']

  /** parse reads a result as Result.fromString does: unknown names are FAILURE. */
  static String parse(Object value) {
    String name = String.valueOf(value).toUpperCase()
    return ORDER.contains(name) ? name : 'FAILURE'
  }

  static boolean worse(String a, String b) { ORDER.indexOf(a) > ORDER.indexOf(b) }
}

/** A build of a downstream job, as the mocks decided it ended. */
class BuildRecord {
  String common
  String deployed
  int number
  String status
  Map<String, String> params
  Map<String, String> artifacts = [:] // path -> content
}

/**
 * MockRun is what `build` returns, like Jenkins' RunWrapper. Anything it
 * does not have is a fault, not a MissingPropertyException: the real one may
 * well have it.
 */
class MockRun {
  int number
  String id
  String result
  String currentResult
  String fullProjectName
  String projectName
  String displayName
  String fullDisplayName
  String absoluteUrl
  Map<String, String> buildVariables
  String description
  long duration

  def propertyMissing(String name) {
    throw CaseRun.current.fault(null,
        "the result of build ${fullProjectName} has no property '${name}' in jobctl's mocks")
  }

  def propertyMissing(String name, Object value) { propertyMissing(name) }

  String toString() { fullDisplayName }
}

/** MockCurrentBuild is the currentBuild global. */
class MockCurrentBuild {
  private final CaseRun run
  String displayName
  String description

  MockCurrentBuild(CaseRun run) {
    this.run = run
    displayName = '#' + getNumber()
  }

  String getResult() { run.result }

  void setResult(Object result) { run.setResult(Results.parse(result)) }

  String getCurrentResult() { run.result ?: 'SUCCESS' }

  int getNumber() {
    String n = run.env.get('BUILD_NUMBER')
    return n != null && n.isInteger() ? n.toInteger() : 1
  }

  String getFullDisplayName() { jobName().replace('/', ' » ') + ' ' + displayName }

  String getAbsoluteUrl() {
    String url = run.env.get('BUILD_URL')
    return url ?: 'http://jenkins.invalid/job/' + jobName().split('/').join('/job/') + '/' + getNumber() + '/'
  }

  String getDurationString() { '0 ms and counting' }

  private String jobName() { run.env.get('JOB_NAME') ?: 'job' }

  def propertyMissing(String name) {
    throw CaseRun.current.fault(null, "currentBuild.${name} is not in jobctl's mocks")
  }

  def propertyMissing(String name, Object value) { propertyMissing(name) }

  def methodMissing(String name, Object args) {
    throw CaseRun.current.fault(name, "currentBuild.${name}() is not in jobctl's mocks")
  }
}

/**
 * MockEnv is the env global: variables set by the script (env.X = 'v') under
 * the overlays of the enclosing withEnv blocks, which win while they last.
 */
class MockEnv {
  private final Map<String, String> vars
  private final List<Map<String, String>> overlays = []

  MockEnv(Map<String, String> vars) { this.vars = vars }

  /** get returns a variable, or null if it is not set. */
  String get(String name) {
    for (int i = overlays.size() - 1; i >= 0; i--) {
      if (overlays[i].containsKey(name)) {
        return overlays[i][name]
      }
    }
    return vars[name]
  }

  Object getProperty(String name) { get(name) }

  void setProperty(String name, Object value) {
    if (value == null) {
      vars.remove(name)
    } else {
      vars[name] = String.valueOf(value)
    }
  }

  Object getAt(String name) { get(name) }

  void putAt(String name, Object value) { setProperty(name, value) }

  /** getEnvironment returns a copy of every variable. */
  Map<String, String> getEnvironment() {
    Map<String, String> all = new TreeMap<String, String>(vars)
    for (Map<String, String> o in overlays) {
      all.putAll(o)
    }
    return all
  }

  /** overlay runs body with vars (["K=V", "PATH+X=/bin"]) overlaid. */
  def overlay(List vars, Closure body) {
    Map<String, String> overlay = [:]
    for (Object v in vars) {
      String s = String.valueOf(v)
      int eq = s.indexOf('=')
      if (eq < 0) {
        throw CaseRun.current.thrown('withEnv',
            new IllegalArgumentException("withEnv: '${s}' is not of the form NAME=value"))
      }
      String name = s.substring(0, eq)
      String value = s.substring(eq + 1)
      int plus = name.indexOf('+')
      if (plus >= 0) { // PATH+EXTRA=/opt/bin prepends to PATH
        name = name.substring(0, plus)
        String old = overlay.containsKey(name) ? overlay[name] : get(name)
        value = old ? value + ':' + old : value
      }
      overlay[name] = value
    }
    overlays << overlay
    try {
      return body.call()
    } finally {
      overlays.remove(overlays.size() - 1)
    }
  }

  String toString() { getEnvironment().toString() }
}

/**
 * Workspace is the build's workspace, in memory: files by normalised path,
 * relative to its root (absolute paths elsewhere keep their leading /).
 */
class Workspace {
  final String root // the WORKSPACE path
  final Map<String, String> files = new TreeMap<String, String>()
  String cwd = '' // dir() blocks, relative to root

  Workspace(String root) {
    this.root = root
  }

  /** path resolves p against the current directory. */
  String path(Object p) {
    String s = String.valueOf(p).replace('\\', '/')
    boolean absolute = false
    if (s == root || s.startsWith(root + '/')) {
      s = s.substring(root.length())
    } else {
      if (!s.startsWith('/') && cwd) {
        s = cwd + '/' + s
      }
      absolute = s.startsWith('/')
    }
    List<String> parts = []
    for (String part in s.split('/')) {
      if (part == '..') {
        if (parts) {
          parts.remove(parts.size() - 1)
        }
      } else if (part && part != '.') {
        parts << part
      }
    }
    return (absolute ? '/' : '') + parts.join('/')
  }

  /** absolute returns the path a file has on the agent, for messages. */
  String absolute(String path) { path.startsWith('/') ? path : (path ? root + '/' + path : root) }

  def dir(String p, Closure body) {
    String saved = cwd
    cwd = path(p)
    try {
      return body.call()
    } finally {
      cwd = saved
    }
  }

  void deleteDir() {
    if (!cwd) {
      files.clear()
      return
    }
    files.keySet().removeAll(files.keySet().findAll { it.startsWith(cwd + '/') })
  }

  /** under returns the files under directory d, keyed by their path in d. */
  Map<String, String> under(String d) {
    Map<String, String> found = new TreeMap<String, String>()
    for (Map.Entry<String, String> f in files) {
      if (!d) {
        if (!f.key.startsWith('/')) {
          found[f.key] = f.value
        }
      } else if (f.key.startsWith(d + '/')) {
        found[f.key.substring(d.length() + 1)] = f.value
      }
    }
    return found
  }

  void writeFile(Map args) {
    if (args.file == null || args.text == null) {
      throw CaseRun.current.thrown('writeFile', new IllegalArgumentException('writeFile needs file: and text:'))
    }
    files[path(args.file)] = String.valueOf(args.text)
  }

  String readFile(Object file) {
    String p = path(file)
    if (!files.containsKey(p)) {
      throw CaseRun.current.thrown('readFile', new NoSuchFileException(absolute(p)))
    }
    return files[p]
  }

  boolean exists(Object file) {
    String p = path(file)
    return files.containsKey(p) || !under(p).isEmpty()
  }

  // Real Jenkins returns net.sf.json objects (JSONObject, JSONArray); the
  // mocks return what JsonSlurperClassic would (see Json), which most scripts
  // cannot tell apart from them.
  def readJSON(Map args) {
    if (args.file && args.text) {
      throw CaseRun.current.thrown('readJSON', new IllegalArgumentException('readJSON: give file: or text:, not both'))
    }
    String text
    if (args.file) {
      String p = path(args.file)
      if (!files.containsKey(p)) {
        throw CaseRun.current.thrown('readJSON', new FileNotFoundException(absolute(p) + ' does not exist.'))
      }
      text = files[p]
    } else {
      text = args.text
    }
    try {
      return Json.parse(String.valueOf(text))
    } catch (JsonException e) {
      throw CaseRun.current.thrown('readJSON', e)
    }
  }

  def writeJSON(Map args) {
    if (args.json == null) {
      throw CaseRun.current.thrown('writeJSON', new IllegalArgumentException('writeJSON: json: is required'))
    }
    int pretty = args.pretty ? args.pretty as int : 0
    String text = pretty > 0 ? prettyJson(args.json, ' ' * pretty, '') : JsonOutput.toJson(args.json)
    if (args.returnText) {
      return text
    }
    if (!args.file) {
      throw CaseRun.current.thrown('writeJSON',
          new IllegalArgumentException('writeJSON needs file: or returnText: true'))
    }
    files[path(args.file)] = text
    return null
  }

  /** prettyJson formats v as JSON, indented by indent per level, as net.sf.json's toString(indent) does. */
  private static String prettyJson(Object v, String indent, String pad) {
    String inner = pad + indent
    if (v instanceof Map) {
      if (v.isEmpty()) {
        return '{}'
      }
      List<String> members = v.collect { k, x ->
        inner + JsonOutput.toJson(String.valueOf(k)) + ': ' + prettyJson(x, indent, inner)
      }
      return '{\n' + members.join(',\n') + '\n' + pad + '}'
    }
    if (v instanceof Collection || v instanceof Object[]) {
      List items = v as List
      if (items.isEmpty()) {
        return '[]'
      }
      return '[\n' + items.collect { inner + prettyJson(it, indent, inner) }.join(',\n') + '\n' + pad + ']'
    }
    return JsonOutput.toJson(v)
  }
}

/**
 * Json parses JSON as JsonSlurperClassic does (the same lexer, the same
 * value types: String, Integer, Long, BigInteger, BigDecimal, Boolean, null)
 * but into LinkedHashMaps and ArrayLists, keeping the order of keys as
 * net.sf.json does: Groovy 2.4's JsonSlurperClassic makes HashMaps.
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
          map[(String) key.value] = value(lexer, lexer.nextToken())
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
          list << value(lexer, item)
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
}

/** Globs matches paths against comma-separated Ant patterns. */
class Globs {
  private final List<Pattern> patterns = []

  Globs(String list) {
    for (String p in String.valueOf(list).split(',')) {
      if (p.trim()) {
        patterns << compile(p.trim())
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

/** CaseRun is one case: its mocks, its state and, once run, its result. */
class CaseRun {
  /** current is the case being run; steps find their state here. */
  static CaseRun current

  private final Map spec
  private final ScriptCompiler compiler
  private final String scriptName
  private final String folder
  private final Map<String, String> commonOf = [:] // deployed name -> common name
  private final Map<String, String> deployedOf = [:] // common name -> deployed name
  private final List<Map> shMocks = []
  private final ByteArrayOutputStream output = new ByteArrayOutputStream()
  private final PrintStream out = new PrintStream(output, true, 'UTF-8')

  final Map params
  final MockEnv env
  final MockCurrentBuild currentBuild
  final Workspace workspace
  String result // currentBuild.result: null until set

  private final List<String> stages = []
  private final Map<String, List<BuildRecord>> builds = [:] // common name -> its builds
  private final Map<String, Integer> used = [:] // common name -> mocked results consumed
  private final Map<String, Integer> callCount = [:] // common name -> build calls
  private final Map<String, String> archived = [:]
  private final List<Map> calls = []
  private final List<Map> shCalls = []
  private MockFault firstFault
  private CallSites sites
  // an exception a step threw -> the line of the call
  private final Map<Throwable, Integer> thrownAt = new IdentityHashMap<Throwable, Integer>()

  CaseRun(Map spec, ScriptCompiler compiler) {
    this.spec = spec
    this.compiler = compiler
    scriptName = spec.scriptName ?: 'WorkflowScript'
    folder = spec.folder ?: ''
    (spec.jobs ?: [:]).each { String deployed, String common ->
      commonOf[deployed] = common
      deployedOf[common] = deployed
    }
    params = Collections.unmodifiableMap(new LinkedHashMap(spec.params ?: [:]))
    Map<String, String> vars = [:]
    (spec.env ?: [:]).each { k, v -> vars[k] = String.valueOf(v) }
    if (!vars.containsKey('WORKSPACE')) {
      vars.WORKSPACE = '/workspace'
    }
    env = new MockEnv(vars)
    workspace = new Workspace(vars.WORKSPACE)
    currentBuild = new MockCurrentBuild(this)
  }

  /** run runs the case and returns its result, as out.json has it. */
  Map run() {
    Throwable ended = null
    PrintStream stdout = System.out
    current = this
    System.setOut(out)
    try {
      compileShMocks()
      Compiled compiled = compiler.compile(scriptName, spec.script ?: '')
      if (!Script.isAssignableFrom(compiled.type)) {
        throw new CompileFailure('the script has no statements: it only defines ' + compiled.type.name, 0)
      }
      sites = compiled.sites
      Script script = (Script) compiled.type.newInstance()
      script.binding = new Binding()
      script.run()
    } catch (CompileFailure e) {
      firstFault = new MockFault(e.message, e.line)
    } catch (Throwable t) {
      ended = t
    } finally {
      System.setOut(stdout)
      current = null
    }
    return outcome(ended)
  }

  private Map outcome(Throwable ended) {
    String status = result ?: 'SUCCESS'
    String error = ''
    int errorLine = 0
    if (ended != null && !(ended instanceof MockFault)) {
      error = abortException(ended) ? ended.message : ended.toString()
      errorLine = thrownAt.containsKey(ended) ? thrownAt[ended] : lineOf(ended, null)
      String ends = 'FAILURE'
      if (compiler.flowInterrupted.isInstance(ended) && ended.result != 'NOT_BUILT') {
        ends = ended.result
      }
      if (Results.worse(ends, status)) {
        status = ends
      }
    }
    if (firstFault != null) {
      status = 'FAILURE'
    }
    Map report = null
    if (archived.containsKey('report.json')) {
      Object parsed
      try {
        parsed = Json.parse(archived['report.json'])
      } catch (JsonException e) {
        parsed = e
      }
      if (parsed instanceof Map) {
        report = (Map) parsed
      } else if (firstFault == null) {
        String why = parsed instanceof JsonException ? parsed.message : 'it is ' + JsonOutput.toJson(parsed)
        firstFault = new MockFault('the archived report.json is not a JSON object: ' + why, 0)
        status = 'FAILURE'
      }
    }
    out.flush()
    List<String> log = new String(output.toByteArray(), 'UTF-8').readLines()
    return [
      id: spec.id,
      result: status,
      error: error,
      errorLine: errorLine,
      fault: firstFault == null ? '' : firstFault.message,
      faultLine: firstFault == null ? 0 : firstFault.line,
      report: report,
      calls: calls,
      sh: shCalls,
      log: log,
    ]
  }

  private boolean abortException(Throwable t) {
    compiler.abortException.isInstance(t) || compiler.flowInterrupted.isInstance(t)
  }

  // --- lines and faults

  /**
   * lineOf returns the script line t came from, 0 if unknown: the line of the
   * first stack-trace element of the script or, for a call of step, the line
   * that call starts on.
   */
  int lineOf(Throwable t, String step) {
    for (StackTraceElement e in t.stackTrace) {
      if (e.fileName == scriptName && e.lineNumber > 0) {
        return step == null || sites == null ? e.lineNumber : sites.start(step, e.lineNumber)
      }
    }
    return 0
  }

  /** here returns the script line of the call of step being made. */
  int here(String step) { lineOf(new Throwable(), step) }

  /**
   * fault returns a fault of the call of step being made (null: not a step),
   * its message prefixed with the line; the first is the case's fault.
   */
  MockFault fault(String step, String message) {
    int line = here(step)
    MockFault f = new MockFault(line > 0 ? "line ${line}: ${message}" : message, line)
    if (firstFault == null) {
      firstFault = f
    }
    return f
  }

  /** thrown returns e, an exception of step, remembering the line of the call. */
  Throwable thrown(String step, Throwable e) {
    thrownAt[e] = here(step)
    return e
  }

  /** abort returns a hudson.AbortException of step. */
  Throwable abort(String step, String message) {
    thrown(step, (Throwable) compiler.abortException.newInstance(message))
  }

  // --- state

  void print(String text) { out.print(text) }

  void setResult(String r) {
    if (result == null || Results.worse(r, result)) {
      result = r
    }
  }

  void unstable(String message) {
    setResult('UNSTABLE')
    print('WARNING: ' + message + '\n')
  }

  def stage(String name, Closure body) {
    stages << name
    try {
      return body.call()
    } finally {
      stages.remove(stages.size() - 1)
    }
  }

  /** parallel runs the branches one after the other, in map order. */
  def parallel(Map branches) {
    Map values = [:]
    Exception first = null
    for (Map.Entry branch in branches) {
      if (branch.key == 'failFast') {
        continue
      }
      if (!(branch.value instanceof Closure)) {
        String message = "Expected a closure but found ${branch.key}=${branch.value}"
        throw thrown('parallel', new IllegalArgumentException(message))
      }
      try {
        values[branch.key] = ((Closure) branch.value).call()
      } catch (Exception e) {
        if (first == null) {
          first = e
        }
      }
    }
    if (first != null) {
      throw first
    }
    return values
  }

  def retry(int count, Closure body) {
    int attempt = 1
    while (true) {
      try {
        return body.call()
      } catch (Exception e) {
        if (attempt >= count) {
          throw e
        }
        attempt++
      }
    }
  }

  def withEnv(List vars, Closure body) { env.overlay(vars, body) }

  // --- sh

  private void compileShMocks() {
    (spec.sh ?: []).eachWithIndex { Map m, int i ->
      Pattern p = null
      if (m.command == null) {
        try {
          p = Pattern.compile(String.valueOf(m.regex))
        } catch (Exception e) {
          throw fault(null, "sh mock ${i + 1} has an invalid regex: ${e.message}")
        }
      }
      shMocks << [command: m.command, pattern: p, stdout: m.stdout ?: '', status: (m.status ?: 0) as int]
    }
  }

  def sh(Map args) {
    if (args.script == null) {
      throw thrown('sh', new IllegalArgumentException('sh needs script:'))
    }
    String text = String.valueOf(args.script)
    Map mock = shMocks.find { it.command != null ? it.command == text : it.pattern.matcher(text).find() }
    if (mock == null) {
      throw fault('sh', "sh has no mock for: ${text} (add an sh mock with this command or a regex)")
    }
    int status = mock.status
    shCalls << [command: text, status: status, line: here('sh')]
    if (args.returnStatus) {
      return status
    }
    if (status != 0) {
      throw abort('sh', "script returned exit code ${status}")
    }
    return args.returnStdout ? mock.stdout : null
  }

  // --- build

  /** common returns the common name of job name (deployed or common, maybe in the folder), or null. */
  private String common(String name) {
    String n = name
    if (folder && n.startsWith('/' + folder + '/')) {
      n = n.substring(folder.length() + 2)
    } else if (folder && n.startsWith(folder + '/')) {
      n = n.substring(folder.length() + 1)
    }
    if (commonOf.containsKey(n)) {
      return commonOf[n]
    }
    if (deployedOf.containsKey(n) || (spec.builds ?: [:]).containsKey(n)) {
      return n
    }
    return null
  }

  private static String fullName(String folder, String job) { folder ? folder + '/' + job : job }

  private static String baseName(String job) { job.substring(job.lastIndexOf('/') + 1) }

  def build(Map args) {
    if (args.job == null) {
      throw thrown('build', new IllegalArgumentException('build needs job:'))
    }
    String job = String.valueOf(args.job)
    String common = common(job)
    if (common == null) {
      throw fault('build', "build job '${job}': no job of the project is named ${baseName(job)}")
    }
    int call = (callCount[common] ?: 0) + 1
    callCount[common] = call
    boolean wait = args.containsKey('wait') ? args.wait as boolean : true
    boolean propagate = args.containsKey('propagate') ? args.propagate as boolean : true
    Map<String, String> params = parameters(job, args.parameters)
    Map mocks = (spec.builds ?: [:])[common]
    if (mocks == null) {
      throw fault('build',
          "build job '${job}' (call ${call} of ${common}) has no mock: add ${common} to the case's mocks")
    }
    List results = mocks.results ?: []
    Map mock
    if (mocks.every) {
      mock = results ? results[0] : null
    } else {
      int n = used[common] ?: 0
      mock = n < results.size() ? results[n] : null
      used[common] = n + 1
    }
    if (mock == null) {
      int n = results.size()
      throw fault('build', "${common} was called ${call} times but the case mocks only ${n} result${n == 1 ? '' : 's'}")
    }
    String status = mock.status
    List<BuildRecord> done = builds[common] ?: (builds[common] = [])
    BuildRecord b = new BuildRecord(common: common, deployed: deployedOf[common] ?: common,
        number: done.size() + 1, status: status, params: params)
    if (mock.report) {
      b.artifacts['report.json'] = JsonOutput.toJson([process: common, status: status, reason: mock.reason ?: '',
          data: mock.data ?: [:], log: '', duration_ms: 0, attempts: 1])
    }
    done << b
    calls << [job: common, phase: stages ? stages[-1] : '', params: params, wait: wait,
        propagate: propagate, result: status, line: here('build')]
    if (!wait) {
      return null
    }
    MockRun run = wrap(b)
    if (propagate && status == 'UNSTABLE') {
      setResult('UNSTABLE')
    } else if (propagate && status != 'SUCCESS') {
      String message = "${run.fullProjectName} #${b.number} completed with status ${status}" +
          ' (propagate: false to ignore)'
      throw thrown('build', (Throwable) compiler.flowInterrupted.newInstance(status, message))
    }
    return run
  }

  /** parameter returns a parameter value of build, like [$class: 'StringParameterValue', name: ..., value: ...]. */
  static Map parameter(String type, Map args) { ['$class': type, name: args.name, value: args.value] }

  /** parameters returns the values of build's parameters: as text, by name. */
  private Map<String, String> parameters(String job, Object list) {
    Map<String, String> values = [:]
    for (Object p in (list ?: [])) {
      if (!(p instanceof Map) || p.name == null || !String.valueOf(p['$class']).endsWith('ParameterValue')) {
        throw fault('build', "build job '${job}': jobctl's mocks do not understand the parameter ${p}")
      }
      values[String.valueOf(p.name)] = String.valueOf(p.value)
    }
    return values
  }

  private MockRun wrap(BuildRecord b) {
    String url = 'http://jenkins.invalid/job/' + (folder ? folder + '/job/' : '') + b.deployed + '/' + b.number + '/'
    new MockRun(number: b.number, id: String.valueOf(b.number), result: b.status, currentResult: b.status,
        fullProjectName: fullName(folder, b.deployed), projectName: b.deployed, displayName: '#' + b.number,
        fullDisplayName: (folder ? folder + ' » ' : '') + b.deployed + ' #' + b.number, absoluteUrl: url,
        buildVariables: b.params, description: null, duration: 0)
  }

  // --- artifacts

  def copyArtifacts(Map args) {
    if (args.projectName == null) {
      throw thrown('copyArtifacts', new IllegalArgumentException('copyArtifacts needs projectName:'))
    }
    String project = String.valueOf(args.projectName)
    String common = common(project)
    if (common == null) {
      throw fault('copyArtifacts',
          "copyArtifacts from '${project}': no job of the project is named ${baseName(project)}")
    }
    Object selector = args.selector ?: new BuildSelector('lastSuccessful', null)
    if (!(selector instanceof BuildSelector)) {
      throw fault('copyArtifacts',
          "copyArtifacts from '${project}': jobctl's mocks do not understand the selector ${selector}")
    }
    String filter = args.filter ? String.valueOf(args.filter) : ''
    boolean optional = args.optional as boolean
    BuildRecord b = select(builds[common] ?: [], (BuildSelector) selector)
    if (b == null) {
      if (optional) {
        return null
      }
      throw abort('copyArtifacts', 'Unable to find a build for artifact copy from: ' + project)
    }
    Globs globs = new Globs(filter)
    Map<String, String> found = b.artifacts.findAll { globs.isEmpty() || globs.matches(it.key) }
    if (found.isEmpty()) {
      if (optional) {
        return null
      }
      throw abort('copyArtifacts', 'Failed to copy artifacts from ' + project + ' with filter: ' + filter)
    }
    String target = args.target ? String.valueOf(args.target) : ''
    found.each { String path, String content ->
      String name = args.flatten ? path.substring(path.lastIndexOf('/') + 1) : path
      workspace.files[workspace.path(target ? target + '/' + name : name)] = content
    }
    return null
  }

  private static BuildRecord select(List<BuildRecord> done, BuildSelector s) {
    switch (s.kind) {
      case 'specific':
        return done.find { String.valueOf(it.number) == s.number }
      case 'lastSuccessful': // includes UNSTABLE builds, as Jenkins does
        return done.reverse().find { it.status == 'SUCCESS' || it.status == 'UNSTABLE' }
      default:
        return done ? done[-1] : null
    }
  }

  /** archive archives the workspace files matching args.artifacts as this build's artifacts. */
  void archive(Map args) {
    String pattern = String.valueOf(args.artifacts)
    Globs globs = new Globs(pattern)
    Globs excludes = new Globs(args.excludes ?: '')
    Map<String, String> found = workspace.under(workspace.cwd).findAll {
      globs.matches(it.key) && !excludes.matches(it.key)
    }
    if (found.isEmpty() && !args.allowEmptyArchive) {
      throw abort('archiveArtifacts',
          'No artifacts found that match the file pattern "' + pattern + '". Configuration error?')
    }
    archived.putAll(found)
  }
}
