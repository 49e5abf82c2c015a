package inspect

import "strings"

// commandInjection reports an OS command, or server-side code that runs
// one, smuggled into a value. libinjection has no shell grammar, so this is
// a short list of structural checks, each aimed at how an injected command
// has to look to run, not at any one payload:
//
//  1. A command word right after a shell command separator (';', '|', '&',
//     a newline or its escaped form "\n"), inside backticks or inside "$(":
//     "; cat /etc/passwd", "|id|", "`uname -a`", "&& ping -c 9 10.0.0.1".
//  2. A command word at the very start of the value, if it is a word used
//     only as a command ("whoami", "ifconfig") or if an option or a path
//     follows it ("ls -la", "cat /etc/passwd", "type C:\boot.ini").
//  3. A binary named by its absolute path: "/bin/sh", "/usr/bin/id".
//  4. The Shellshock function prefix "() {".
//  5. Server-side code: a PHP open tag, an SSI exec directive, a call of a
//     code or process execution function ("system(", "eval("), or a
//     template expression that calls one ("${sleep(5)}").
//  6. Server-side template injection (see templateInjection): a template
//     expression that calls something, does arithmetic on numbers or
//     reaches for a dunder attribute ("{{7*7}}", "{{ self.__class__ }}").
//
// Command words that are also everyday words ("cat", "echo", "type",
// "sleep") count only when what follows looks like an argument (an option,
// a path, a number, a quote, the end of the value or another separator),
// and, after '&', which everyday text uses, not at the end of the value.
func commandInjection(s string) bool {
	if len(s) < 2 {
		return false
	}
	if hasCode(s) || templateInjection(s) ||
		commandAt(s, skipFiller(s, 0), startOfValue) {
		return true
	}
	for i := 0; i < len(s); {
		if !separatorAt(s, i) {
			i++
			continue
		}
		j := skipFiller(s, i)
		if commandAt(s, j, separatorContext(s[i:j])) {
			return true
		}
		i = j // each run of separators is looked at once: linear time
	}
	return false
}

// context is where a candidate command word stands.
type context int

const (
	startOfValue context = iota
	afterSeparator
	afterAmpersand
)

// separatorAt reports a shell command separator at s[i]: ';', '|', '&', a
// line break, written out or not, a backtick or "$(".
func separatorAt(s string, i int) bool {
	switch s[i] {
	case ';', '|', '&', '\n', '\r', '`':
		return true
	case '$':
		return i+1 < len(s) && s[i+1] == '('
	}
	return escapedBreak(s[i:])
}

// separatorContext tells a run made only of single '&'s and blanks, which
// everyday text has ("Tom & Jerry"), from one with a real separator. "&&",
// the shell's AND list, is a real separator: prose does not double it.
func separatorContext(run string) context {
	if strings.Trim(run, "& \t") == "" && !strings.Contains(run, "&&") {
		return afterAmpersand
	}
	return afterSeparator
}

// skipFiller returns the index of the first byte from i on that is not a
// blank, a quote, an opening bracket, a separator or a written-out line
// break: what a shell ignores or an injection uses to close the original
// quoting.
func skipFiller(s string, i int) int {
	for i < len(s) {
		switch {
		case strings.IndexByte(" \t\n\r\"'`({;|&$", s[i]) >= 0:
			i++
		case escapedBreak(s[i:]):
			i += 2
		default:
			return i
		}
	}
	return i
}

// commandAt reports whether a command word starting at s[i], in context
// ctx, looks like a command being run.
func commandAt(s string, i int, ctx context) bool {
	word, rest := splitWord(s[i:])
	if word == "" {
		return false
	}
	if binaryPath(word) {
		return true
	}

	name := commandName(word)
	kind, ok := commands[name]
	switch {
	case !ok:
		return false
	case kind == onlyCommand:
		return true
	case ctx == startOfValue:
		return optionOrPath(rest) || subcommandNext(name, rest)
	case ctx == afterAmpersand && strings.TrimSpace(rest) == "":
		return false
	}
	return argumentLike(name, rest)
}

// splitWord splits off a leading command word: letters, digits and the
// bytes of a path or file name.
func splitWord(s string) (word, rest string) {
	n := 0
	for n < len(s) && isWordByte(s[n]) && !escapedBreak(s[n:]) {
		n++
	}
	return s[:n], s[n:]
}

// escapedBreak reports a written-out line break, "\n" or "\r", at the start
// of s.
func escapedBreak(s string) bool {
	return len(s) > 1 && s[0] == '\\' && (s[1] == 'n' || s[1] == 'r')
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' ||
		c >= '0' && c <= '9' || strings.IndexByte("_./\\:-", c) >= 0
}

// commandName is the lower-case base name of a command word, without a
// Windows ".exe".
func commandName(word string) string {
	if i := strings.LastIndexAny(word, `/\`); i >= 0 {
		word = word[i+1:]
	}
	word = strings.ToLower(word)
	return strings.TrimSuffix(word, ".exe")
}

func binaryPath(word string) bool {
	w := strings.ToLower(word)
	for _, dir := range []string{"/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/",
		"/usr/local/bin/"} {
		if strings.HasPrefix(w, dir) && len(w) > len(dir) {
			return true
		}
	}
	return false
}

// optionOrPath reports whether rest, what follows a command word, starts
// with an option ("-l", "--all", "/all" is a path) or a path ("/etc",
// "./x", "~/x", "C:\x").
func optionOrPath(rest string) bool {
	r := strings.TrimLeft(rest, " \t")
	if len(r) == len(rest) || r == "" {
		return false
	}
	switch {
	case r[0] == '-':
		return len(r) > 1 && (isWordByte(r[1]) && r[1] != '.')
	case r[0] == '/' || r[0] == '\\' || r[0] == '~':
		return true
	case strings.HasPrefix(r, "./") || strings.HasPrefix(r, `.\`):
		return true
	case r[0] == '%' || r[0] == '$':
		return variablePath(r)
	}
	return len(r) > 2 && r[1] == ':' && (r[2] == '\\' || r[2] == '/')
}

// variablePath reports a path that starts with an environment variable:
// Windows "%SYSTEMROOT%\x", Unix "$HOME/x" or "${HOME}/x".
func variablePath(r string) bool {
	var closing byte
	i := 1
	switch {
	case r[0] == '%':
		closing = '%'
	case strings.HasPrefix(r, "${"):
		closing, i = '}', 2
	}
	start := i
	for i < len(r) && (isASCIILetter(r[i]) || r[i] == '_' ||
		i > start && r[i] >= '0' && r[i] <= '9') {
		i++
	}
	if i == start {
		return false
	}
	if closing != 0 {
		if i == len(r) || r[i] != closing {
			return false
		}
		i++
	}
	return i < len(r) && (r[i] == '/' || r[i] == '\\')
}

// argumentLike reports whether rest, what follows a command word, looks
// like its arguments or the end of the command: an option, a path, a URL,
// a number, a quote, a redirection, another command (as in "which nc" or
// "sudo cat") or a Windows subcommand ("net user", "reg add").
func argumentLike(word, rest string) bool {
	r := strings.TrimLeft(rest, " \t")
	if r == "" || escapedBreak(r) || strings.IndexByte(";|&`\n\r)", r[0]) >= 0 {
		return true
	}
	if len(r) == len(rest) {
		return false // "id123" is not "id" and an argument
	}
	if optionOrPath(rest) || strings.IndexByte("0123456789\"'$%<>", r[0]) >= 0 {
		return true
	}
	next, _ := splitWord(r)
	next = strings.ToLower(next)
	_, isCommand := commands[commandName(next)]
	return isCommand || subcommands[word+" "+next] ||
		strings.HasPrefix(next, "http://") || strings.HasPrefix(next, "https://")
}

// subcommandNext reports a Windows subcommand ("net user", "reg add") after
// a blank, with a switch ("/add", "/v", "-f") among its arguments; at the
// start of a value that makes the pair a command, as an option or a path
// does for other words. Without the switch, "Net user rating: 4.5" is text.
func subcommandNext(word, rest string) bool {
	r := strings.TrimLeft(rest, " \t")
	if len(r) == len(rest) {
		return false
	}
	next, args := splitWord(r)
	return subcommands[word+" "+strings.ToLower(next)] && hasSwitch(args)
}

// hasSwitch reports a blank followed by '/' or '-' and a letter.
func hasSwitch(args string) bool {
	for i := 0; i+2 < len(args); i++ {
		if (args[i] == ' ' || args[i] == '\t') && (args[i+1] == '/' || args[i+1] == '-') &&
			isASCIILetter(args[i+2]) {
			return true
		}
	}
	return false
}

// subcommands turn an everyday word into a Windows command.
var subcommands = map[string]bool{
	"net user": true, "net localgroup": true, "net group": true,
	"net view": true, "net share": true, "net use": true,
	"reg add": true, "reg query": true, "reg delete": true, "reg save": true,
}

type commandKind int

const (
	// onlyCommand words are hardly ever anything but a command.
	onlyCommand commandKind = iota
	// alsoWord words are also everyday words or product names.
	alsoWord
)

// commands are the Unix and Windows commands that injections use to probe,
// read files, reach out or open a shell.
var commands = map[string]commandKind{
	"whoami": onlyCommand, "uname": onlyCommand, "ifconfig": onlyCommand,
	"ipconfig": onlyCommand, "netstat": onlyCommand, "nslookup": onlyCommand,
	"systeminfo": onlyCommand, "sysinfo": onlyCommand,
	"tasklist": onlyCommand, "taskkill": onlyCommand, "wmic": onlyCommand,
	"powershell": onlyCommand, "pwsh": onlyCommand, "certutil": onlyCommand,
	"bitsadmin": onlyCommand, "netsh": onlyCommand, "wget": onlyCommand,
	"ncat": onlyCommand, "netcat": onlyCommand, "chmod": onlyCommand,
	"chown": onlyCommand, "printenv": onlyCommand, "crontab": onlyCommand,
	"sudo": onlyCommand, "nohup": onlyCommand, "xxd": onlyCommand,
	"pwd": onlyCommand, "zsh": onlyCommand, "ksh": onlyCommand,
	"phpinfo": onlyCommand, "rundll32": onlyCommand, "regsvr32": onlyCommand,

	"id": alsoWord, "cat": alsoWord, "ls": alsoWord, "dir": alsoWord,
	"type": alsoWord, "echo": alsoWord, "printf": alsoWord,
	"sleep": alsoWord, "ping": alsoWord, "nc": alsoWord, "curl": alsoWord,
	"telnet": alsoWord, "ssh": alsoWord, "sh": alsoWord, "bash": alsoWord,
	"csh": alsoWord, "cmd": alsoWord, "python": alsoWord,
	"python3": alsoWord, "perl": alsoWord, "php": alsoWord, "ruby": alsoWord,
	"env": alsoWord, "which": alsoWord, "grep": alsoWord, "kill": alsoWord,
	"rm": alsoWord, "net": alsoWord, "reg": alsoWord, "ps": alsoWord,
	"hostname": alsoWord, "timeout": alsoWord, "route": alsoWord,
}

// hasCode reports server-side code that runs commands (check 5).
func hasCode(s string) bool {
	if !strings.ContainsAny(s, "<(") {
		return false // every check below needs one of them
	}
	lower := strings.ToLower(s)
	if strings.Contains(lower, "<?php") || strings.Contains(lower, "<?=") ||
		strings.Contains(lower, "<!--#exec") || shellshock(lower) {
		return true
	}
	for i := strings.IndexByte(lower, '('); i >= 0; {
		if execCall(lower[:i]) {
			return true
		}
		next := strings.IndexByte(lower[i+1:], '(')
		if next < 0 {
			break
		}
		i += next + 1
	}
	return false
}

// execCall reports whether before, the text before a '(', ends in the name
// of a code or process execution function, or in a template expression
// "${name" or "${@name".
func execCall(before string) bool {
	n := len(before)
	for n > 0 && (isIdentByte(before[n-1])) {
		n--
	}
	name := before[n:]
	if name == "" {
		return false
	}
	if execFunctions[name] {
		return true
	}
	head := strings.TrimSuffix(before[:n], "@")
	return strings.HasSuffix(head, "${")
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
}

// execFunctions run code or processes when called (PHP, and eval in most
// scripting languages).
var execFunctions = map[string]bool{
	"system": true, "exec": true, "shell_exec": true, "passthru": true,
	"popen": true, "proc_open": true, "pcntl_exec": true, "eval": true,
	"assert": true, "phpinfo": true, "phpversion": true,
	"create_function": true, "call_user_func": true,
}

// shellshock reports the function-definition prefix of CVE-2014-6271.
func shellshock(s string) bool {
	i := strings.Index(s, "()")
	for i >= 0 {
		if strings.HasPrefix(strings.TrimLeft(s[i+2:], " \t"), "{") {
			return true
		}
		next := strings.Index(s[i+2:], "()")
		if next < 0 {
			return false
		}
		i += next + 2
	}
	return false
}

// templateInjection reports server-side template injection (check 6): an
// expression between the delimiters of the common template engines, "{{ }}"
// (Jinja, Twig, Handlebars, Go), "{% %}" (Jinja, Twig and Liquid
// statements), "${ }" (JSP EL, Freemarker, Thymeleaf), "#{ }" (JSF EL,
// Ruby) and "<%= %>" (ERB, EJS), whose content does what an attacker needs
// and a template fed from user input has no use for (see templateCode). A
// merchant's own template text, "Hello {{ name }}" or
// "{% for item in items %}", is left alone. Each delimiter pass moves on
// past every expression it reads, so the check is linear in s.
func templateInjection(s string) bool {
	if !strings.ContainsAny(s, "{%") {
		return false
	}
	for _, d := range templateDelimiters {
		for rest := s; ; {
			i := strings.Index(rest, d[0])
			if i < 0 {
				break
			}
			rest = rest[i+len(d[0]):]
			j := strings.Index(rest, d[1])
			if j < 0 {
				break
			}
			if templateCode(rest[:j]) {
				return true
			}
			rest = rest[j+len(d[1]):]
		}
	}
	return false
}

// templateDelimiters are the opening and closing marks of template
// expressions.
var templateDelimiters = [...][2]string{
	{"{{", "}}"}, {"{%", "%}"}, {"${", "}"}, {"#{", "}"}, {"<%=", "%>"},
}

// templateCode reports an expression that calls something ('('), reaches a
// dunder attribute ("__class__", "__globals__", the way out of a Jinja or
// Django sandbox to the interpreter) or does arithmetic on two numbers
// ("7*7", "4+4": the probe that shows the template engine evaluates input).
func templateCode(expr string) bool {
	if strings.IndexByte(expr, '(') >= 0 || strings.Contains(expr, "__") {
		return true
	}
	for i := 0; i < len(expr); i++ {
		if !isDigit(expr[i]) {
			continue
		}
		j := i + 1
		for j < len(expr) && (isDigit(expr[j]) || expr[j] == ' ') {
			j++
		}
		if j < len(expr) && strings.IndexByte("+-*/%", expr[j]) >= 0 {
			k := j + 1
			for k < len(expr) && expr[k] == ' ' {
				k++
			}
			if k < len(expr) && isDigit(expr[k]) {
				return true
			}
		}
		i = j - 1
	}
	return false
}

func isDigit(c byte) bool {
	return c >= '0' && c <= '9'
}
