package inspect

import (
	"fmt"
	"sort"
	"strconv"

	coreruleset "github.com/corazawaf/coraza-coreruleset/v4"
	"github.com/corazawaf/coraza/v3"
	"github.com/corazawaf/coraza/v3/types"
	"github.com/corazawaf/coraza/v3/types/variables"
)

// directives configure Coraza and CRS. Request bodies are not read by Coraza
// (the collector feeds JSON strings as arguments), response bodies never are,
// and only the request rule files of the four classes are included after the
// CRS initialisation. The argument limit is above the most fields a request
// can yield, so Coraza never drops one silently.
var directives = `
SecRuleEngine DetectionOnly
SecRequestBodyAccess Off
SecResponseBodyAccess Off
SecRxPreFilter On
SecArgumentsLimit ` + strconv.Itoa(maxFields+1) + `
SecDefaultAction "phase:1,log,pass"
SecDefaultAction "phase:2,log,pass"
SecAction "id:900000,phase:1,pass,t:none,nolog,setvar:tx.blocking_paranoia_level=1"
SecAction "id:900001,phase:1,pass,t:none,nolog,setvar:tx.detection_paranoia_level=1"
SecAction "id:900990,phase:1,pass,t:none,nolog,setvar:tx.crs_setup_version=4250"
Include @owasp_crs/REQUEST-901-INITIALIZATION.conf
Include @owasp_crs/REQUEST-930-APPLICATION-ATTACK-LFI.conf
Include @owasp_crs/REQUEST-932-APPLICATION-ATTACK-RCE.conf
Include @owasp_crs/REQUEST-933-APPLICATION-ATTACK-PHP.conf
Include @owasp_crs/REQUEST-934-APPLICATION-ATTACK-GENERIC.conf
Include @owasp_crs/REQUEST-941-APPLICATION-ATTACK-XSS.conf
Include @owasp_crs/REQUEST-942-APPLICATION-ATTACK-SQLI.conf
Include @owasp_crs/REQUEST-944-APPLICATION-ATTACK-JAVA.conf
`

// threshold is the CRS inbound anomaly threshold: one critical rule.
const threshold = 5

// engine runs the rule set over a list of fields.
type engine struct {
	waf coraza.WAF
}

func newEngine() (*engine, error) {
	cfg := coraza.NewWAFConfig().
		WithRootFS(coreruleset.FS).
		WithDirectives(directives)
	waf, err := coraza.NewWAF(cfg)
	if err != nil {
		return nil, fmt.Errorf("load core rule set: %w", err)
	}
	return &engine{waf: waf}, nil
}

// scan runs one Coraza transaction in which field n is the argument named
// by its index, and turns the matches into findings. Findings in over are
// added as they are.
func (e *engine) scan(fields []field, over []Finding) []Finding {
	if len(fields) == 0 && len(over) == 0 {
		return nil
	}
	scores := e.score(fields)

	found := over
	seen := make(map[Finding]bool, len(scores))
	for k, s := range scores {
		f := Finding{Class: k.class, Location: fields[k.field].location}
		if s >= threshold && !seen[f] {
			seen[f] = true
			found = append(found, f)
		}
	}
	sortFindings(found)
	return found
}

// scoreKey is a class within one field.
type scoreKey struct {
	field int
	class string
}

// score returns the anomaly score of each class in each field that matched.
func (e *engine) score(fields []field) map[scoreKey]int {
	tx := e.waf.NewTransaction()
	defer tx.Close()

	for n, f := range fields {
		tx.AddGetRequestArgument(strconv.Itoa(n), f.text)
	}
	tx.ProcessRequestHeaders()
	_, _ = tx.ProcessRequestBody() // no body is buffered: nothing to fail

	scores := map[scoreKey]int{}
	for _, mr := range tx.MatchedRules() {
		class := ruleClass(mr.Rule().Tags())
		if class == "" {
			continue
		}
		for _, n := range matchedFields(mr, len(fields)) {
			scores[scoreKey{n, class}] += severityScore(mr.Rule().Severity())
		}
	}
	return scores
}

// matchedFields returns the distinct fields a rule matched, so a rule counts
// once per field however many of its chain links matched there.
func matchedFields(mr types.MatchedRule, count int) []int {
	var out []int
	for _, md := range mr.MatchedDatas() {
		v := md.Variable()
		if v != variables.Args && v != variables.ArgsGet {
			continue
		}
		n, err := strconv.Atoi(md.Key())
		if err != nil || n < 0 || n >= count {
			continue
		}
		dup := false
		for _, m := range out {
			dup = dup || m == n
		}
		if !dup {
			out = append(out, n)
		}
	}
	return out
}

// ruleClass maps a CRS rule to a class by its attack tag. Rules of other
// attacks (remote file inclusion, SSRF, ...) map to "".
func ruleClass(tags []string) string {
	for _, t := range tags {
		switch t {
		case "attack-lfi":
			return ClassPathTraversal
		case "attack-rce", "attack-injection-php":
			return ClassCmdi
		case "attack-xss":
			return ClassXSS
		case "attack-sqli":
			return ClassSQLi
		}
	}
	return ""
}

// severityScore is the CRS anomaly score of a rule severity.
func severityScore(s types.RuleSeverity) int {
	switch s {
	case types.RuleSeverityEmergency, types.RuleSeverityAlert,
		types.RuleSeverityCritical:
		return 5
	case types.RuleSeverityError:
		return 4
	case types.RuleSeverityWarning:
		return 3
	case types.RuleSeverityNotice:
		return 2
	}
	return 0
}

func sortFindings(fs []Finding) {
	sort.Slice(fs, func(a, b int) bool {
		if fs[a].Location != fs[b].Location {
			return fs[a].Location < fs[b].Location
		}
		return fs[a].Class < fs[b].Class
	})
}
