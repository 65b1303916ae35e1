#!/usr/bin/env bash
# A new user's bare machine, for real: does the README's `make run` / `make test` work on a
# Debian 12 that has nothing but git, make and ca-certificates?
#
#   sudo bash tests/fresh/bare_debian.sh [--keep] [--workdir DIR] [--rev REV] [--skip-test]
#
# What it does:
#   1. debootstraps a Debian 12 (bookworm, --variant=minbase) root in a new directory under
#      the work directory (default /var/tmp), with the host's own Debian mirror and apt
#      Acquire settings (read at run time from the host's apt configuration), and installs
#      only git, make and ca-certificates in it;
#   2. mounts /proc, /sys, /dev, /dev/pts and /dev/shm into it;
#   3. clones this checkout (HEAD, or --rev) to /root/src/polypsf with a copy of ../shared
#      beside it (/root/src/shared), the layout the README expects;
#   4. runs `make run`, then CI's `.ci/run` (which ends with `make test`), inside (chroot,
#      root, clean environment), each logged to the work directory, and prints what they said;
#   5. if the Makefile has a `deb` target: `make deb`, then, in a second pristine copy of
#      the root, `apt-get install ./polypsf_*.deb` alone and `polypsf run` / `polypsf info`
#      on a small job;
#   6. on exit (or INT/TERM) unmounts everything it mounted, checks nothing under the work
#      directory is still mounted, and deletes the roots (not the logs) unless --keep.
#
# How long (2 cores): debootstrap 1-2 min, `make run` 2-4 min (most of it installing the
# build packages), `make test` 25-40 min (both ctest passes and the sanitizer build),
# `make deb` with the package check 3 min.
# What it needs: root, ~4 GB free disk in the work directory, the Debian archive reachable
# through the host's apt configuration; debootstrap (installed with apt-get when missing).
# It is not part of `make test` or ctest.
#
# Exit status: 0 when every step passed, 1 when one failed (the summary says which),
# 77 when it cannot run here (not root, no debootstrap), 2 on a bad option.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//'
  cat <<'EOF'
Options:
  --keep          keep the roots (and their build trees) after the run
  --workdir DIR   where to make the work directory (default /var/tmp)
  --rev REV       the commit to clone (default: HEAD of this checkout)
  --skip-test     only `make run` (and `make deb`), not `make test`
  -h, --help      this text
EOF
}

keep=0 workbase=/var/tmp rev=HEAD skip_test=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keep) keep=1 ;;
    --workdir) [[ $# -ge 2 ]] || { echo "bare_debian: --workdir needs a directory" >&2; exit 2; }
               workbase="$2"; shift ;;
    --workdir=*) workbase="${1#*=}" ;;
    --rev) [[ $# -ge 2 ]] || { echo "bare_debian: --rev needs a revision" >&2; exit 2; }
           rev="$2"; shift ;;
    --rev=*) rev="${1#*=}" ;;
    --skip-test) skip_test=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bare_debian: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

say() { printf 'bare_debian: %s\n' "$*"; }
skip77() { say "SKIP: $*" >&2; exit 77; }

# mount, chroot and debootstrap need root; an ordinary user gets the "cannot run here" code.
[[ "$(id -u)" == 0 ]] || skip77 "needs root (debootstrap, mount, chroot); run with sudo"

# --- the checkout to clone and the shared data beside it --------------------------------
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
commit="$(git -C "$repo" rev-parse --verify --quiet "${rev}^{commit}")" ||
  { echo "bare_debian: --rev '$rev' is not a commit of $repo" >&2; exit 2; }
shared="$(dirname "$repo")/shared"   # the README's layout: ../shared beside the clone
[[ -d "$shared" ]] || { echo "bare_debian: no $shared beside the checkout" >&2; exit 2; }

# --- the host's mirror, read from its apt configuration (never written in here) ---------
# deb822 files first (URIs: of the stanza whose Suites has a plain release name), then
# one-line `deb URI SUITE ...` entries; the first main archive found is debootstrap's.
mirror=""
shopt -s nullglob
for f in /etc/apt/sources.list.d/*.sources; do
  mirror="$(awk '
    /^[[:space:]]*$/ { if (uri != "" && main) { print uri; exit } uri = ""; main = 0; next }
    /^URIs:/   { uri = $2 }
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i !~ /-/) main = 1 }
    END        { if (uri != "" && main) print uri }' "$f" | head -n 1)"
  [[ -n "$mirror" ]] && break
done
if [[ -z "$mirror" ]]; then
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [[ -f "$f" ]] || continue
    # Skips the [ option=value ... ] block; the first word after it is the URI.
    mirror="$(awk '$1 == "deb" { inopt = 0
                for (i = 2; i <= NF; i++) {
                  if ($i ~ /^\[/) inopt = 1
                  if (inopt) { if ($i ~ /\]$/) inopt = 0; continue }
                  if ($(i + 1) !~ /-/) { print $i; exit } else break } }' "$f" | head -n 1)"
    [[ -n "$mirror" ]] && break
  done
fi
shopt -u nullglob
[[ -n "$mirror" ]] || skip77 "no Debian mirror found in the host's apt configuration"

# --- debootstrap, installed on the host when missing -------------------------------------
if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap on the host"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap; } ||
    true
  command -v debootstrap >/dev/null 2>&1 || skip77 "debootstrap is missing and apt-get could not install it"
fi

# --- the work directory, the step record and the clean-up --------------------------------
mkdir -p "$workbase"
# Two roots with the build packages, both build trees and the .deb's build take ~3.5 GB;
# better to say so now than to fail half an hour in.
avail_kb="$(df -Pk "$workbase" | awk 'NR == 2 { print $4 }')"
[[ "$avail_kb" -ge $(( 4 * 1024 * 1024 )) ]] ||
  skip77 "needs ~4 GB free in $workbase, it has $(( avail_kb / 1024 )) MB: choose another disk with --workdir"
work="$(mktemp -d "$(cd "$workbase" && pwd)/polypsf-bare.XXXXXX")"
logs="$work/logs"
mkdir -p "$logs"
root="$work/root"          # where make run / make test / make deb run
debroot="$work/root-deb"   # the pristine copy the .deb is installed into
mounts=()                  # everything mounted, in mounting order
steps=() results=()        # step names and their outcomes, for the final summary

record() { steps+=("$1"); results+=("$2"); }

# Processes left running inside a root (a test's daemons, a stray orted) keep its mounts
# busy: end them, by PID, after checking each one's root directory is ours.
kill_root_processes() {
  local r="$1" p link pids=()
  for p in /proc/[0-9]*; do
    link="$(readlink "$p/root" 2>/dev/null)" || continue
    [[ "$link" == "$r" || "$link" == "$r"/* ]] && pids+=("${p#/proc/}")
  done
  [[ ${#pids[@]} -gt 0 ]] || return 0
  say "ending processes left in $r: ${pids[*]}"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  sleep 2
  kill -KILL "${pids[@]}" 2>/dev/null || true
}

# The step running when INT/TERM came (debootstrap runs on the host, not in a root): it
# and its children, by PID.
step_pid=""
kill_tree() {
  local c
  for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do kill_tree "$c"; done
  kill -TERM "$1" 2>/dev/null || true
}

still_mounted() { grep -F " $work/" /proc/self/mountinfo || true; }

cleanup() {
  local status=$? i m left
  trap - EXIT INT TERM
  set +e
  [[ -n "$step_pid" ]] && kill_tree "$step_pid"
  for r in "$root" "$debroot"; do [[ -d "$r" ]] && kill_root_processes "$r"; done
  # Reverse order: /dev/pts before /dev, and so on. -R takes the submounts the recursive
  # binds brought along; lazy only when a busy mount will not go otherwise.
  for (( i = ${#mounts[@]} - 1; i >= 0; i-- )); do
    m="${mounts[$i]}"
    grep -qF " $m " /proc/self/mountinfo || continue
    umount -R "$m" 2>/dev/null || { sleep 1; umount -R "$m" 2>/dev/null; } ||
      { say "umount -R $m failed; unmounting lazily"; umount -R -l "$m"; }
  done
  # Anything else under the work directory (a debootstrap that stopped half-way leaves its
  # own /proc and /sys mounts): deepest first, lazily.
  for m in $(still_mounted | awk '{ print $5 }' | sort -r); do
    say "unmounting leftover $m"
    umount -R -l "$m"
  done
  left="$(still_mounted)"
  if [[ -n "$left" ]]; then
    say "STILL MOUNTED under $work (roots not deleted):"
    printf '%s\n' "$left"
    [[ $status == 0 ]] && status=1
  else
    say "nothing is mounted under $work any more"
    if [[ $keep == 1 ]]; then
      say "kept the roots: $root${debroot:+ $debroot}"
    else
      # --one-file-system: never follow into anything mounted, should one have been missed.
      rm -rf --one-file-system "$root" ${debroot:+"$debroot"}
      say "deleted the roots; logs kept in $logs"
    fi
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'say "interrupted"; exit 130' INT
trap 'say "terminated"; exit 143' TERM

# What a root needs from the host to be a machine: its kernel file systems. The recursive
# binds are made slaves at once, so unmounting them here never propagates to the host's
# /sys/fs/cgroup or /dev.
mount_root() {
  local r="$1" d
  mount -t proc proc "$r/proc"
  mounts+=("$r/proc")
  mount --rbind /sys "$r/sys"
  mounts+=("$r/sys")
  mount --make-rslave "$r/sys"
  mount --rbind /dev "$r/dev"
  mounts+=("$r/dev")
  mount --make-rslave "$r/dev"
  # /dev/pts and /dev/shm usually come with the /dev bind; where they do not, bind them.
  for d in pts shm; do
    mkdir -p "$r/dev/$d"
    if ! mountpoint -q "$r/dev/$d"; then
      mount --bind "/dev/$d" "$r/dev/$d"
      mounts+=("$r/dev/$d")
    fi
  done
}

# Runs a command inside a root as a new user's login would: root, a clean environment.
in_root() {
  local r="$1"; shift
  env -i HOME=/root TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    chroot "$r" /bin/bash -c "$*"
}

# Runs one logged step; its status goes to the summary, the script carries on. The step
# runs in the background and is waited for, so INT/TERM reach the trap at once instead of
# after a half-hour `make test`.
took=""
run_step() {
  local name="$1" log="$2"; shift 2
  local t0=$SECONDS st=0 pid
  say "$name ... (log: $log)"
  "$@" >"$log" 2>&1 &
  pid=$!
  step_pid="$pid"
  wait "$pid" || st=$?
  step_pid=""
  local dt=$(( SECONDS - t0 ))
  took="$(( dt / 60 ))m$(( dt % 60 ))s"
  if [[ $st == 0 ]]; then record "$name" "ok ($(( dt / 60 ))m$(( dt % 60 ))s)"
  else record "$name" "FAILED, exit $st ($(( dt / 60 ))m$(( dt % 60 ))s), see $log"; fi
  say "$name: exit $st after $(( dt / 60 ))m$(( dt % 60 ))s"
  return "$st"
}

say "work directory $work, commit $commit, mirror $mirror"

# --- 1. the bare root --------------------------------------------------------------------
if ! run_step "debootstrap" "$logs/debootstrap.log" \
     debootstrap --variant=minbase bookworm "$root" "$mirror"; then
  tail -n 20 "$logs/debootstrap.log"
  exit 1
fi

# apt in the root reaches the archive the way the host's does: the host's sources, its
# name server, and its Acquire settings (proxies, Check-Valid-Until for a snapshot), but
# none of the host's dpkg/apt hooks (they call programs the root does not have).
setup_apt() {
  local r="$1" f
  cp -L /etc/resolv.conf "$r/etc/resolv.conf"
  # An installed Debian has the installer's /etc/hosts: localhost and its own name, both
  # resolved locally. debootstrap writes none, and then every MPI start-up (PMIx looks up
  # `localhost` and the node's name) waits 5 s for the name server: test_cli_bad_input
  # took 519 s instead of 25.
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n::1\tlocalhost ip6-localhost ip6-loopback\n' \
    "$(hostname)" >"$r/etc/hosts"
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    cp /etc/apt/sources.list.d/*.sources "$r/etc/apt/sources.list.d/"
    : >"$r/etc/apt/sources.list"   # debootstrap's one line is in the .sources already
  else
    cp /etc/apt/sources.list "$r/etc/apt/sources.list"
  fi
  for f in /etc/apt/apt.conf.d/*; do
    [[ -f "$f" ]] || continue
    grep -qE '^[[:space:]]*Acquire' "$f" || continue
    grep -qiE 'Invoke|Pre-Install-Pkgs' "$f" && continue
    cp "$f" "$r/etc/apt/apt.conf.d/"
  done
}
setup_apt "$root"

# The second root must be as bare as the first before anything touches the first.
if git -C "$repo" show "$commit:Makefile" | grep -qE '^deb[[:space:]]*:'; then
  say "the Makefile has a deb target: copying the pristine root for the .deb check"
  cp -a "$root" "$debroot"
else
  debroot=""
fi

if ! run_step "apt-get install git make ca-certificates" "$logs/bare-packages.log" \
     in_root "$root" "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y git make ca-certificates"; then
  tail -n 20 "$logs/bare-packages.log"
  exit 1
fi

# --- 2. mounts ---------------------------------------------------------------------------
mount_root "$root"

# --- 3. the clone and ../shared ----------------------------------------------------------
src="$root/root/src"
mkdir -p "$src"
if ! run_step "git clone" "$logs/clone.log" \
     bash -c 'git clone --no-hardlinks "$1" "$2" && git -C "$2" checkout -q --detach "$3"' \
       _ "$repo" "$src/polypsf" "$commit"; then
  cat "$logs/clone.log"
  exit 1
fi
cp -a "$shared" "$src/shared"
say "cloned $commit to /root/src/polypsf, ../shared copied to /root/src/shared"

# --- 4. make run, make test --------------------------------------------------------------
run_status=0 test_status=skipped test_took="" deb_status=skipped
run_step "make run" "$logs/make-run.log" in_root "$root" "cd /root/src/polypsf && make run" ||
  run_status=$?
if [[ $skip_test == 0 ]]; then
  test_status=0
  # CI's own script when the tree has one (it ends with `make test`; before it the clang build
  # and the fuzz runs, which install packages of their own), else the README's `make test`
  ci_command="make test"
  [[ -f "$src/polypsf/.ci/run" ]] && ci_command="bash .ci/run"
  run_step "$ci_command" "$logs/make-test.log" in_root "$root" "cd /root/src/polypsf && $ci_command" ||
    test_status=$?
  test_took="$took"
fi

# ctest's closing lines, per pass, and why each skipped or failed test did (its own lines
# in the pass's LastTest.log, which keeps every test's output, not only the failures').
ctest_summary() {
  local log="$1" last="$2" name
  awk '/tests passed|tests failed out of|Total Test time|\*\*\*/ { print "  " $0 }
       /The following tests (did not run|FAILED):/ { inlist = 1; print "  " $0; next }
       inlist && /^[[:space:]]+[0-9]+ - / { print "  " $0; next }
       { inlist = 0 }' "$log"
  [[ -f "$last" ]] || return 0
  echo "  why (from the tests' own output):"
  for name in $(awk '/The following tests (did not run|FAILED):/ { inlist = 1; next }
                     inlist && /^[[:space:]]+[0-9]+ - / { print $3; next } { inlist = 0 }' "$log" | sort -u); do
    # The first lines that say skip, fail or error (a sanitizer's too), else the last two.
    awk -v t="$name" '$0 ~ "Testing: " t "$" { on = 1; next }
                      on && /^<end of output>/ { on = 0
                        if (ns == 0) for (i = (n > 2 ? n - 1 : 1); i <= n; i++) print "    " t ": " out[i]
                        exit }
                      on { out[++n] = $0; if (/^PASS /) next
                           if ($0 ~ /SKIP|[Ss]kip|FAIL|[Ee]rror|Sanitizer|Tracer caught|not found/ && ns < 2) {
                             ns++; print "    " t ": " substr($0, 1, 200) } }' "$last"
  done
}

# Every test's output, kept with the logs (the roots go at exit).
for b in build build-asan; do
  f="$src/polypsf/$b/Testing/Temporary/LastTest.log"
  [[ -f "$f" ]] && cp "$f" "$logs/ctest-$b.LastTest.log"
done

echo
echo "================ make run ================"
# What the README's commands installed on the bare root (the Makefile says so when it does).
grep -h '^polypsf: installing' "$logs/make-run.log" "$logs/make-test.log" 2>/dev/null | sed 's/^/  /' || true
grep -E '^result:' "$logs/make-run.log" | sed 's/^/  /' | grep . || echo "  (no result line)"
if [[ -f "$src/polypsf/out/example.h5" ]]; then echo "  out/example.h5 exists"
else echo "  out/example.h5 MISSING"; tail -n 15 "$logs/make-run.log"; fi
echo "  exit status: $run_status"
if [[ $skip_test == 0 ]]; then
  echo "================ make test ================"
  # The first ctest pass is build/, the second build-asan/; split the log at the second
  # (none when the first pass failed: make stops there).
  asan_at="$(grep -n 'cmake -S . -B build-asan' "$logs/make-test.log" | head -n 1 | cut -d: -f1 || true)"
  if [[ -n "$asan_at" ]]; then
    echo "--- pass 1 (build/) ---"
    head -n "$(( asan_at - 1 ))" "$logs/make-test.log" >"$logs/make-test.pass1.log"
    ctest_summary "$logs/make-test.pass1.log" "$logs/ctest-build.LastTest.log"
    echo "--- pass 2 (build-asan/, ASan+UBSan) ---"
    tail -n "+$asan_at" "$logs/make-test.log" >"$logs/make-test.pass2.log"
    ctest_summary "$logs/make-test.pass2.log" "$logs/ctest-build-asan.LastTest.log"
  else
    echo "--- pass 1 (build/) ---"
    ctest_summary "$logs/make-test.log" "$logs/ctest-build.LastTest.log"
    echo "  (the sanitizer pass did not start)"
    tail -n 15 "$logs/make-test.log"
  fi
  echo "  exit status: $test_status, took $test_took"
else
  echo "make test: skipped (--skip-test)"
fi

# --- 5. make deb and the .deb alone in a second bare root --------------------------------
echo "================ make deb ================"
if ! grep -qE '^deb[[:space:]]*:' "$src/polypsf/Makefile"; then
  echo "make deb: not in this checkout, skipped"
elif [[ -z "$debroot" ]]; then
  echo "make deb: no pristine root was copied (the deb target appeared after cloning?), skipped"
  record "make deb" "FAILED, no pristine root"; deb_status=1
else
  deb_status=0
  run_step "make deb" "$logs/make-deb.log" in_root "$root" "cd /root/src/polypsf && make deb" ||
    deb_status=$?
  # Where the README says the package is (a path ending in polypsf_*.deb), else where
  # dpkg-buildpackage leaves it: beside the source tree.
  stated="$(grep -oE '[^` (]*polypsf_[^` )]*\.deb' "$src/polypsf/README.md" | head -n 1 |
             sed 's/<[^>]*>/*/g' || true)"
  deb=""
  if [[ -n "$stated" ]]; then
    echo "  README states the package is at: $stated"
    deb="$(cd "$src/polypsf" && compgen -G "${stated#/root/src/polypsf/}" | head -n 1 || true)"
    [[ -n "$deb" ]] && deb="$src/polypsf/$deb"
    [[ -n "$deb" ]] || echo "  ... but nothing matches there"
  else
    echo "  README names no polypsf_*.deb path"
  fi
  [[ -n "$deb" ]] || deb="$(find "$src" -maxdepth 3 -name 'polypsf_*.deb' | head -n 1)"
  if [[ $deb_status != 0 || -z "$deb" ]]; then
    echo "  make deb: exit $deb_status, package: ${deb:-none found}"
    tail -n 15 "$logs/make-deb.log"
    [[ $deb_status == 0 ]] && { deb_status=1; record "find the .deb" "FAILED, none found"; }
  else
    echo "  package: ${deb#"$root"}"
    mount_root "$debroot"
    mkdir -p "$debroot/root/deb"
    cp "$deb" "$debroot/root/deb/"
    # A small job: the example with a smaller pupil and fewer wavelengths.
    sed -E -e 's/npix: *[0-9]+/npix: 128/' -e 's/count: *[0-9]+/count: 2/' \
        -e 's#path: *[^,}]*#path: /root/out/small.h5#' \
        "$src/polypsf/jobs/examples/example.yaml" >"$debroot/root/small.yaml"
    run_step "apt-get install ./polypsf_*.deb" "$logs/deb-install.log" in_root "$debroot" \
      "cd /root/deb && apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y ./polypsf_*.deb" ||
      deb_status=$?
    if [[ $deb_status == 0 ]]; then
      run_step "polypsf run (installed .deb)" "$logs/deb-run.log" in_root "$debroot" \
        "mkdir -p /root/out && cd /root && OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 \
         OPENBLAS_NUM_THREADS=1 mpirun -n 2 --oversubscribe polypsf run small.yaml -o /root/out/small.h5 --force" ||
        deb_status=$?
      run_step "polypsf info (installed .deb)" "$logs/deb-info.log" in_root "$debroot" \
        "polypsf info /root/out/small.h5" || deb_status=$?
      echo "  installed: $(in_root "$debroot" 'command -v polypsf; dpkg-query -W polypsf' | tr '\n' ' ')"
      echo "  polypsf run: $(tail -n 3 "$logs/deb-run.log" | tr '\n' ' ')"
      echo "  polypsf info:"
      sed 's/^/    /' "$logs/deb-info.log" | head -n 25
    else
      tail -n 15 "$logs/deb-install.log"
    fi
  fi
fi

# --- summary -----------------------------------------------------------------------------
echo "================ summary ================"
failed=0
for i in "${!steps[@]}"; do
  printf '  %-42s %s\n' "${steps[$i]}" "${results[$i]}"
  [[ "${results[$i]}" == FAILED* ]] && failed=1
done
echo "  logs: $logs"
[[ $failed == 0 ]] || exit 1
exit 0
