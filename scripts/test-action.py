#!/usr/bin/env python3
"""Checks the GitHub Action without GitHub: action.yml's inputs are all used and documented,
its outputs all written, and the scripts behind it (scripts/action-install.sh,
action-run.sh, authprobe-docker.sh) do what docs/github-action.md says, run with a fake
authprobe and a fake docker that record their arguments. The real binary against the lab is
tests/cli.rs's action_script_writes_outputs_and_summary.

    python3 scripts/test-action.py        (needs PyYAML; jq for the annotation test)
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ACTION = yaml.safe_load(open(os.path.join(ROOT, "action.yml")))
DOC = open(os.path.join(ROOT, "docs", "github-action.md")).read()
SCRIPTS = {n: open(os.path.join(ROOT, "scripts", n)).read()
           for n in ("action-install.sh", "action-run.sh", "authprobe-docker.sh")}

results = []


def test(fn):
    try:
        fn()
        results.append((fn.__name__, None))
        print(f"ok   {fn.__name__}")
    except Exception as e:  # noqa: BLE001 - report every failure, then go on
        results.append((fn.__name__, e))
        print(f"FAIL {fn.__name__}: {e}")
    return fn


def steps():
    return ACTION["runs"]["steps"]


def step(step_id):
    return next(s for s in steps() if s.get("id") == step_id)


# --- action.yml against itself, the scripts and the docs -----------------------------------

@test
def every_input_is_used_by_a_step():
    text = yaml.safe_dump(ACTION["runs"])
    unused = [i for i in ACTION["inputs"] if f"inputs.{i}" not in text]
    assert not unused, f"inputs no step uses: {unused}"


@test
def every_input_env_is_read_by_its_script():
    for sid, script in (("install", "action-install.sh"), ("scan", "action-run.sh")):
        env = step(sid).get("env", {})
        for name, value in env.items():
            if name.startswith("INPUT_"):
                assert name in SCRIPTS[script], f"{sid} passes {name}, {script} never reads it"
                want = "inputs." + name[len("INPUT_"):].lower().replace("_", "-")
                assert want in value, f"{name} is {value}, expected {want}"
        read = set(re.findall(r"\bINPUT_[A-Z_]+", SCRIPTS[script]))
        missing = read - set(env)
        assert not missing, f"{script} reads {missing}, which action.yml does not pass"


@test
def every_input_and_output_is_documented():
    missing = [f"input {i}" for i in ACTION["inputs"] if f"`{i}`" not in DOC]
    missing += [f"output {o}" for o in ACTION["outputs"] if f"`{o}`" not in DOC]
    assert not missing, f"not in docs/github-action.md: {missing}"
    for name, spec in {**ACTION["inputs"], **ACTION["outputs"]}.items():
        assert spec.get("description"), f"{name} has no description"


@test
def every_output_is_written_by_its_step():
    written = {
        "install": set(re.findall(r'echo "([a-z-]+)=', SCRIPTS["action-install.sh"])),
        "scan": set(re.findall(r'echo "([a-z-]+)=', SCRIPTS["action-run.sh"])),
    }
    ids = {s.get("id") for s in steps()}
    for name, spec in ACTION["outputs"].items():
        m = re.fullmatch(r"\$\{\{ steps\.([a-z-]+)\.outputs\.([a-z-]+) \}\}", spec["value"])
        assert m, f"output {name}: {spec['value']}"
        sid, out = m.groups()
        assert sid in ids, f"output {name} reads step {sid}, which does not exist"
        assert out in written.get(sid, set()), f"step {sid} never writes {out}"


@test
def step_conditions_read_outputs_that_exist():
    text = yaml.safe_dump(ACTION["runs"])
    written = set(re.findall(r'echo "([a-z-]+)=', SCRIPTS["action-install.sh"] + SCRIPTS["action-run.sh"]))
    written.add("key")
    for sid, out in re.findall(r"steps\.([a-z-]+)\.outputs\.([a-z-]+)", text):
        assert out in written, f"steps.{sid}.outputs.{out} is never written"


# --- the scripts, with a fake authprobe and a fake docker -----------------------------------

FAKE_AUTHPROBE = r"""#!/usr/bin/env bash
if [[ "$1" == "--version" ]]; then echo "authprobe 0.0.0-fake"; exit 0; fi
if [[ "$1 $2" == "scan --help" ]]; then
  echo "Usage: authprobe scan [OPTIONS] <URL>"
  [[ -n "${FAKE_SPEC:-}" ]] && echo "      --spec <FILE>"
  exit 0
fi
printf '%s\0' "$@" >"$FAKE_ARGS"
env >"$FAKE_ENV"
prev=""
for a in "$@"; do
  if [[ "$prev" == "-o" ]]; then
    case "$a" in
      *.json) cat >"$a" <<'JSON'
{
  "schema_version": 1,
  "target": "https://api.example.com/v1/me",
  "score": 71,
  "grade": "C",
  "findings": [
    {"id": "jwt.alg_none", "title": "alg none, accepted", "severity": "critical"},
    {"id": "tls.hsts_missing", "title": "No HSTS", "severity": "low"}
  ]
}
JSON
      ;;
      *.md) echo "## authprobe: Score 71/100" >"$a" ;;
      *) echo "report" >"$a" ;;
    esac
  fi
  prev="$a"
done
exit "${FAKE_EXIT:-0}"
"""

FAKE_DOCKER = r"""#!/usr/bin/env bash
printf '%s\0' "$@" >>"$FAKE_DOCKER_LOG"
printf '\n' >>"$FAKE_DOCKER_LOG"
if [[ "$1" == "pull" ]]; then exit "${FAKE_PULL_EXIT:-0}"; fi
exit 0
"""


class Sandbox:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="authprobe-action-test.")
        self.bin = os.path.join(self.dir, "authprobe")
        self.docker = os.path.join(self.dir, "docker")
        for path, body in ((self.bin, FAKE_AUTHPROBE), (self.docker, FAKE_DOCKER)):
            with open(path, "w") as f:
                f.write(body)
            os.chmod(path, 0o755)
        self.runner_temp = os.path.join(self.dir, "runner")
        os.mkdir(self.runner_temp)

    def path(self, name):
        return os.path.join(self.dir, name)

    def env(self, **kw):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("INPUT_", "GITHUB_", "AUTHPROBE_"))}
        env.update({
            "AUTHPROBE_BIN": self.bin,
            "FAKE_ARGS": self.path("args"),
            "FAKE_ENV": self.path("env"),
            "FAKE_DOCKER_LOG": self.path("docker.log"),
            "GITHUB_OUTPUT": self.path("github_output"),
            "GITHUB_STEP_SUMMARY": self.path("summary"),
            "RUNNER_TEMP": self.runner_temp,
        })
        env.update(kw)
        return env

    def run(self, script, **kw):
        return subprocess.run(["bash", os.path.join(ROOT, "scripts", script)],
                              env=self.env(**kw), capture_output=True, text=True,
                              cwd=self.dir, timeout=60)

    def args(self):
        return open(self.path("args")).read().split("\0")[:-1]

    def outputs(self):
        return dict(line.split("=", 1) for line in open(self.path("github_output")).read().splitlines())

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def after(args, flag):
    return [args[i + 1] for i, a in enumerate(args[:-1]) if a == flag]


@test
def inputs_become_arguments():
    sb = Sandbox()
    try:
        pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
        r = sb.run("action-run.sh",
                   INPUT_URL="https://api.example.com/v1/me?x=1",
                   INPUT_BEARER="tok-en-secret",
                   INPUT_HEADERS="X-Team: blue team\n\nX-Api-Key: k3y-with-length\r\n",
                   INPUT_SERVER_CA=pem,
                   INPUT_CHECKS="jwt, tls.hsts_missing\nmtls",
                   INPUT_EXTRA_ARGS="  -H\n  X-Trace: a b c  \n--origin\nhttps://origin.internal/v1/me\n",
                   INPUT_FAIL_ON="high")
        assert r.returncode == 0, r.stderr
        args = sb.args()
        assert args[:2] == ["scan", "https://api.example.com/v1/me?x=1"], args
        assert after(args, "-H") == ["X-Team: blue team", "X-Api-Key: k3y-with-length", "X-Trace: a b c"], args
        assert after(args, "--checks") == ["jwt,tls.hsts_missing,mtls"], args
        assert after(args, "--origin") == ["https://origin.internal/v1/me"], args
        assert after(args, "--fail-on") == ["high"], args
        # The token is in the environment and masked, never an argument.
        assert not any("tok-en-secret" in a for a in args), args
        assert "AUTHPROBE_BEARER=tok-en-secret" in open(sb.path("env")).read()
        assert "::add-mask::tok-en-secret" in r.stdout
        assert "::add-mask::k3y-with-length" in r.stdout
        assert "::add-mask::blue team" in r.stdout
        # The CA went to a temp file, removed after the scan with the other secrets.
        ca = after(args, "--server-ca")[0]
        assert ca.startswith(sb.runner_temp) and not os.path.exists(ca), ca
        out = sb.outputs()
        assert out["sarif-category"] == "authprobe/api.example.com/v1/me", out
        for key in ("score", "grade", "findings", "sarif", "json", "html", "markdown", "junit"):
            assert key in out, (key, out)
        assert (out["score"], out["grade"], out["findings"]) == ("71", "C", "2"), out
        assert os.path.exists(out["markdown"]) and os.path.exists(out["junit"]), out
        assert "Score 71/100" in open(sb.path("summary")).read()
    finally:
        sb.close()


@test
def a_single_extra_args_line_is_split_on_whitespace():
    sb = Sandbox()
    try:
        r = sb.run("action-run.sh", INPUT_URL="https://h/", INPUT_EXTRA_ARGS="--origin https://o/p --checks jwt\n",
                   INPUT_SERVER_CA="certs/ca.pem", INPUT_SARIF_CATEGORY="staging")
        assert r.returncode == 0, r.stderr
        args = sb.args()
        assert after(args, "--origin") == ["https://o/p"] and after(args, "--checks") == ["jwt"], args
        assert after(args, "--server-ca") == ["certs/ca.pem"], args
        assert sb.outputs()["sarif-category"] == "staging"
    finally:
        sb.close()


@test
def annotations_one_per_finding():
    if not shutil.which("jq"):
        print("     (no jq here: the script says it skips annotations)")
        return
    sb = Sandbox()
    try:
        r = sb.run("action-run.sh", INPUT_URL="https://api.example.com/v1/me", FAKE_EXIT="1")
        assert r.returncode == 1, r.stderr
        lines = [l for l in r.stdout.splitlines() if l.startswith(("::error", "::warning", "::notice"))]
        assert lines == [
            "::error title=authprobe jwt.alg_none (critical)::alg none, accepted at https://api.example.com/v1/me",
            "::notice title=authprobe tls.hsts_missing (low)::No HSTS at https://api.example.com/v1/me",
        ], lines
        # A gate that failed keeps its exit status, after the outputs are written.
        assert sb.outputs()["grade"] == "C"
        r = sb.run("action-run.sh", INPUT_URL="https://h/", INPUT_ANNOTATIONS="false")
        assert "::error" not in r.stdout, r.stdout
    finally:
        sb.close()


@test
def spec_needs_an_authprobe_that_has_it():
    sb = Sandbox()
    try:
        r = sb.run("action-run.sh", INPUT_URL="https://h/", INPUT_SPEC="openapi.yaml")
        assert r.returncode == 2, (r.returncode, r.stderr)
        assert "needs an authprobe whose scan has --spec" in r.stderr and "0.0.0-fake" in r.stderr, r.stderr
        r = sb.run("action-run.sh", INPUT_URL="https://h/", INPUT_SPEC="openapi.yaml", FAKE_SPEC="1")
        assert r.returncode == 0, r.stderr
        assert after(sb.args(), "--spec") == ["openapi.yaml"]
    finally:
        sb.close()


@test
def install_pulls_the_image_of_the_action_version():
    sb = Sandbox()
    try:
        action_path = os.path.join(sb.dir, "_work", "_actions", "Some-Org", "authprobe", "v0.1.0")
        os.makedirs(action_path)
        shutil.copy(os.path.join(ROOT, "Cargo.toml"), action_path)
        version = re.search(r'\[workspace\.package\]\s*\nversion = "([^"]+)"', open(os.path.join(ROOT, "Cargo.toml")).read()).group(1)
        r = sb.run("action-install.sh", GITHUB_ACTION_PATH=action_path, AUTHPROBE_DOCKER=sb.docker,
                   RUNNER_OS="Linux", GITHUB_REPOSITORY_OWNER="someone-else")
        assert r.returncode == 0, r.stderr
        out = sb.outputs()
        assert out["mode"] == "image", out
        assert out["image"] == f"ghcr.io/some-org/authprobe:{version}", out
        assert out["bin"] == os.path.join(action_path, "scripts", "authprobe-docker.sh"), out
        assert f"pull\0--quiet\0ghcr.io/some-org/authprobe:{version}\0" in open(sb.path("docker.log")).read()

        os.remove(sb.path("github_output"))
        r = sb.run("action-install.sh", GITHUB_ACTION_PATH=action_path, AUTHPROBE_DOCKER=sb.docker,
                   INPUT_VERSION="v9.9.9", INPUT_IMAGE="registry.example/me/ap", FAKE_PULL_EXIT="1")
        out = sb.outputs()
        assert (out["mode"], out["image"], out["bin"]) == ("source", "", "authprobe"), out
        assert "could not pull registry.example/me/ap:9.9.9" in r.stdout, r.stdout

        os.remove(sb.path("github_output"))
        r = sb.run("action-install.sh", GITHUB_ACTION_PATH=action_path, AUTHPROBE_DOCKER=sb.docker,
                   INPUT_VERSION="source")
        assert sb.outputs()["mode"] == "source"
    finally:
        sb.close()


@test
def the_docker_wrapper_keeps_paths_and_secrets():
    sb = Sandbox()
    try:
        out_dir = os.path.join(sb.dir, "elsewhere", "reports")
        os.makedirs(os.path.dirname(out_dir))
        workspace = os.path.join(sb.dir, "ws")
        os.mkdir(workspace)
        r = subprocess.run(
            ["bash", os.path.join(ROOT, "scripts", "authprobe-docker.sh"), "scan", "https://h/",
             "-o", os.path.join(out_dir, "r.json"), f"--wordlist={workspace}/words.txt", "-H", "X: y"],
            env=sb.env(AUTHPROBE_IMAGE="ghcr.io/o/authprobe:1.2.3", AUTHPROBE_DOCKER=sb.docker,
                       AUTHPROBE_BEARER="s3cret", RUST_LOG="debug", GITHUB_WORKSPACE=workspace),
            capture_output=True, text=True, cwd=workspace, timeout=60)
        assert r.returncode == 0, r.stderr
        argv = open(sb.path("docker.log")).read().split("\0")[:-1]
        i = argv.index("ghcr.io/o/authprobe:1.2.3")
        opts, rest = argv[:i], argv[i + 1:]
        assert rest == ["scan", "https://h/", "-o", os.path.join(out_dir, "r.json"),
                        f"--wordlist={workspace}/words.txt", "-H", "X: y"], rest
        assert opts[:4] == ["run", "--rm", "--network", "host"], opts
        assert after(opts, "--user") == [f"{os.getuid()}:{os.getgid()}"], opts
        assert after(opts, "-w") == [workspace], opts
        mounts = after(opts, "-v")
        # The workspace (once, though it is also the working directory), the runner's temp
        # directory and the nearest existing directory of the output path.
        assert mounts == [f"{workspace}:{workspace}", f"{sb.runner_temp}:{sb.runner_temp}",
                          f"{sb.dir}/elsewhere:{sb.dir}/elsewhere"], mounts
        envs = after(opts, "-e")
        assert "AUTHPROBE_BEARER" in envs and "RUST_LOG" in envs, envs
        assert not any("s3cret" in a for a in argv), argv
        assert "AUTHPROBE_IMAGE" not in envs and "AUTHPROBE_BIN" not in envs, envs
    finally:
        sb.close()


failed = [n for n, e in results if e]
print(f"{len(results) - len(failed)} passed, {len(failed)} failed")
sys.exit(1 if failed else 0)
