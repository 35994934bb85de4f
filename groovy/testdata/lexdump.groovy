// Dumps the identifier and string tokens that Groovy's own (2.x) lexer
// produces for every file in a directory, for TestLexerAgainstGroovy.
// Usage: groovy lexdump.groovy DIR OUT
import org.codehaus.groovy.antlr.parser.GroovyLexer
import org.codehaus.groovy.antlr.parser.GroovyTokenTypes

if (!GroovySystem.version.startsWith("2.")) {
    new File(args[1]).text = "UNSUPPORTED " + GroovySystem.version + "\n"
    return
}
def names = [:]
GroovyTokenTypes.declaredFields.each { f -> if (f.type == int) names[f.get(null)] = f.name }
def out = new StringBuilder()
new File(args[0]).listFiles().sort { it.name }.each { file ->
    def lexer = new GroovyLexer(new StringReader(file.getText("UTF-8")))
    def tokens = lexer.plumb()
    def lines = []
    try {
        for (def t = tokens.nextToken(); t.type != GroovyTokenTypes.EOF; t = tokens.nextToken()) {
            switch (names[t.type]) {
            case "IDENT":
            case "STRING_LITERAL":
                lines << "${t.line}:${t.column} ${names[t.type]} ${t.text.getBytes("UTF-8").encodeHex()}"
                break
            case "STRING_CTOR_START":
                lines << "${t.line}:${t.column} ${names[t.type]}"
                break
            case "STRING_CTOR_MIDDLE":
            case "STRING_CTOR_END":
                lines << names[t.type]
                break
            }
        }
    } catch (Throwable e) {
        lines = ["ERROR"]
    }
    out << "== " << file.name << "\n" << lines.join("\n") << "\n"
}
new File(args[1]).text = out.toString()
