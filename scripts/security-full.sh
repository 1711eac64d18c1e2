#!/usr/bin/env bash
# `make security-full`: the nightly (N) security and reliability checks of
# docs/security.md, bounded in time and on loopback only. Results: var/security-full/.
#
#   FULL=1           long mode: 10 minutes of fuzzing per format (default 60 s)
#   SOAK_SECONDS=60  length of the 200-reader + 10-writer soak
#   API_FUZZ_EXAMPLES=500  examples per API operation for schemathesis (make test runs 25)
#   ONLY="semgrep bandit audit fuzz api-fuzz durability backup soak read burst sqlmap xss"   run a subset
#
# Every step runs even if an earlier one failed; the exit status is non-zero if any failed.
set -uo pipefail
cd "$(dirname "$0")/.."

ROOT=$PWD
OUT=${SECURITY_FULL_OUT:-$ROOT/var/security-full}
TOOLS=$ROOT/var/security-venv
PY=$ROOT/.venv/bin/python
FUZZ_SECONDS=${FUZZ_SECONDS:-$([ "${FULL:-0}" = 1 ] && echo 600 || echo 60)}
SOAK_SECONDS=${SOAK_SECONDS:-60}
SQLMAP_SECONDS=${SQLMAP_SECONDS:-600}
PORT=${SOAK_PORT:-8765}
ONLY=${ONLY:-"semgrep bandit audit fuzz api-fuzz durability backup soak read burst sqlmap xss"}
API_FUZZ_EXAMPLES=${API_FUZZ_EXAMPLES:-$([ "${FULL:-0}" = 1 ] && echo 2000 || echo 500)}
READ_SECONDS=${READ_SECONDS:-30}
mkdir -p "$OUT"
SUMMARY=$OUT/summary.txt
: >"$SUMMARY"
FAILED=()

note() { echo "$*" | tee -a "$SUMMARY"; }
wanted() { [[ " $ONLY " == *" $1 "* ]]; }
step_done() { # name exit-status
  if [ "$2" -eq 0 ]; then note "[$1] PASS"; else note "[$1] FAIL (exit $2)"; FAILED+=("$1"); fi
}

# The nightly tools (semgrep, locust, atheris, sqlmap) live in their own virtualenv, so
# their dependencies never change the project's .venv.
if [ ! -x "$TOOLS/bin/locust" ] || [ "$ROOT/requirements/security.txt" -nt "$TOOLS/.installed" ]; then
  python3 -m venv "$TOOLS"
  "$TOOLS/bin/pip" install --quiet --upgrade pip
  "$TOOLS/bin/pip" install --quiet -r requirements/security.txt && touch "$TOOLS/.installed"
fi

note "security-full $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(hostname) ($(nproc) CPUs)"

if wanted semgrep; then # H3/D3/D4: local rules only, no metrics, no registry
  "$TOOLS/bin/semgrep" scan --metrics=off --disable-version-check --error --quiet \
    --config security/semgrep --json --output "$OUT/semgrep.json" evidencepress
  status=$?
  note "semgrep: $("$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(len(d["results"]), "findings,", len(d["errors"]), "errors")' "$OUT/semgrep.json" 2>/dev/null || echo "no report")"
  step_done semgrep $status
fi

if wanted bandit; then # H1: every severity reported, high severity fails
  "$ROOT/.venv/bin/bandit" -r evidencepress -q -f json -o "$OUT/bandit.json"
  "$PY" - "$OUT/bandit.json" <<'EOF' | tee -a "$SUMMARY"
import json, sys
totals = json.load(open(sys.argv[1]))["metrics"]["_totals"]
print("bandit: high %d, medium %d, low %d (lines scanned %d)" % (
    totals["SEVERITY.HIGH"], totals["SEVERITY.MEDIUM"], totals["SEVERITY.LOW"], totals["loc"]))
EOF
  "$ROOT/.venv/bin/bandit" -r evidencepress -q -lll >/dev/null
  step_done bandit $?
fi

if wanted audit; then # H2: expected to fail closed here (no vulnerability data reachable)
  # Audits .venv (installed from the pinned requirements); -r would build a second venv.
  timeout 300 "$ROOT/.venv/bin/pip-audit" --strict --progress-spinner off \
    >"$OUT/pip-audit.txt" 2>&1
  status=$?
  note "pip-audit --strict: exit $status; $(tail -n 1 "$OUT/pip-audit.txt")"
  step_done pip-audit $status
fi

if wanted fuzz; then # E2: atheris, bounded time per format
  for fmt in medline_xml ris nbib bibtex; do
    case $fmt in
      medline_xml) seeds=tests/fixtures/medline ;;
      *) seeds=tests/fixtures/${fmt} ;;
    esac
    corpus=$OUT/corpus-$fmt
    mkdir -p "$corpus" && cp -n "$seeds"/* "$corpus"/ 2>/dev/null
    timeout $((FUZZ_SECONDS + 120)) "$TOOLS/bin/python" security/fuzz/fuzz_parsers.py "$fmt" \
      -max_total_time="$FUZZ_SECONDS" -rss_limit_mb=2048 -timeout=10 \
      -artifact_prefix="$OUT/crash-$fmt-" "$corpus" >"$OUT/fuzz-$fmt.log" 2>&1
    status=$?
    runs=$(grep -aEo 'Done [0-9]+ runs|^#[0-9]+' "$OUT/fuzz-$fmt.log" | tail -n 1 | grep -Eo '[0-9]+')
    crashes=$(find "$OUT" -maxdepth 1 -name "crash-$fmt-*" | wc -l)
    note "fuzz $fmt: ${runs:-?} inputs in ${FUZZ_SECONDS}s, crashes: $crashes"
    step_done "fuzz-$fmt" $status
  done
fi

if wanted api-fuzz; then # the evidence API against its own OpenAPI document (schemathesis)
  EVIDENCEPRESS_API_FUZZ_EXAMPLES=$API_FUZZ_EXAMPLES EVIDENCEPRESS_TEST_DB_TAG=-security-full \
    DJANGO_SETTINGS_MODULE=evidencepress.settings.test \
    "$ROOT/.venv/bin/pytest" -p no:xdist -q --create-db tests/evidence/test_api_fuzz.py \
    >"$OUT/api-fuzz.txt" 2>&1
  status=$?
  note "api fuzz ($API_FUZZ_EXAMPLES examples per operation): $(tail -n 1 "$OUT/api-fuzz.txt")"
  step_done api-fuzz $status
fi

if wanted durability; then # G2 (kill -9 of a committing writer) and E4 (kill -9 of an import)
  "$PY" security/durability.py --runs 30 | tee "$OUT/durability.json" | sed 's/^/durability: /' | tee -a "$SUMMARY"
  step_done durability "${PIPESTATUS[0]}"
  EVIDENCEPRESS_TEST_DB_TAG=-security-full DJANGO_SETTINGS_MODULE=evidencepress.settings.test \
    "$ROOT/.venv/bin/pytest" -p no:xdist -q --create-db tests/literature/test_import_kill.py \
    >"$OUT/import-kill.txt" 2>&1
  status=$?
  note "import kill -9: $(tail -n 1 "$OUT/import-kill.txt")"
  step_done import-kill $status
fi

if wanted backup; then # G3 (PR size) in pytest: backup under writers, restore drill
  EVIDENCEPRESS_TEST_DB_TAG=-security-full DJANGO_SETTINGS_MODULE=evidencepress.settings.test \
    "$ROOT/.venv/bin/pytest" -p no:xdist -q --create-db tests/security/test_backup.py \
    >"$OUT/backup-tests.txt" 2>&1
  status=$?
  note "backup/restore tests: $(tail -n 1 "$OUT/backup-tests.txt")"
  step_done backup-tests $status
fi

SERVER_PID=
stop_server() { [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null; SERVER_PID=; }
trap stop_server EXIT

start_server() { # a production-like site on 127.0.0.1:$PORT with the demo content
  SOAK_DIR=$OUT/site
  rm -rf "$SOAK_DIR" && mkdir -p "$SOAK_DIR"
  export DJANGO_SETTINGS_MODULE=${SITE_SETTINGS:-security.soak.settings}
  export DJANGO_SECRET_KEY="soak-$(head -c 32 /dev/urandom | base64 | tr -dc A-Za-z0-9)"
  export DATABASE_URL="sqlite:///$SOAK_DIR/db.sqlite3"
  export ALLOWED_HOSTS=127.0.0.1
  export EVIDENCEPRESS_VAR_DIR=$SOAK_DIR
  export SUMMARIES_ENCRYPTION_KEYS
  SUMMARIES_ENCRYPTION_KEYS=$("$PY" -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
  "$PY" manage.py migrate --noinput -v0 && "$PY" manage.py load_demo >/dev/null &&
    "$PY" manage.py collectstatic --noinput -v0 || return 1
  "$ROOT/.venv/bin/gunicorn" evidencepress.wsgi:application --bind "127.0.0.1:$PORT" \
    --workers 3 --threads 4 --timeout 60 --access-logfile "$SOAK_DIR/access.log" \
    --error-logfile "$SOAK_DIR/gunicorn.log" --capture-output &
  SERVER_PID=$!
  for _ in $(seq 60); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" && return 0; sleep 1; done
  return 1
}

if wanted soak; then # G1 + G3: 200 readers + 10 writers, backups every 10 s, restore drill
  if start_server; then
    export SOAK_ACKS=$OUT/acks.txt
    : >"$SOAK_ACKS"
    (
      for i in $(seq 1 $((SOAK_SECONDS / 10))); do
        sleep 10
        "$PY" manage.py backup --output "$OUT/site/backup-$i.sqlite3" >>"$OUT/backups.txt" 2>&1
        "$PY" - "$OUT/site/db.sqlite3" "$OUT/site/backup-$i.sqlite3" >>"$OUT/backups.txt" <<'EOF'
import sqlite3, sys
live, copy = (sqlite3.connect(p) for p in sys.argv[1:])
print("rows live-now", live.execute("select count(*) from summaries_summaryrequest").fetchone()[0],
      "in-backup", copy.execute("select count(*) from summaries_summaryrequest").fetchone()[0],
      "integrity", copy.execute("pragma integrity_check").fetchone()[0])
EOF
      done
    ) &
    BACKUPS_PID=$!
    "$TOOLS/bin/locust" -f security/soak/locustfile.py --headless -u 210 -r 50 \
      -t "${SOAK_SECONDS}s" --host "http://127.0.0.1:$PORT" --csv "$OUT/soak" \
      --only-summary >"$OUT/locust.txt" 2>&1
    wait $BACKUPS_PID
    stop_server
    "$PY" - "$OUT" <<'EOF' | tee -a "$SUMMARY"
import csv, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/soak_stats.csv")))
total = next(r for r in rows if r["Name"] == "Aggregated")
failures = list(csv.DictReader(open(f"{out}/soak_failures.csv")))
server_errors = sum(int(f["Occurrences"]) for f in failures if "50" in f["Error"][:60])
locked = open(f"{out}/site/gunicorn.log", errors="replace").read().count("database is locked")
print(f"soak: {total['Request Count']} requests, {total['Failure Count']} failures "
      f"({server_errors} 5xx), 'database is locked': {locked}, "
      f"p95 {total['95%']} ms, median {total['50%']} ms")
EOF
    "$PY" manage.py shell -c "
from evidencepress.summaries.models import SummaryRequest
acked = set(open('$OUT/acks.txt').read().split())
stored = {r.email for r in SummaryRequest.objects.all()}
print(f'soak writes: {len(acked)} acknowledged, {len(acked - stored)} lost')
" 2>>"$OUT/lost-writes.err" | tee -a "$SUMMARY"
    note "backups during soak: $(grep -c 'integrity ok' "$OUT/backups.txt") of $((SOAK_SECONDS / 10)) ok"
    latest=$(ls -1 "$OUT"/site/backup-*.sqlite3 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$latest" ]; then # restore drill into a fresh database, then serve the home page
      DATABASE_URL="sqlite:///$OUT/site/restored.sqlite3" "$PY" manage.py restore "$latest" | tee -a "$SUMMARY"
      DATABASE_URL="sqlite:///$OUT/site/restored.sqlite3" "$PY" manage.py shell -c \
        "from django.test import Client; print('restored site home page:', Client(HTTP_HOST='127.0.0.1').get('/').status_code)" | tee -a "$SUMMARY"
    fi
    step_done soak 0
  else
    note "soak: the site did not start (see $OUT/site/gunicorn.log)"
    step_done soak 1
  fi
fi

if wanted read; then # I1: public read load, wrk -t2 -c100 on an article and an archive month
  if start_server; then
    status=0
    for path in /imiquimod-for-cutaneous-angiosarcoma/imiquimod-cream-angiosarcoma/ /archive/2024/9/; do
      # Warm up first (imports, the first plot, the caches of each worker process).
      for _ in $(seq 12); do curl -fsS -o /dev/null "http://127.0.0.1:$PORT$path"; done
      line=$(wrk -t2 -c100 -d"${READ_SECONDS}s" --timeout 10s -s security/read/report.lua \
        "http://127.0.0.1:$PORT$path" 2>&1 | tail -n 1)
      echo "$path $line" >>"$OUT/read-load.txt"
      note "read $path: $line"
      # Pass: every response 2xx and no socket errors (p95 < 500 ms is informational).
      "$PY" -c 'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["requests"] and not (d["non_2xx"] or d["connect_errors"] or d["read_errors"] or d["write_errors"] or d["timeouts"]) else 1)' "$line" || status=1
    done
    stop_server
    step_done read $status
  else
    step_done read 1
  fi
fi

if wanted burst; then # I2: request-form burst against the production submission limits
  if SITE_SETTINGS=security.burst.settings start_server; then
    "$PY" security/burst/request_burst.py --port "$PORT" >"$OUT/burst.json" 2>"$OUT/burst.err"
    status=$?
    stop_server
    note "burst: $(tail -n 1 "$OUT/burst.json")$([ -s "$OUT/burst.json" ] || tail -n 1 "$OUT/burst.err")"
    step_done burst $status
  else
    step_done burst 1
  fi
fi

if wanted sqlmap; then # D3: injection on loopback only, bounded
  if start_server; then
    timeout "$SQLMAP_SECONDS" "$TOOLS/bin/sqlmap" --batch --level 3 --risk 2 --disable-coloring \
      --output-dir "$OUT/sqlmap" -u "http://127.0.0.1:$PORT/search/?q=imiquimod" \
      >"$OUT/sqlmap-search.txt" 2>&1
    status=$?
    stop_server
    if grep -q "is vulnerable\|injectable" "$OUT/sqlmap-search.txt" && ! grep -q "not injectable\|do not appear to be injectable" "$OUT/sqlmap-search.txt"; then
      note "sqlmap /search/?q=: INJECTABLE (see sqlmap-search.txt)"; step_done sqlmap 1
    else
      note "sqlmap /search/?q=: exit $status; $(grep -E 'do not appear to be injectable|not injectable' "$OUT/sqlmap-search.txt" | tail -n 1)"
      step_done sqlmap $([ $status -eq 124 ] && echo 0 || echo $status)
    fi
  else
    step_done sqlmap 1
  fi
fi

if wanted xss; then # D1: the stored-XSS corpus in chromium (Playwright), 0 dialogs
  EVIDENCEPRESS_TEST_DB_TAG=-security-full DJANGO_SETTINGS_MODULE=evidencepress.settings.test \
    "$ROOT/.venv/bin/pytest" -p no:xdist -q -s --create-db security/xss_browser.py \
    >"$OUT/xss-browser.txt" 2>&1
  status=$?
  note "xss browser: $(grep -a '^D1 browser' "$OUT/xss-browser.txt" | tail -n 1); $(tail -n 1 "$OUT/xss-browser.txt")"
  step_done xss $status
fi

note "failed steps: ${FAILED[*]:-none}"
[ ${#FAILED[@]} -eq 0 ]
