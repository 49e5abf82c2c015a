#!/usr/bin/env python3
"""Check the Kubernetes manifests keep the properties we rely on.

    k8s_policy.py MANIFESTS.yaml SECRET_EXAMPLE.yaml

MANIFESTS.yaml is the rendered kustomization (`kubectl kustomize
deploy/k8s`) or the manifests concatenated. Every pod runs as non-root
with a read-only root filesystem, no privilege escalation, every
capability dropped, no service-account token and memory limits; secrets
come only from Secret references; the API Deployment has two replicas,
both probes and a grace period of at least 30 s. Every value of the
example Secret is a placeholder. Exits 1 listing each violation.
"""

import sys

import yaml

SECRET_ENV = {"DATABASE_URL", "REDIS_URL", "RAMPART_JWT_KEYS",
              "RAMPART_PII_KEYS", "RAMPART_BLIND_INDEX_KEY",
              "RAMPART_HMAC_KEY"}


def pod_problems(kind, name, spec):
    where = f"{kind}/{name}"
    out = []
    pod = spec["template"]["spec"]
    if not pod.get("securityContext", {}).get("runAsNonRoot"):
        out.append(f"{where}: pod securityContext.runAsNonRoot is not true")
    if pod.get("automountServiceAccountToken") is not False:
        out.append(f"{where}: automountServiceAccountToken is not false")
    for c in pod.get("initContainers", []) + pod["containers"]:
        out += container_problems(f"{where} container {c['name']}", c)
    return out


def container_problems(where, c):
    out = []
    sc = c.get("securityContext", {})
    if sc.get("readOnlyRootFilesystem") is not True:
        out.append(f"{where}: readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        out.append(f"{where}: allowPrivilegeEscalation is not false")
    if "ALL" not in sc.get("capabilities", {}).get("drop", []):
        out.append(f"{where}: capabilities do not drop ALL")
    res = c.get("resources", {})
    if not res.get("requests") or not res.get("limits", {}).get("memory"):
        out.append(f"{where}: no resource requests or memory limit")
    for env in c.get("env", []):
        if env["name"] in SECRET_ENV and "secretKeyRef" not in env.get("valueFrom", {}):
            out.append(f"{where}: {env['name']} does not come from a Secret")
    return out


def deployment_problems(name, spec):
    where = f"Deployment/{name}"
    out = []
    pod = spec["template"]["spec"]
    if spec.get("replicas", 1) < 2:
        out.append(f"{where}: fewer than 2 replicas")
    if pod.get("terminationGracePeriodSeconds", 30) < 30:
        out.append(f"{where}: terminationGracePeriodSeconds below 30")
    for c in pod["containers"]:
        for probe in ("livenessProbe", "readinessProbe"):
            if probe not in c:
                out.append(f"{where} container {c['name']}: no {probe}")
    return out


def secret_problems(path):
    out = []
    with open(path) as f:
        for doc in yaml.safe_load_all(f):
            if not doc or doc.get("kind") != "Secret":
                continue
            name = doc["metadata"]["name"]
            if doc.get("data"):
                out.append(f"{path}: Secret/{name} has base64 data; use "
                           "stringData placeholders")
            for key, value in (doc.get("stringData") or {}).items():
                if "REPLACE-ME" not in str(value):
                    out.append(f"{path}: Secret/{name} {key} is not a "
                               "REPLACE-ME placeholder")
    return out


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    problems = []
    kinds = set()
    with open(argv[0]) as f:
        for doc in yaml.safe_load_all(f):
            if not doc:
                continue
            kind, name = doc["kind"], doc["metadata"]["name"]
            kinds.add(kind)
            if kind in ("Deployment", "Job"):
                problems += pod_problems(kind, name, doc["spec"])
            if kind == "Deployment":
                problems += deployment_problems(name, doc["spec"])
    for want in ("Deployment", "Job", "Service", "HorizontalPodAutoscaler",
                 "PodDisruptionBudget", "NetworkPolicy"):
        if want not in kinds:
            problems.append(f"{argv[0]}: no {want}")
    problems += secret_problems(argv[1])

    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        return 1
    print(f"k8s policy: {len(kinds)} kinds checked, no violation")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
