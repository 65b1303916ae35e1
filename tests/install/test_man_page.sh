#!/usr/bin/env bash
# test_man_page.sh MAN_PAGE: the manual page (docs/polypsf.1.in, as configured) names every
# command and every option `polypsf --help` prints, so that the two cannot drift apart; and
# man renders it without warnings when man-db is installed.
set -euo pipefail
page="${1:?usage: test_man_page.sh MAN_PAGE}"
exe="${POLYPSF_EXE:?set POLYPSF_EXE to the program}"

help="$("$exe" --help)"
missing=""
for command in run plan info export render; do
  grep -q "^\.SY \"polypsf $command\"" "$page" || missing+=" $command"
done
# roff writes each '-' of an option as '\-'.
for option in $(grep -oE -- '(^|[ [])-(-[a-z][a-z-]*|[a-z])\b' <<<"$help" | tr -d ' [' | sort -u); do
  grep -qF -- "${option//-/\\-}" "$page" || missing+=" $option"
done
[[ -z "$missing" ]] || { echo "FAIL: $page lacks what --help names:$missing"; exit 1; }
echo "PASS: $page names the 5 commands and every option of polypsf --help"

if command -v man >/dev/null 2>&1; then
  warnings="$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)"
  [[ -z "$warnings" ]] || { echo "FAIL: man warns about $page:"; echo "$warnings"; exit 1; }
  echo "PASS: man -l renders it without warnings"
fi
