# polypsf: the two commands of the README.
#   make run    install what is missing, build, run the example job on the local cores
#   make test   install what is missing, build, run the whole test suite (ctest), then the
#               sanitizer (ASan+UBSan) build of the in-process tests (labels unit, physics,
#               fuzz_replay, ci); `make test-asan-programs` runs the rest under the sanitizers
#               (CI runs both)
#   make fuzz   build the libFuzzer targets (clang) and run each FUZZ_SECONDS seconds
#               (tests/fuzz/, docs/reliability.md)
#   make deb    install the packaging tools, build the Debian package into out/deb/
#               (install it with: apt-get install ./out/deb/polypsf_*.deb)
# Everything real lives in CMake; this file only strings the steps together.

BUILD      ?= build
BUILD_ASAN ?= build-asan
BUILD_CLANG ?= build-clang
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
# libFuzzer's -seed: 0 draws a new one each run (exploring); CI gives a fixed one, so that
# the inputs a run tries are the same on every run and a red CI names a real change.
FUZZ_SEED ?= 0
# Which targets `make fuzz` runs (all three by default).
FUZZ_TARGETS ?= job spectrum map
JOB        ?= jobs/examples/example.yaml
OUT        ?= out/example.h5
NP         ?= $(shell nproc 2>/dev/null || echo 1)
JOBS       ?= $(shell nproc 2>/dev/null || echo 1)
# Warnings are errors in the tests' builds (make test, CI), not in `make run`'s.
WERROR     ?= OFF
test test-unit: WERROR = ON

# Debian 12 packages polypsf builds and runs with (`make run`).
PACKAGES := build-essential cmake pkg-config openmpi-bin libopenmpi-dev libhdf5-openmpi-dev \
            hdf5-tools libopenblas-dev libfftw3-dev libfftw3-mpi-dev libyaml-dev libcfitsio-dev libpng-dev
# What only the tests call (`make test`): valgrind (test_cli_valgrind), procps (pgrep, pkill,
# ps in the Slurm and stop tests), Python with h5py, numpy and astropy (the rank-group
# comparisons, test_export_astropy), slurm-wlm and munge (the `slurm` test: it starts its own
# private daemons, tests/slurm/private_slurm.sh, and never uses or changes the system's),
# e2fsprogs and mount (mkfs.ext4, e2fsck, losetup: the read-only disk of the `faults` tests),
# iproute2 (ip netns, ss: the two-node cluster of tests/slurm/two_nodes.sh), python3-photutils
# and python3-scipy (GriddedPSFModel, which needs scipy's interpolation and which Debian's
# package only recommends, reads `export --psf-grid` files in test_psf_grid_photutils), and
# FUZZ_PACKAGES (`make fuzz`: Debian 12's clang 14, and libclang-rt-14-dev, which holds
# libFuzzer's runtime libclang_rt.fuzzer-x86_64.a and which clang only recommends, and llvm,
# whose llvm-symbolizer LeakSanitizer needs to match tests/fuzz/lsan_fuzz.supp's function
# names: without it a bare machine reported HDF5's own losses as leaks).
FUZZ_PACKAGES := clang libclang-rt-14-dev llvm
TEST_PACKAGES := valgrind procps python3 python3-h5py python3-numpy python3-astropy python3-photutils python3-scipy slurm-wlm munge \
                 e2fsprogs mount iproute2 $(FUZZ_PACKAGES)

# Open MPI refuses root unless told; more ranks than cores need --oversubscribe.
MPIRUN_ENV := OPENBLAS_NUM_THREADS=1 $(if $(filter 0,$(shell id -u)),OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1)
MPIRUN     := $(MPIRUN_ENV) mpirun -n $(NP) --oversubscribe --bind-to none

# What `make deb` needs besides PACKAGES (debian/control sets Rules-Requires-Root: no, so
# dpkg-buildpackage needs no fakeroot).
DEB_PACKAGES := debhelper dpkg-dev
DEB_OUT      ?= out/deb

# The sanitizer pass's environment. intercept_tls_get_addr=0: GCC 12's libasan guesses the
# bounds of each dynamic TLS block (a module's __thread data, here one Open MPI loads) by
# reading a size header it expects glibc to have put before the block; glibc 2.36 puts none,
# so the guess is whatever the heap chunk holds. Freed memory reused soon (a small quarantine,
# as test_mem_limit.sh and the rank-group tests set) makes it garbage such as
# [0xc02, 0x400001d04), and LeakSanitizer's tracer dies reading it at exit (signal 11, exit 1).
# Without the interception the TLS blocks are ordinary heap blocks, reachable from the
# thread's DTV, so leaks are still found; only the wrong bounds go.
SANITIZER_ENV := LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp:print_suppressions=0 \
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:fast_unwind_on_malloc=0:intercept_tls_get_addr=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

.PHONY: run test test-unit test-asan test-asan-programs build-asan build-clang fuzz deps test-deps install-packages configure build clean deb

run: build
	@mkdir -p $(dir $(OUT))
	$(MPIRUN) $(BUILD)/polypsf run $(JOB) -o $(OUT) --force
	$(BUILD)/polypsf render $(OUT) -o $(basename $(OUT)).png --scale-bar auto
	@echo "result: $(OUT)  (inspect with: $(BUILD)/polypsf info $(OUT); preview: $(basename $(OUT)).png)"

test: test-unit test-asan

# ctest -j $(JOBS): the tests are mostly process start-up and MPI waits; the few that act
# on a run mid-way (signals, kills, full disks, Slurm daemons) are RUN_SERIAL in CMake.
test-unit: build test-deps
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The sanitizer pass in two halves. `make test` runs the in-process tests (ASAN_IN_PROCESS):
# the library's code called directly, every module, a few seconds each. The tests that start
# the program (CLI, MPI, docs, faults) go to `make test-asan-programs`, which CI runs after
# `make test`: under LeakSanitizer every process pays about 2 s at start and exit (the exact
# stack of each of Open MPI's thousands of start-up allocations, which the suppressions need:
# a shorter or faster unwind reported its losses as leaks), so those tests took 16 of the
# whole pass's 18 minutes, and `make test` is held under 15.
# Neither half runs the `install` tests: they fail under ASan, since the sanitized
# libpolypsf.so loads the ASan runtime into a consumer program built without it ("ASan
# runtime does not come first in initial library list"); they test packaging, not memory
# safety (and test_man_page only compares texts).
ASAN_IN_PROCESS := unit|physics|fuzz_replay|ci
build-asan: test-deps
	cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DPOLYPSF_SANITIZE=ON -DPOLYPSF_WERROR=ON >/dev/null
	cmake --build $(BUILD_ASAN) -j $(JOBS)

test-asan: build-asan
	cd $(BUILD_ASAN) && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS) \
	  -L '$(ASAN_IN_PROCESS)' -LE 'slow|slurm|install'

test-asan-programs: build-asan
	cd $(BUILD_ASAN) && $(SANITIZER_ENV) ctest --output-on-failure -j $(JOBS) \
	  -LE '$(ASAN_IN_PROCESS)|slow|slurm|install'


# A Release build with Debian's clang, warnings as errors (CI: a second compiler and
# optimisation level must build cleanly; the tests run once, in `make test`).
build-clang: deps
	@$(MAKE) --no-print-directory install-packages WANT="clang"
	cmake -S . -B $(BUILD_CLANG) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release -DPOLYPSF_WERROR=ON >/dev/null
	cmake --build $(BUILD_CLANG) -j $(JOBS)

# The libFuzzer targets (tests/fuzz/): their own build directory, the library compiled by
# clang with -fsanitize=fuzzer-no-link,address,undefined (the ordinary builds are untouched).
# Each target runs FUZZ_SECONDS seconds; any crash, leak, sanitizer report, input slower
# than 5 s or over 2 GiB fails the run, the input saved under $(BUILD_FUZZ)/fuzz-artifacts/.
fuzz: deps
	@$(MAKE) --no-print-directory install-packages WANT="$(FUZZ_PACKAGES)"
	cmake -S . -B $(BUILD_FUZZ) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPOLYPSF_FUZZ=ON -DPOLYPSF_BUILD_TESTS=OFF -DPOLYPSF_WERROR=ON >/dev/null
	cmake --build $(BUILD_FUZZ) -j $(JOBS) --target $(addprefix fuzz_,$(FUZZ_TARGETS))
	FUZZ_SEED=$(FUZZ_SEED) tests/fuzz/run_fuzz.sh $(BUILD_FUZZ) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

build: configure
	cmake --build $(BUILD) -j $(JOBS)

configure: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPOLYPSF_WERROR=$(WERROR) >/dev/null

# dpkg-buildpackage writes the package beside the source tree, so it builds a copy of the
# tree (without .git, build directories and out/) in $(DEB_OUT)/src: the .deb, .buildinfo and
# .changes land in $(DEB_OUT), and the repository's own build directories stay untouched.
deb: deps
	@$(MAKE) --no-print-directory install-packages WANT="$(DEB_PACKAGES)"
	rm -rf $(DEB_OUT)/src $(DEB_OUT)/polypsf[_-]* && mkdir -p $(DEB_OUT)/src
	tar --exclude='./.*' --exclude='./build*' --exclude=./out --exclude='./obj-*' -cf - . \
	  | tar -xf - -C $(DEB_OUT)/src
	cd $(DEB_OUT)/src && dpkg-buildpackage -us -uc -b
	rm -rf $(DEB_OUT)/src
	@deb="$$(realpath $(DEB_OUT)/polypsf_*.deb)" && echo "package: $$deb (install: apt-get install $$deb)"

# Installs only the packages that are missing: as root directly, otherwise through sudo;
# where neither works, prints the one command to run and stops.
deps:
	@$(MAKE) --no-print-directory install-packages WANT="$(PACKAGES)"

test-deps: deps
	@$(MAKE) --no-print-directory install-packages WANT="$(TEST_PACKAGES)"

install-packages:
	@missing=""; for p in $(WANT); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "polypsf: installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then sudo=""; \
	  elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; \
	  else echo "polypsf: cannot install packages (not root, no sudo). Run as root:"; \
	       echo "  apt-get update && apt-get install -y$$missing"; exit 1; fi; \
	  $$sudo apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$sudo apt-get install -y -qq --no-install-recommends $$missing \
	  || { echo "polypsf: package installation failed. Run as root:"; \
	       echo "  apt-get update && apt-get install -y$$missing"; exit 1; }; \
	fi

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_CLANG) $(BUILD_FUZZ) out
