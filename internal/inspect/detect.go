package inspect

import (
	"strings"
	"unicode/utf8"

	libinjection "github.com/corazawaf/libinjection-go"
)

// classSet is a set of attack classes found in one field.
type classSet uint8

const (
	cmdiBit classSet = 1 << iota
	pathTraversalBit
	sqliBit
	xssBit
)

// classNames lists the classes in the order findings are sorted.
var classNames = [...]struct {
	bit  classSet
	name string
}{
	{cmdiBit, ClassCmdi},
	{pathTraversalBit, ClassPathTraversal},
	{sqliBit, ClassSQLi},
	{xssBit, ClassXSS},
}

// detect returns the classes found in one field. Each detector sees the
// field as sent and, when they differ, as decoded, so an encoded payload is
// not missed and a decoding never hides one.
func detect(s string) classSet {
	switch {
	case isUUID(s):
		return 0
	case bareWord(s):
		return bareWordClasses(s)
	}
	found := detectForm(s)
	decoded := decode(s)
	if decoded != s {
		found |= detectForm(decoded)
	}
	text := unescapeText(decoded)
	if text != decoded {
		found |= detectForm(text)
	}
	if plain := plainPunctuation(text); plain != text {
		found |= detectForm(plain)
	}
	return found
}

// encodedAngle reports a '<' that arrives encoded: the field has none as
// its place delivers it, but once percent-decoded or unescaped it does
// ("%3C", "&#x3c;", "\u003c", "&lt", "+ADw-"). People and the forms they
// type into send '<' as it is, in a JSON string as in a query value (which
// arrives decoded once); spelling it any other way is how markup is
// slipped past a filter that looks for it. A field from a place that
// percent-encodes by nature (the path, a Referer, a cookie) is judged
// after one layer of that, so "?q=%3C3" in a Referer is a search for
// "<3", not an attack.
func encodedAngle(f field) bool {
	s := f.text
	if strings.IndexByte(s, '<') >= 0 || !strings.ContainsAny(s, `%&\+`) {
		return false
	}
	if f.percentEncoded && strings.IndexByte(percentDecode(s), '<') >= 0 {
		return false
	}
	if strings.Contains(s, utf7Angle) {
		return true // UTF-7, which old browsers could be made to read as HTML
	}
	return strings.IndexByte(unescapeText(decode(s)), '<') >= 0
}

// utf7Angle is '<' in UTF-7.
const utf7Angle = "+ADw-"

// typographic maps the punctuation that word processors and phone
// keyboards substitute for ASCII back to what was typed: curly quotes and
// primes to quotes, an en or em dash to the "--" it replaced. Payloads
// pasted through such a tool arrive as "' or 1=1 –"; an application that
// folds punctuation before building SQL or markup (NFKC alone does not)
// turns them back into working ones, so they are looked at in that form.
var typographic = strings.NewReplacer(
	"\u2018", "'", "\u2019", "'", "\u201a", "'", "\u201b", "'", "\u2032", "'",
	"\u201c", `"`, "\u201d", `"`, "\u201e", `"`, "\u2033", `"`,
	"\u2013", "--", "\u2014", "--",
)

// plainPunctuation returns s with typographic punctuation made ASCII, or
// s itself when it has none: all of it is encoded from the UTF-8 lead
// byte 0xE2, so text without that byte costs one scan.
func plainPunctuation(s string) string {
	if strings.IndexByte(s, 0xE2) < 0 {
		return s
	}
	return typographic.Replace(s)
}

// isUUID reports a UUID in its canonical 8-4-4-4-12 hex form, the most
// common identifier in this API. Made of hex digits and dashes only, it can
// neither leave a quoted context nor carry a keyword, a path, markup or a
// shell separator, so it is never an attack and skips the detectors.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
			continue
		}
		if !(c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f') {
			return false
		}
	}
	return true
}

// bareWord reports a run of up to 64 ASCII letters and underscores that is
// not an SQL keyword able to follow a number: most JSON keys and query
// names. libinjection reads it as one word, which no fingerprint flags;
// there is no markup, path or separator in it, so the only attack it can be
// is a bare command word. TestShortcuts and FuzzShortcuts hold the full
// detectors to that.
func bareWord(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; !(c >= 'a' && c <= 'z') && s[i] != '_' {
			return false
		}
	}
	return !continuesNumber(s)
}

// bareWordClasses is detect for a bare word.
func bareWordClasses(s string) classSet {
	if kind, ok := commands[strings.ToLower(s)]; ok && kind == onlyCommand {
		return cmdiBit
	}
	return 0
}

// detectForm runs every detector on one form of a field.
func detectForm(s string) classSet {
	var found classSet
	if sqlInjection(s) {
		found |= sqliBit
	}
	if xss(s) {
		found |= xssBit
	}
	if traversal(s) {
		found |= pathTraversalBit
	}
	if commandInjection(s) {
		found |= cmdiBit
	}
	return found
}

// sqlInjection asks libinjection about s in the contexts it tries itself
// (bare, inside single and inside double quotes) and in two more that
// application SQL puts a value in:
//
//   - right after a number, as in "WHERE id = 1" + s, where fragments such
//     as " ORDER BY 3--" or " AND 1=1" do their work without any quote.
//     Only a fragment that can continue a number gets this look: one that
//     opens with a blank, a control byte, a bracket, a quote, an operator
//     or a comment, or with a keyword that follows an operand in SQL.
//   - inside parentheses, as in "VALUES ('" + s + "', NULL)" or
//     "WHERE id IN (" + s + ")": an injection there has to close the
//     parenthesis before its own SQL can run, so what follows each of the
//     first few closing parentheses is asked about as if it followed a
//     number, e.g. "'),NULL) WAITFOR DELAY '0:0:5'--" or
//     ") UNION SELECT ...". Looking at a bounded number of them keeps the
//     cost linear in the length of s.
//
// A verdict found only through one of these contexts of our own must carry
// a token that only SQL gives meaning to (see sqlOnly): prefixing "1 "
// makes libinjection read plain punctuation as an expression ("%@" becomes
// "1 %@", a number, an operator and a variable), which is not an attack.
// libinjection's own verdicts are kept except a number followed by a
// prose dash (see proseDash).
func sqlInjection(s string) bool {
	if ok, fp := libinjection.IsSQLi(s); ok {
		return !proseDash(s, fp)
	}
	if continuesNumber(s) && sqlInContext("1 "+s) {
		return true
	}
	for i, n := 0, 0; n < maxParenContexts; n++ {
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			break
		}
		i += j + 1
		if rest := s[i:]; continuesNumber(rest) && sqlInContext("1 "+rest) {
			return true
		}
	}
	return false
}

// maxParenContexts bounds how many closing parentheses sqlInjection looks
// behind: nesting deeper than this is not how a value sits in a query.
const maxParenContexts = 3

// sqlInContext asks libinjection about s, a value placed in a context of
// our own, and keeps the verdict only if its fingerprint holds sqlOnly.
func sqlInContext(s string) bool {
	ok, fp := libinjection.IsSQLi(s)
	return ok && strings.ContainsAny(fp, sqlOnly) && !proseDash(s, fp)
}

// sqlOnly are the libinjection fingerprint tokens that everyday text does
// not produce once a number is put before it: a logic operator ('&', AND,
// OR, &&, ||), a keyword ('k'), UNION ('U'), a statement (SELECT and the
// like, 'E'), a T-SQL word ('T', EXEC, WAITFOR), a clause ('B', GROUP BY,
// ORDER BY, LIMIT), a statement break (';'), a comment ('c') or a string
// ('s'). Numbers, operators, bare words, variables and function calls
// alone are left out: they are what punctuation and spreadsheet formulas
// ("=SUM(A1:A3)") turn into.
const sqlOnly = "&kUETB;cs"

// proseDash reports a libinjection verdict "1c", an expression of numbers
// followed by a comment and nothing else, whose comment is a double dash
// used as a dash in prose: "--", a blank, then a letter or a digit, as in
// "50% off -- today only!" or "(BR) -- 3 to 5 days". libinjection itself
// treats "--" followed by text as plain text for every other two-token
// fingerprint ("many people put '--' in plain text"); this extends that to
// "1c". A number cut short by "--", "-- -", "/*" or "#", and the MS SQL
// "sp_password" log-hiding trick, still count.
func proseDash(s, fp string) bool {
	if fp != "1c" || strings.Contains(s, "sp_password") {
		return false
	}
	i := strings.Index(s, "--")
	if i < 0 {
		return false
	}
	rest := s[i+2:]
	text := strings.TrimLeft(rest, " \t")
	if len(text) == len(rest) || text == "" {
		return false
	}
	c := text[0]
	return isASCIILetter(c) || isDigit(c) || c >= 0x80
}

func continuesNumber(s string) bool {
	if s == "" {
		return false
	}
	if s[0] < 0x20 || strings.IndexByte(" )(-+*%^|&=<>!,;#~'\"`", s[0]) >= 0 ||
		strings.HasPrefix(s, "/*") {
		return true
	}
	n := 0
	for n < len(s) && n < 10 && (s[n]|0x20 >= 'a' && s[n]|0x20 <= 'z') {
		n++
	}
	return operandFollowers[strings.ToLower(s[:n])]
}

// operandFollowers are the SQL keywords that can come right after a number.
var operandFollowers = map[string]bool{
	"or": true, "and": true, "xor": true, "not": true, "is": true,
	"in": true, "like": true, "rlike": true, "regexp": true, "between": true,
	"div": true, "mod": true, "as": true, "union": true, "order": true,
	"group": true, "having": true, "limit": true, "procedure": true,
	"into": true, "where": true, "waitfor": true, "declare": true,
}

// decode undoes up to four layers of percent-encoding (%XX and the %uXXXX
// form some servers accept) and drops NUL bytes, which truncate strings in
// C-based file and shell APIs. It never fails: an escape that does not
// decode is kept as it is.
func decode(s string) string {
	for range 4 {
		if strings.IndexByte(s, '%') < 0 {
			break
		}
		d := percentDecode(s)
		if d == s {
			break
		}
		s = d
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}

func percentDecode(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' {
			if r, n := escapeAt(s[i:]); n > 0 {
				if n == 3 {
					b.WriteByte(byte(r))
				} else {
					b.WriteRune(r)
				}
				i += n - 1
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// escapeAt decodes the escape at the start of s, which begins with '%':
// %XX (n = 3, r is the byte) or %uXXXX (n = 6). n is 0 if there is none.
func escapeAt(s string) (r rune, n int) {
	if len(s) >= 6 && (s[1] == 'u' || s[1] == 'U') {
		if v, ok := hexValue(s[2:6]); ok {
			return rune(v), 6
		}
	}
	if len(s) >= 3 {
		if v, ok := hexValue(s[1:3]); ok {
			return rune(v), 3
		}
	}
	return 0, 0
}

func hexValue(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			v = v*16 + int(c-'0')
		case c >= 'a' && c <= 'f':
			v = v*16 + int(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v*16 + int(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

// traversal reports a path that climbs out of its directory or names a
// well-known system file, in any spelling pathForm knows.
func traversal(s string) bool {
	return mayBePath(s) && climbsOrNamesFile(pathForm(s))
}

// climbsOrNamesFile reports, for a path with normalised separators, a
// segment other than the last that is made only of two or more dots ("../",
// ".../", "..;/" for Tomcat's path parameters), a last segment or a whole
// value that is ".." (a trailing "..." alone is an ellipsis, not a climb),
// or a path that ends in one of systemFiles.
func climbsOrNamesFile(p string) bool {
	if strings.TrimSpace(p) == ".." || systemFile(p) {
		return true
	}
	if strings.Count(p, ".") < 2 || strings.IndexByte(p, '/') < 0 {
		return false
	}
	segs := strings.Split(p, "/")
	for n, seg := range segs {
		seg = strings.TrimRight(strings.TrimSpace(seg), ";")
		if n == len(segs)-1 {
			return seg == ".."
		}
		if len(seg) >= 2 && strings.Trim(seg, ".") == "" {
			return true
		}
	}
	return false
}

// mayBePath reports whether s holds a dot or a separator in any of the
// spellings pathForm knows; without one it can be neither a climb nor a
// path to a file.
func mayBePath(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '.' || c == '/' || c == '\\' || c >= 0x80 ||
			(c == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X')) {
			return true
		}
	}
	return false
}

// systemFiles are files that a file inclusion reads to prove it works or
// to steal secrets. They count only as the end of a path, after a '/'.
var systemFiles = []string{
	"/etc/passwd", "/etc/shadow", "/etc/group", "/etc/hosts",
	"/etc/issue", "/proc/self/environ", "/proc/self/cmdline",
	"/boot.ini", "/win.ini", "/system.ini", "/windows/repair/sam",
	"/windows/repair/system", "/winnt/repair/sam", "/winnt/repair/system",
	"/system32/cmd.exe", "/.htaccess", "/.htpasswd", "/web.config",
	"/global.asa", "/.env", "/.git/config",
}

// systemFile reports a path that ends in one of systemFiles, ignoring
// trailing blanks, ';', quotes and a separator (what is left of the shell
// or SQL quoting around an argument, as in "'/etc/shadow'"). A value that is
// only the name of a web server's secret dotfile (".htaccess", ".env") is
// the file itself, relative to a web root, and counts too: the dot at its
// start keeps it apart from words.
func systemFile(p string) bool {
	p = strings.ToLower(strings.TrimRight(p, " \t;'\"`/"))
	if strings.IndexByte(p, '/') < 0 {
		if !strings.HasPrefix(p, ".") {
			return false
		}
	}
	p = "/" + p
	for _, f := range systemFiles {
		if strings.HasSuffix(p, f) {
			return true
		}
	}
	return false
}

// pathForm maps every spelling of a dot or a path separator that some file
// API or server accepts to '.' or '/': backslash, overlong UTF-8 (0xC0 0xAE
// and friends), full-width and look-alike slashes, the private-use code
// points that best-fit mapping on old IIS turns into slashes, and the
// literal hex "0x2e", "0x2f" and "0x5c".
func pathForm(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if c, n := hexLiteral(s[i:]); n > 0 {
			b.WriteByte(c)
			i += n
			continue
		}
		if c, ok := overlong(s[i:]); ok {
			b.WriteByte(c)
			i += 2
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch r {
		case '\\', '\uff0f', '\uff3c', '\u2215', '\u2216', '\uefc8', '\uf025':
			b.WriteByte('/')
		case '\uff0e':
			b.WriteByte('.')
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// hexLiteral decodes "0x2e", "0x2f" and "0x5c" at the start of s.
func hexLiteral(s string) (byte, int) {
	if len(s) < 4 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') {
		return 0, 0
	}
	switch strings.ToLower(s[2:4]) {
	case "2e":
		return '.', 4
	case "2f", "5c":
		return '/', 4
	}
	return 0, 0
}

// overlong decodes the two-byte overlong and malformed spellings of '.',
// '/' and '\' that lenient UTF-8 decoders (old IIS, some Java) accept.
func overlong(s string) (byte, bool) {
	if len(s) < 2 || (s[0] != 0xC0 && s[0] != 0xC1) {
		return 0, false
	}
	switch s[0:2] {
	case "\xC0\xAE", "\xC0\x2E":
		return '.', true
	case "\xC0\xAF", "\xC0\x2F", "\xC1\x9C", "\xC0\x5C":
		return '/', true
	}
	return 0, false
}
