package flow

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// FormatNumber writes a number as flows do everywhere, in interpolation,
// in param text and in JSON: like JavaScript's Number#toString, the
// shortest text that reads back as the same float64, in plain notation
// from 1e-6 up to 1e21 (3, 2.5, 1234567, 0.000001) and in exponent
// notation outside it (1e+21, 1.5e-7). The generated Groovy formats
// numbers the same way, so both runs pass the same text.
func FormatNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == 0:
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e-6 && abs < 1e21 {
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	s := strconv.FormatFloat(f, 'e', -1, 64)
	// Go writes e+21 and e-07; JavaScript e+21 and e-7.
	mant, exp, _ := strings.Cut(s, "e")
	sign := exp[:1]
	digits := strings.TrimLeft(exp[1:], "0")
	return mant + "e" + sign + digits
}

// JSON writes a value as canonical JSON: object keys sorted by their
// UTF-8 bytes, no insignificant space, numbers as FormatNumber, and only
// the escapes JSON needs (\" \\ \b \f \n \r \t, \u00XX for other control
// characters, and \u2028 \u2029); invalid UTF-8 becomes U+FFFD. An object
// passed to a string param travels as this text; the generated Groovy
// writes the same bytes.
func JSON(v Value) string {
	var b strings.Builder
	writeJSON(&b, normalize(v))
	return b.String()
}

func writeJSON(b *strings.Builder, v Value) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			b.WriteString("null")
			return
		}
		b.WriteString(FormatNumber(x))
	case string:
		writeJSONString(b, x)
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSON(b, normalize(x[k]))
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, it := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, normalize(it))
		}
		b.WriteByte(']')
	default:
		b.WriteString("null")
	}
}

const hexDigits = "0123456789abcdef"

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			b.WriteString(`\u`)
			b.WriteByte(hexDigits[r>>12&0xf])
			b.WriteByte(hexDigits[r>>8&0xf])
			b.WriteByte(hexDigits[r>>4&0xf])
			b.WriteByte(hexDigits[r&0xf])
		default:
			b.WriteRune(r) // utf8.RuneError for invalid bytes: U+FFFD
		}
	}
	b.WriteByte('"')
}

// ParamText is the text a value is passed to a job's param as: scalars as
// Text writes them, objects and arrays as canonical JSON (JSON).
func ParamText(v Value) string {
	switch x := normalize(v).(type) {
	case map[string]any, []any:
		return JSON(x)
	default:
		s, _ := Text(x)
		return s
	}
}
