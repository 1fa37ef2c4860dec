#!/usr/bin/env bash
# Create the peers' own virtual environments for benchmarks/bench_peers.py.
#
# The peers (optbinning, toad, scorecardpy) NEVER go into the library's environment (.venv): they pin
# or break things (scorecardpy and toad on pandas 3). Two environments are built:
#
#   $RC_PEERS_VENV      (default /tmp/rc-peers-venv)      current pandas (3.x), every peer we can install
#   $RC_PEERS_VENV_PD2  (default /tmp/rc-peers-venv-pd2)  the same peers with pandas<3, for the peers
#                                                          that fail on pandas 3
#
# bench_peers.py probes each peer in each environment (benchmarks/peers/peer_worker.py --mode probe) and runs it in the
# first environment where it works, recording the failure in the other one as an observed defect.
# Every install step is allowed to fail: the failure is written to $ENV/install-<name>.log and the
# benchmark reports it instead of a figure.
#
# Usage: bash benchmarks/peers/setup_peers.sh [python]     (python defaults to python3)
set -uo pipefail

PY="${1:-python3}"
VENV="${RC_PEERS_VENV:-/tmp/rc-peers-venv}"
VENV_PD2="${RC_PEERS_VENV_PD2:-/tmp/rc-peers-venv-pd2}"
PEERS=(optbinning toad scorecardpy)

make_env() {
    local env="$1" pandas_spec="$2"
    if [ ! -x "$env/bin/python" ]; then
        "$PY" -m venv "$env" || { echo "cannot create venv $env" >&2; return 1; }
    fi
    "$env/bin/python" -m pip install --quiet --upgrade pip >/dev/null 2>&1
    # Common ground first: the data format, process memory, and the pandas line of this environment.
    "$env/bin/python" -m pip install --quiet "$pandas_spec" "numpy" "pyarrow" "psutil" "scikit-learn" \
        >"$env/install-base.log" 2>&1 || echo "base install failed in $env (see $env/install-base.log)" >&2
    for peer in "${PEERS[@]}"; do
        # Keep this environment's pandas line: a peer that needs another one fails here, and says so.
        if "$env/bin/python" -m pip install --quiet "$peer" "$pandas_spec" >"$env/install-$peer.log" 2>&1; then
            echo "$env: installed $peer"
            rm -f "$env/install-$peer.failed"
        else
            echo "$env: FAILED to install $peer (see $env/install-$peer.log)" >&2
            touch "$env/install-$peer.failed"
        fi
    done
    "$env/bin/python" -m pip freeze >"$env/freeze.txt" 2>/dev/null
}

make_env "$VENV" "pandas>=3"
make_env "$VENV_PD2" "pandas>=2.2,<3"
echo "peer environments: $VENV $VENV_PD2"
