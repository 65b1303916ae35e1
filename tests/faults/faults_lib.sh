# Shared by the fault tests (sourced, not run). Builds on tests/cli/cli_test_lib.sh (report,
# cli_test_end, $exe, $tmp) and adds what a fault needs: root, mounts and loop devices that
# are always removed, processes stopped by their own PID, and the completed flags of a file.
#   faults_begin [no-root]    cli_test_begin, then exits 77 unless root (or no-root); one EXIT trap undoes
#                             every mount_tmpfs / mount_loop_ext4 / start_run below
#   mount_tmpfs DIR SIZE      a tmpfs of SIZE (e.g. 400k) at DIR (made); exits 77 if it cannot
#   mount_loop_ext4 DIR MIB   an ext4 file system of MIB MiB in a file, on a loop device,
#                             mounted at DIR with errors=remount-ro; sets $loop_device; 77 if
#                             losetup, mkfs.ext4 or mount cannot
#   start_run LOG ARGS...     `$exe run ARGS...` in the background in its own session; sets $run_pid
#   finish_run                waits for $run_pid, sets $run_rc
#   completed_count FILE      how many /status/completed flags FILE has set (empty if unreadable)
#   wait_completed FILE N S   waits up to S seconds until FILE has ≥ N flags set; 0 if it did
#   slow_job COUNT            a job of COUNT wavelengths taking roughly 10 to 40 ms each
#   psf_equal A B             0 when /psf of A and B hold the same bytes (h5diff, no tolerance)
#   h5py_python               prints a python3 that has h5py and numpy; 1 when none has
#   flagged_slices_match PARTIAL FULL   0 when every slice PARTIAL flags completed equals
#                             FULL's (bit for bit); prints "K flagged, D differ [indices]"
# shellcheck shell=bash
# shellcheck source=../cli/cli_test_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/../cli/cli_test_lib.sh"

faults_mounts=()
faults_loops=()
faults_pids=()

faults_cleanup() {
  local pid dir device
  for pid in "${faults_pids[@]}"; do
    # The session the run was started in (setsid): mpirun and every rank it started.
    kill -9 -- "-$pid" 2>/dev/null
    kill -9 "$pid" 2>/dev/null
  done
  for ((i = ${#faults_mounts[@]} - 1; i >= 0; i--)); do
    dir="${faults_mounts[$i]}"
    umount "$dir" 2>/dev/null || umount -l "$dir" 2>/dev/null
  done
  for device in "${faults_loops[@]}"; do losetup -d "$device" 2>/dev/null; done
  rm -rf "$tmp"
}

faults_begin() { # faults_begin [no-root]
  cli_test_begin
  if [[ "${1:-}" != no-root && "$(id -u)" != 0 ]]; then
    echo "SKIP: the fault tests mount file systems and need root (uid $(id -u))"
    exit 77
  fi
  for tool in h5dump h5diff; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is missing (hdf5-tools)"; exit 77; }
  done
  trap faults_cleanup EXIT
}

mount_tmpfs() { # mount_tmpfs DIR SIZE
  mkdir -p "$1"
  if ! mount -t tmpfs -o "size=$2,mode=0755" polypsf-faults "$1" 2>"$tmp/mount.err"; then
    echo "SKIP: cannot mount a tmpfs here: $(cat "$tmp/mount.err")"
    exit 77
  fi
  faults_mounts+=("$1")
}

mount_loop_ext4() { # mount_loop_ext4 DIR MIB
  mkdir -p "$1"
  local image="$tmp/ext4-$RANDOM.img"
  if ! command -v mkfs.ext4 >/dev/null || ! command -v losetup >/dev/null; then
    echo "SKIP: mkfs.ext4 or losetup is missing (e2fsprogs, mount)"
    exit 77
  fi
  truncate -s "${2}M" "$image"
  if ! loop_device="$(losetup -f --show "$image" 2>"$tmp/mount.err")"; then
    echo "SKIP: no loop device: $(cat "$tmp/mount.err")"
    exit 77
  fi
  faults_loops+=("$loop_device")
  if ! mkfs.ext4 -q -F "$loop_device" >"$tmp/mount.err" 2>&1 ||
    ! mount -t ext4 -o errors=remount-ro "$loop_device" "$1" 2>>"$tmp/mount.err"; then
    echo "SKIP: cannot make or mount ext4 on $loop_device: $(cat "$tmp/mount.err")"
    exit 77
  fi
  faults_mounts+=("$1")
}

start_run() { # start_run LOG ARGS...
  local log="$1"
  shift
  setsid "$exe" run "$@" >/dev/null 2>"$log" &
  run_pid=$!
  faults_pids+=("$run_pid")
}

finish_run() {
  run_rc=0
  wait "$run_pid" || run_rc=$?
  # Reaped: its PID may now be anyone's, so the cleanup must forget it.
  local kept=() pid
  for pid in "${faults_pids[@]}"; do [[ "$pid" != "$run_pid" ]] && kept+=("$pid"); done
  faults_pids=("${kept[@]}")
}

completed_count() { # completed_count FILE
  h5dump -d /status/completed -y -w 0 "$1" 2>/dev/null |
    awk '/DATA \{/ && !seen {on=1; seen=1; next} on && /\}/ {exit} on' |
    tr -c '0-9\n' ' ' | tr ' ' '\n' | grep -c '^1$'
}

wait_completed() { # wait_completed FILE N SECONDS
  local deadline=$((SECONDS + $3)) count
  while ((SECONDS < deadline)); do
    count="$(completed_count "$1")"
    [[ "${count:-0}" -ge "$2" ]] && return 0
    sleep 0.05
  done
  return 1
}

slow_job() { # slow_job COUNT
  cat <<JOB
pupil: {npix: 512}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: $1}
optics:
  - circular_aperture: {radius: 3.25}
  - zernike_wfe: {radius: 3.25, coefficients: [0, 0, 0, 5.0e-8, 0, 2.0e-8]}
detector: {pixelscale: 0.0311, fov_pixels: 32, oversample: 2}
propagation: {method: mft}
output: {cube: true}
JOB
}

psf_equal() { # psf_equal A B
  h5diff -q "$1" "$2" /psf /psf >/dev/null 2>&1
}

h5py_python() { # prints a python3 that imports h5py and numpy; 1 if there is none
  local candidate
  for candidate in python3 /usr/bin/python3; do
    if command -v "$candidate" >/dev/null && "$candidate" -c "import h5py, numpy" 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

flagged_slices_match() { # flagged_slices_match PARTIAL FULL
  "$(h5py_python)" - "$1" "$2" <<'PY'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as part, h5py.File(sys.argv[2], "r") as full:
    flags = part["status/completed"][...]
    bad = [int(i) for i in np.flatnonzero(flags)
           if not np.array_equal(part["cube"][i], full["cube"][i])]
    print(int(flags.sum()), "flagged,", len(bad), "differ", bad)
    sys.exit(1 if bad else 0)
PY
}
