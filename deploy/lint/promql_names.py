#!/usr/bin/env python3
"""Check that every PromQL expression of the dashboard and the alert rules
uses only metric names the service exports.

    promql_names.py NAMES_FILE DASHBOARD_JSON RULES_YAML...

NAMES_FILE lists the allowed names (deploy/metric-names.txt); go_* and
process_* (the Go and process collectors) and `up` are allowed too. Exits 1
naming each expression that uses anything else, or when an input holds no
expression at all (a sign the format changed under this script).
"""

import json
import re
import sys

import yaml

BUILTIN = {"up"}
BUILTIN_PREFIXES = ("go_", "process_")

# PromQL words that look like identifiers but are no metric.
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
    "group_right", "offset", "bool", "inf", "nan", "atan2", "start", "end",
}

STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
MATCHERS = re.compile(r"\{[^{}]*\}")
RANGE = re.compile(r"\[[^\[\]]*\]")
LABEL_LIST = re.compile(
    r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")
IDENT = re.compile(r"(?<![\w:.$])([A-Za-z_:][\w:]*)(\s*\()?")


def metric_names(expr):
    """Return the metric names an expression selects."""
    s = STRING.sub('""', expr)
    s = MATCHERS.sub("", s)
    s = RANGE.sub("", s)
    s = LABEL_LIST.sub("", s)
    names = set()
    for m in IDENT.finditer(s):
        word, call = m.group(1), m.group(2)
        if call or word.lower() in KEYWORDS:
            continue
        names.add(word)
    # A selector written as {__name__="..."} names its metric in a matcher.
    for m in re.finditer(r'__name__\s*=\s*"([^"]+)"', expr):
        names.add(m.group(1))
    return names


def allowed(name, names):
    return name in names or name in BUILTIN or name.startswith(BUILTIN_PREFIXES)


def dashboard_exprs(path):
    with open(path) as f:
        board = json.load(f)
    out = []
    for panel in board.get("panels", []):
        for target in panel.get("targets", []) or []:
            if target.get("expr"):
                out.append((f'{path}: panel "{panel.get("title")}"', target["expr"]))
    for var in board.get("templating", {}).get("list", []):
        query = var.get("query")
        if var.get("type") == "query" and isinstance(query, str):
            m = re.match(r"\s*label_values\(\s*(.*?)\s*,\s*\w+\s*\)\s*$", query)
            out.append((f'{path}: variable "{var.get("name")}"',
                        m.group(1) if m else query))
    return out


def rule_exprs(path):
    with open(path) as f:
        doc = yaml.safe_load(f)
    out = []
    for group in doc.get("groups", []):
        for rule in group.get("rules", []):
            name = rule.get("alert") or rule.get("record")
            out.append((f"{path}: {name}", rule["expr"]))
    return out


def main(argv):
    if len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(argv[0]) as f:
        names = {line.strip() for line in f
                 if line.strip() and not line.startswith("#")}

    bad = 0
    total = 0
    sources = [dashboard_exprs(argv[1])] + [rule_exprs(p) for p in argv[2:]]
    for source, exprs in zip(argv[1:], sources):
        if not exprs:
            print(f"{source}: no expressions found", file=sys.stderr)
            bad += 1
        for where, expr in exprs:
            total += 1
            used = metric_names(expr)
            unknown = sorted(n for n in used if not allowed(n, names))
            if not used:
                print(f"{where}: selects no metric: {expr}", file=sys.stderr)
                bad += 1
            elif unknown:
                print(f"{where}: unknown metric {', '.join(unknown)}",
                      file=sys.stderr)
                bad += 1
    if bad:
        return 1
    print(f"promql names: {total} expressions use only exported metric names")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
