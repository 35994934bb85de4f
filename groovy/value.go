package groovy

import (
	"bytes"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// value returns the value of a kString token, escapes decoded and line
// breaks normalised to "\n" as Groovy does. The lexer has checked the
// escapes.
func (p *parser) value(t *token) string {
	s := p.src[t.start:t.end]
	q, n := dollarSlashy, 2 // the kind and the length of the delimiters
	switch {
	case bytes.HasPrefix(s, []byte("'''")) && len(s) >= 6:
		q, n = tsqString, 3
	case bytes.HasPrefix(s, []byte(`"""`)) && len(s) >= 6:
		q, n = tdqString, 3
	case s[0] == '\'':
		q, n = sqString, 1
	case s[0] == '"':
		q, n = dqString, 1
	case s[0] == '/':
		q, n = slashy, 1
	}
	body := s[n : len(s)-n]
	special := "\\\r"
	if q == dollarSlashy {
		special = "$\\\r"
	}
	if !bytes.ContainsAny(body, special) {
		return p.str[int(t.start)+n : int(t.end)-n]
	}
	var b strings.Builder
	b.Grow(len(body))
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\r':
			b.WriteByte('\n')
			if i+1 < len(body) && body[i+1] == '\n' {
				i++
			}
		case c == '$' && q == dollarSlashy && i+1 < len(body) && (body[i+1] == '$' || body[i+1] == '/'):
			b.WriteByte(body[i+1])
			i++
		case c == '\\' && (q == slashy || q == dollarSlashy):
			switch next := at(body, i+1); {
			case next == '/' && q == slashy:
				b.WriteByte('/')
				i++
			case next == '\n':
				i++
			case next == '\r' && at(body, i+2) == '\n':
				i += 2
			default:
				b.WriteByte('\\')
			}
		case c == '\\' && q <= tdqString:
			i += unescape(&b, body, i) - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func at(s []byte, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// unescape writes the value of the escape sequence at s[i] and returns its
// length.
func unescape(b *strings.Builder, s []byte, i int) int {
	c := at(s, i+1)
	switch c {
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case '\n': // a line continuation
	case '\r':
		if at(s, i+2) == '\n' {
			return 3
		}
	case 'u':
		j := i + 2
		for at(s, j) == 'u' {
			j++
		}
		r := rune(hexValue(s[j : j+4]))
		n := j + 4 - i
		if utf16.IsSurrogate(r) {
			// A surrogate pair is written as two escapes.
			if k := i + n; at(s, k) == '\\' && at(s, k+1) == 'u' {
				m := k + 2
				for at(s, m) == 'u' {
					m++
				}
				if m+4 <= len(s) && isHexes(s[m:m+4]) {
					if pair := utf16.DecodeRune(r, rune(hexValue(s[m:m+4]))); pair != utf8.RuneError {
						b.WriteRune(pair)
						return m + 4 - i
					}
				}
			}
			r = utf8.RuneError
		}
		b.WriteRune(r)
		return n
	case '0', '1', '2', '3', '4', '5', '6', '7':
		n, max, v := 1, 3, 0
		if c >= '4' {
			max = 2
		}
		for n <= max && isOctal(at(s, i+n)) {
			v = v*8 + int(s[i+n]-'0')
			n++
		}
		b.WriteRune(rune(v))
		return n
	default: // " ' \ $
		b.WriteByte(c)
	}
	return 2
}

func hexValue(s []byte) int {
	v := 0
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a'+10)
		default:
			v = v*16 + int(c-'A'+10)
		}
	}
	return v
}

func isHexes(s []byte) bool {
	for _, c := range s {
		if !isHex(c) {
			return false
		}
	}
	return true
}
