#!/usr/bin/env bash
# Processes or threads? Times two jobs at oversampling 1, 2, 4 and 6 in three parallel modes
# on the same cores, and writes a CSV and a PNG figure (time against oversampling, one line
# per mode; gnuplot draws it).
#   direct imaging  obscured_poly's system (1024 px pupil, secondary obscuration on 3
#                   spiders), 8 wavelengths, MFT to 101 detector pixels; detector.oversample
#                   is varied: 101 → 606 computed pixels per axis (OpenBLAS products)
#   coronagraph     fqpm_coronagraph's system (256 px pupil, FQPM with its FFT aligners,
#                   Lyot stop), 8 wavelengths, 64 px × 2 detector by MFT;
#                   propagation.fft_oversample (the FFT padding) is varied: two FFTs of
#                   256·s px square per wavelength (FFTW)
# Modes on CORES cores:
#   ranks    CORES ranks × 1 thread
#   threads  1 rank × CORES threads
#   mix      R ranks × T threads, R·T = CORES, R > 1, T > 1 (the smallest such T); when CORES
#            has no such split (2, or a prime) the mix runs CORES ranks × 2 threads, twice the
#            cores: marked oversubscribed in the CSV and the figure.
# and, for scale, the one-core reference: 1 rank × 1 thread.
# Each point is the best wall-clock time (mpirun start to end) of REPS runs; modes and points
# are interleaved within each repetition so that a busy neighbour slows all alike. The CSV also
# keeps the median, the run's own compute and total times (its `timing` line: the slowest
# rank's time computing wavelengths, and pp_run's wall time without process start-up), and the
# machine's load average and the cores measured free (see capacity below) before and after.
# Usage: jobs/bench/parallel_study.sh [path/to/polypsf] [CORES] [REPS] [OUT_DIR]
#   defaults: build/polypsf, the CPUs online, 3, docs  →  OUT_DIR/parallel_study.{csv,png}
set -euo pipefail
exe=${1:-${POLYPSF:-build/polypsf}}
cores=${2:-$(nproc)}
reps=${3:-3}
out_dir=${4:-docs}
[ -x "$exe" ] || { echo "parallel_study: no program at '$exe' (build first)" >&2; exit 2; }
exe="$(cd "$(dirname "$exe")" && pwd)/$(basename "$exe")"
mkdir -p "$out_dir"
csv="$out_dir/parallel_study.csv"
png="$out_dir/parallel_study.png"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ "$(id -u)" = 0 ] && export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# --threads-per-rank sets OpenBLAS's threads whatever this says; it only keeps ranks-only
# runs at one BLAS thread.
export OPENBLAS_NUM_THREADS=1
unset SLURM_CPUS_ON_NODE
oversamplings="1 2 4 6"

# The mix: the smallest T > 1 dividing CORES with CORES/T > 1.
mix_ranks=$cores mix_threads=2 mix_over=yes
for t in $(seq 2 "$cores"); do
  if [ $((cores % t)) -eq 0 ] && [ $((cores / t)) -gt 1 ]; then
    mix_ranks=$((cores / t)) mix_threads=$t mix_over=no
    break
  fi
done
modes="ranks threads mix one_core"
mode_ranks() {
  case $1 in ranks) echo "$cores" ;; threads|one_core) echo 1 ;; mix) echo "$mix_ranks" ;; esac
}
mode_threads() {
  case $1 in ranks|one_core) echo 1 ;; threads) echo "$cores" ;; mix) echo "$mix_threads" ;; esac
}
run() { # run MODE JOB: one run of polypsf in that mode, its log in $work/log
  local n t
  n=$(mode_ranks "$1") t=$(mode_threads "$1")
  # one calibration cache per thread count (its key names the BLAS threads), made before timing
  mpirun -n "$n" --oversubscribe --bind-to none "$exe" run "$2" -o "$work/out.h5" --force \
    --threads-per-rank "$t" --calibration "$work/calibration-$t.txt" > /dev/null 2> "$work/log"
}

job() { # job CASE S: the job file for one point
  case $1 in
    direct) cat <<JOB
pupil: {npix: 1024}
wavelengths: {min: 1.0e-6, max: 2.0e-6, count: 8}
optics:
  - circular_aperture: {radius: 3.25}
  - secondary_obscuration: {secondary_radius: 0.5, n_supports: 3, support_width: 0.1}
detector: {pixelscale: 0.0311, fov_pixels: 101, oversample: $2}
propagation: {method: mft}
output: {cube: false}
JOB
    ;;
    coronagraph) cat <<JOB
pupil: {npix: 256}
wavelengths: {min: 1.8e-6, max: 2.2e-6, count: 8}
optics:
  - circular_aperture: {radius: 3.0, gray_pixel: true}
  - fqpm_fft_aligner: {direction: forward}
  - ideal_fqpm: {wavelength: 2.0e-6}
  - fqpm_fft_aligner: {direction: backward}
  - circular_aperture: {radius: 2.7, gray_pixel: true, name: Lyot stop}
detector: {pixelscale: 0.02, fov_pixels: 64, oversample: 2}
propagation: {method: mft, fft_oversample: $2}
output: {cube: false}
JOB
    ;;
  esac
}

# Untimed warm-up: the calibration caches, the program and the libraries in the page cache.
job direct 1 > "$work/warm.yaml"
for mode in $modes; do run "$mode" "$work/warm.yaml"; done
# How many cores are really free: CORES copies of a fixed CPU-bound loop run at once against
# one alone; capacity = CORES × t(one) ÷ t(all at once), CORES on an idle machine, less when
# other work holds cores (a shared or virtual machine: its load may not even be visible).
burn() { awk 'BEGIN { for (i = 0; i < 1e8; i++) x += i * 1e-9; print x }' > /dev/null; }
capacity() {
  local t0 t1 t2 k
  t0=$(date +%s.%N); burn; t1=$(date +%s.%N)
  for k in $(seq 1 "$cores"); do burn & done
  wait
  t2=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v c="$t2" -v n="$cores" 'BEGIN { printf "%.2f", n * (b - a) / (c - b) }'
}
capacity_start=$(capacity)
load_start=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo nan)
echo "parallel study: $cores core(s) of $(nproc) online, $reps repetition(s), mix = $mix_ranks × $mix_threads" \
  "$([ $mix_over = yes ] && echo "(oversubscribed)")" >&2
for rep in $(seq 1 "$reps"); do
  for case in direct coronagraph; do
    for s in $oversamplings; do
      job "$case" "$s" > "$work/$case-$s.yaml"
      for mode in $modes; do
        n=$(mode_ranks "$mode") t=$(mode_threads "$mode")
        start=$(date +%s.%N)
        run "$mode" "$work/$case-$s.yaml"
        end=$(date +%s.%N)
        line=$(sed -n 's/.*timing (s, slowest rank): //p' "$work/log")
        compute=$(echo "$line" | sed -n 's/.*compute \([0-9.]*\),.*/\1/p')
        total=$(echo "$line" | sed -n 's/.*total \([0-9.]*\).*/\1/p')
        echo "$case $s $mode $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.3f", b - a}') $compute $total" >> "$work/times"
        echo "  rep $rep $case s=$s $mode ($n × $t): $(tail -n 1 "$work/times" | awk '{print $4}') s" >&2
      done
    done
  done
done

# The machine's 1-minute load average before and after: above the core count, other work
# shared the cores and the times are noisy.
load_end=$(cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo nan)
capacity_end=$(capacity)
echo "parallel study: free cores measured $capacity_start before, $capacity_end after (of $cores)" >&2
awk -v a="$capacity_start" -v b="$capacity_end" -v n="$cores" 'BEGIN { exit !(a < 0.8 * n || b < 0.8 * n) }' &&
  echo "parallel study: WARNING: other work held cores during the study; its times compare modes on fewer free cores than $cores" >&2

# best and median of each point
stat() { # stat CASE S MODE COLUMN best|median
  awk -v c="$1" -v s="$2" -v m="$3" -v k="$4" '$1 == c && $2 == s && $3 == m {print $k}' "$work/times" |
    sort -g | awk -v w="$5" '{v[NR] = $1} END {
      if (w == "best") printf "%.3f", v[1];
      else printf "%.3f", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
{
  echo "case,varied,oversampling,mode,ranks,threads_per_rank,cores_used,cores,cpus_online,oversubscribed,wall_best_s,wall_median_s,compute_best_s,run_total_best_s,repetitions,loadavg_start,loadavg_end,free_cores_start,free_cores_end"
  for case in direct coronagraph; do
    varied=$([ $case = direct ] && echo detector.oversample || echo propagation.fft_oversample)
    for s in $oversamplings; do
      for mode in $modes; do
        n=$(mode_ranks "$mode") t=$(mode_threads "$mode")
        over=no
        [ $((n * t)) -gt "$cores" ] && over=yes
        echo "$case,$varied,$s,$mode,$n,$t,$((n * t)),$cores,$(nproc),$over,$(stat $case $s $mode 4 best),$(stat $case $s $mode 4 median),$(stat $case $s $mode 5 best),$(stat $case $s $mode 6 best),$reps,$load_start,$load_end,$capacity_start,$capacity_end"
      done
    done
  done
} > "$csv"
cat "$csv"

if ! command -v gnuplot > /dev/null 2>&1; then
  echo "parallel study: no gnuplot (Debian: apt-get install gnuplot-nox): $png not drawn" >&2
  exit 0
fi
label() { # label MODE: the legend entry
  local n t
  n=$(mode_ranks "$1") t=$(mode_threads "$1")
  if [ "$1" = one_core ]; then echo "for scale, one core: 1 rank × 1 thread"
  elif [ $((n * t)) -gt "$cores" ]; then echo "$1: $n ranks × $t threads (oversubscribed)"
  else echo "$1: $n rank(s) × $t thread(s)"; fi
}
for case in direct coronagraph; do
  for mode in $modes; do
    awk -F, -v c="$case" -v m="$mode" '$1 == c && $4 == m {print $3, $11}' "$csv" > "$work/$case-$mode.dat"
  done
done
panel() { # panel CASE TITLE XLABEL
  echo "set title '$2'; set xlabel '$3'; set ylabel 'wall-clock time of the run (s)'"
  echo "plot '$work/$1-ranks.dat' with linespoints lw 2 pt 7 title '$(label ranks)', \\"
  echo "     '$work/$1-threads.dat' with linespoints lw 2 pt 5 title '$(label threads)', \\"
  echo "     '$work/$1-mix.dat' with linespoints lw 2 pt 9 dt 2 title '$(label mix)', \\"
  echo "     '$work/$1-one_core.dat' with linespoints lw 1 pt 1 lc rgb 'gray50' dt 3 title '$(label one_core)'"
}
{
  echo "set terminal pngcairo size 1400,560 font 'sans,11'"
  echo "set output '$png'"
  echo "set multiplot layout 1,2 title 'polypsf on $cores core(s): processes against threads (best of $reps runs, 8 wavelengths; cores measured free: $capacity_start before, $capacity_end after)'"
  echo "set termoption noenhanced"
  echo "set grid; set key top left Left reverse; set xtics (1, 2, 4, 6); set xrange [0.5:6.5]; set yrange [0:*]"
  panel direct "direct imaging (1024 px pupil, MFT to 101 px)" "detector oversampling (computed px per detector px)"
  panel coronagraph "FQPM coronagraph (256 px pupil, padded FFTs)" "FFT padding (propagation.fft_oversample)"
  echo "unset multiplot"
} > "$work/plot.gp"
gnuplot "$work/plot.gp"
echo "parallel study: wrote $csv and $png" >&2
