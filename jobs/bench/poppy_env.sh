# Sourced by the benchmarks that run POPPY beside polypsf (bench_grid.sh, bench_fresnel.sh,
# bench_coronagraph_vs_poppy.sh): the one way they find and configure POPPY.
#   POPPY_SRC   a POPPY source tree: its root (holding poppy/) or the poppy/ package itself
#   PYTHON      the Python with numpy, scipy, astropy and matplotlib (default /usr/bin/python3, Debian's:
#               `python3` on PATH may be another one without them)
# Sets: poppy_python (the interpreter), PYTHONPATH (POPPY first), one thread for OpenMP,
# OpenBLAS and numexpr; poppy_preamble holds the Python lines every POPPY script starts with
# (numpy's FFT, no process pool, no GPU or MKL: POPPY as the issues timed it, per core).
# Returns non-zero, saying why, when POPPY_SRC is set but POPPY cannot be imported.
poppy_python=${PYTHON:-/usr/bin/python3}
poppy_preamble='
import poppy
poppy.conf.use_fftw = False
poppy.conf.use_multiprocessing = False
for _accel in ("use_mkl", "use_cuda", "use_opencl"):
    if hasattr(poppy.conf, _accel):
        setattr(poppy.conf, _accel, False)
if hasattr(poppy, "accel_math"):
    poppy.accel_math.update_math_settings()
'
poppy_setup() {
  [ -n "${POPPY_SRC:-}" ] || return 1
  local root=$POPPY_SRC
  [ -f "$root/poppy/__init__.py" ] || root=$(dirname "$POPPY_SRC")
  if [ ! -f "$root/poppy/__init__.py" ]; then
    echo "POPPY_SRC=$POPPY_SRC holds no poppy/__init__.py (give the tree's root or its poppy/)" >&2
    return 1
  fi
  export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
  export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 NUMEXPR_NUM_THREADS=1 NUMEXPR_MAX_THREADS=1
  (cd / && "$poppy_python" -c "import poppy" 2>&1 | tail -n 1 >&2; exit "${PIPESTATUS[0]}") || {
    echo "POPPY_SRC=$POPPY_SRC: $poppy_python cannot import poppy" >&2
    return 1
  }
}
