#!/usr/bin/env bash
# test_install.sh cmake|pkgconfig: the installed polypsf as another project uses it.
# Installs the build (POLYPSF_BUILD_DIR) into a temporary prefix with `cmake --install`,
# checks the program, manual page, headers, job files and docs are there, then builds
# consumer/psf_check.c against the prefix and runs it (it computes one PSF and checks its
# peak and sum):
#   cmake      a CMake project: find_package(polypsf), polypsf::polypsf
#              (CMAKE_PREFIX_PATH = the prefix)
#   pkgconfig  one line: cc psf_check.c $(pkg-config --cflags --libs polypsf), linking the
#              shared library (PKG_CONFIG_PATH = the prefix's; run with LD_LIBRARY_PATH)
# Exit 0 pass, 1 fail, 77 skipped (no C compiler, no pkg-config), with the reason.
set -euo pipefail

mode="${1:?usage: test_install.sh cmake|pkgconfig}"
build="${POLYPSF_BUILD_DIR:?set POLYPSF_BUILD_DIR to the build directory}"
libdir_name="${POLYPSF_INSTALL_LIBDIR:-lib}"
cc="${POLYPSF_C_COMPILER:-cc}"
cmake="${CMAKE_COMMAND:-cmake}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

fail() { echo "FAIL: $*"; exit 1; }
skip() { echo "SKIP: $*"; exit 77; }

command -v "$cc" >/dev/null 2>&1 || skip "no C compiler '$cc' to build a program against polypsf"
[[ "$mode" != pkgconfig ]] || command -v pkg-config >/dev/null 2>&1 ||
  skip "no pkg-config (Debian: apt-get install pkg-config)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

# Runs a step quietly; on failure shows its output.
step() {
  local what="$1"; shift
  "$@" >"$tmp/step.log" 2>&1 || { cat "$tmp/step.log"; fail "$what: $*"; }
}

step "install" "$cmake" --install "$build" --prefix "$prefix"
for file in bin/polypsf include/polypsf/polypsf.h "$libdir_name/libpolypsf.a" \
            "$libdir_name/cmake/polypsf/polypsf-config.cmake" \
            "$libdir_name/pkgconfig/polypsf.pc" share/man/man1/polypsf.1 \
            share/polypsf/examples/example.yaml share/polypsf/workstation/run.sh \
            share/polypsf/slurm/polypsf.sbatch share/doc/polypsf/job-file.md; do
  [[ -e "$prefix/$file" ]] || fail "cmake --install left out $file"
done
[[ -x "$prefix/share/polypsf/workstation/run.sh" ]] || fail "run.sh installed without its x bit"
# The SONAME link: a program built against libpolypsf.so needs libpolypsf.so.N at run time.
soname="$(cd "$prefix/$libdir_name" && ls libpolypsf.so.[0-9]* 2>/dev/null | head -n 1)"
[[ -n "$soname" ]] || fail "no libpolypsf.so.N in $prefix/$libdir_name"
version="$("$prefix/bin/polypsf" --version)" || fail "the installed program does not run"
echo "installed: $version, $soname"

case "$mode" in
  cmake)
    step "configure the consumer" "$cmake" -S "$here/consumer" -B "$tmp/consumer" \
      -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release
    step "build the consumer" "$cmake" --build "$tmp/consumer"
    program="$tmp/consumer/psf_check"
    ;;
  pkgconfig)
    export PKG_CONFIG_PATH="$prefix/$libdir_name/pkgconfig"
    flags="$(pkg-config --cflags --libs polypsf)" || fail "pkg-config does not find polypsf.pc"
    echo "pkg-config --cflags --libs polypsf: $flags"
    # shellcheck disable=SC2086  # the flags are meant to be split into words
    step "compile with pkg-config" "$cc" "$here/consumer/psf_check.c" -o "$tmp/psf_check" \
      $flags -lm
    program="$tmp/psf_check"
    export LD_LIBRARY_PATH="$prefix/$libdir_name${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    ;;
  *) echo "usage: test_install.sh cmake|pkgconfig" >&2; exit 2 ;;
esac

# Both link the shared library, not the static one.
if command -v readelf >/dev/null 2>&1; then
  readelf -d "$program" | grep -q "NEEDED.*libpolypsf\.so" ||
    fail "psf_check is not linked with libpolypsf.so"
fi
"$program" || fail "psf_check built with $mode"
