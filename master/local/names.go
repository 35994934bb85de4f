package local

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
)

// checkName applies Jenkins.checkGoodName to a job or view name and
// returns the message Jenkins fails with, or "".
func checkName(name string) string {
	if name == "" {
		return "No name is specified"
	}
	switch strings.TrimSpace(name) {
	case ".", "..":
		return fmt.Sprintf("“%s” is not an allowed name", strings.TrimSpace(name))
	}
	for _, r := range name {
		if r < 0x20 || (0x7f <= r && r <= 0x9f) {
			return "No control code is allowed: " + printable(name)
		}
		if strings.ContainsRune(`?*/\%!@#$^&|<>[]:;`, r) {
			return fmt.Sprintf("‘%c’ is an unsafe character", r)
		}
	}
	if strings.HasSuffix(strings.TrimSpace(name), ".") {
		return "A name cannot end with ‘.’"
	}
	if strings.TrimSpace(name) == "" {
		return "No name is specified"
	}
	return ""
}

// printable replaces control characters the way Jenkins' toPrintableName
// does: as \uXXXX.
func printable(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			fmt.Fprintf(&b, "\\u%04x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// foldName is the key items are looked up by: Jenkins keeps an item
// group's items in a case-insensitive map.
func foldName(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || ('A' <= c && c <= 'Z') {
			return strings.ToLower(strings.ToUpper(s))
		}
	}
	return s
}

// escapeSegment escapes a name for a URL path the way Jenkins'
// Util.rawEncode does: everything but unreserved characters and a few
// safe ones is percent-encoded.
func escapeSegment(s string) string {
	safe := true
	for i := 0; i < len(s); i++ {
		if !urlSafe(s[i]) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return strings.ReplaceAll(url.PathEscape(s), "+", "%2B")
}

func urlSafe(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-_.~!*'(),", c) >= 0
}

// workspaceName maps a job's full name to one directory name: folders'
// slashes become %2F, which no name may contain.
func workspaceName(fullName string) string {
	return strings.ReplaceAll(fullName, "/", "%2F")
}
