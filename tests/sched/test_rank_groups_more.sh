#!/usr/bin/env bash
# More FFTW-MPI rank groups (shared set-up: rank_groups_common.sh):
#   - two groups of 2 on 4 ranks, without a cube (the slices stay on the groups' first ranks
#     until the reduction scatters them): a 4-rank limit halfway between a single rank's need
#     and a group of 2's lets at most 3 single ranks compute, 2 groups of 2 all 4; only the
#     groups' first ranks (0, 2) appear in /provenance/tasks (which group takes which
#     wavelength depends on timing);
#   - a group across nodes: 2 ranks as 2 emulated nodes of 1 (POLYPSF_RANKS_PER_NODE=1,
#     src/sched/node_layout.c), a node limit that fits a rank of a group of 2 but not a rank
#     alone: one group of 2 across both nodes.
# About 8 s; 20-35 s under AddressSanitizer on a loaded 2-core machine.
set -u
exe=${POLYPSF_EXE:?POLYPSF_EXE must point to the polypsf program}
source "$(dirname "$0")/rank_groups_common.sh"

sed -e 's/cube: true/cube: false/' "$work/job.yaml" > "$work/nocube.yaml"
run_group 4 "$(limit_for 4 "$task" "$group2")" "2x2-no-cube" \
  "node 0: 2 group(s) of 2 rank(s) (FFTW-MPI, N = 2048)" "$work/nocube.yaml"
check "2x2-no-cube: /provenance/tasks names only the groups' first ranks (0, 2)" \
  '"$python" -c "import h5py, sys; t = h5py.File(sys.argv[1])[\"provenance/tasks\"][...]; sys.exit(not set(t[\"rank\"]) <= {0, 2})" "$work/2x2-no-cube.h5"'

# 2 ranks as 2 emulated nodes of 1 rank each: a node limit halfway between a rank of a group
# of 2 (fits) and a rank alone (does not), so only a group across both nodes computes.
mpi_extra=(-x POLYPSF_RANKS_PER_NODE=1)
run_group 2 "$(limit_for 1 "$task" "$group2")" "across-nodes" \
  "node 1: in group 0 of 2 rank(s) across 2 node(s) (FFTW-MPI, N = 2048)" "$work/job.yaml"
check "across-nodes: the log shows 2 (emulated) nodes" 'grep -q "node 1 (" "$work/across-nodes.log"'
finish
