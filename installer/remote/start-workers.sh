#!/usr/bin/env bash
# Starts one fedwb-worker on each host of a list, over ssh, and stops them again with --stop.
#
#   installer/remote/start-workers.sh HOSTS_FILE --connect tcp://COORDINATOR:5555 \
#       --server-key coordinator.pub --key-dir keys/ [--threads N] [-- EXTRA WORKER OPTIONS]
#   installer/remote/start-workers.sh HOSTS_FILE --stop
#
# HOSTS_FILE: one ssh destination per line ([user@]host); '#' starts a comment. Each host needs fedwb-worker
# on its PATH and the dataset files (or --dataset-path among the extra options). The coordinator's public key
# and the host's key pair (KEY_DIR/HOST.key, made with `fedwb-cli keys generate --out KEY_DIR --name HOST`)
# are copied to ~/.fedwb/ on the host; put every KEY_DIR/HOST.pub on the coordinator's --allow list. Workers
# run under nohup, log to ~/.fedwb/worker.log and keep reconnecting until stopped (or until a coordinator run
# with --stop-workers ends).
set -euo pipefail

usage() {
    sed -n '2,14p' "$0" >&2
    exit 2
}
[ $# -ge 2 ] || usage
hosts_file=$1
shift
[ -f "$hosts_file" ] || { echo "start-workers: $hosts_file: no such file" >&2; exit 2; }
mapfile -t hosts < <(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$hosts_file")
[ ${#hosts[@]} -gt 0 ] || { echo "start-workers: $hosts_file lists no host" >&2; exit 2; }

if [ "$1" = --stop ]; then
    for h in "${hosts[@]}"; do
        echo "start-workers: stopping the worker on $h"
        ssh -o BatchMode=yes "$h" 'test -f ~/.fedwb/worker.pid && kill -TERM "$(cat ~/.fedwb/worker.pid)" && rm -f ~/.fedwb/worker.pid' ||
            echo "start-workers: $h: no worker running" >&2
    done
    exit 0
fi

connect='' server_key='' key_dir='' threads='' extra=()
while [ $# -gt 0 ]; do
    case $1 in
    --connect) connect=$2; shift 2 ;;
    --server-key) server_key=$2; shift 2 ;;
    --key-dir) key_dir=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --) shift; extra=("$@"); break ;;
    *) echo "start-workers: unknown option $1" >&2; usage ;;
    esac
done
[ -n "$connect" ] || { echo "start-workers: --connect is required" >&2; exit 2; }
if [ -z "$server_key" ] || [ -z "$key_dir" ]; then
    echo "start-workers: --server-key and --key-dir are required (workers connect with CurveZMQ)" >&2
    exit 2
fi
[ -f "$server_key" ] || { echo "start-workers: --server-key $server_key: no such file" >&2; exit 2; }

failed=0
for h in "${hosts[@]}"; do
    name=${h#*@}
    key=$key_dir/$name.key
    if [ ! -f "$key" ]; then
        echo "start-workers: $h: no key pair $key (fedwb-cli keys generate --out $key_dir --name $name)" >&2
        failed=$((failed + 1))
        continue
    fi
    # Relative to ~/.fedwb, where the worker runs.
    args=(--connect "$connect" --server-key coordinator.pub --key worker.key --name "$name")
    [ -n "$threads" ] && args+=(--threads "$threads")
    args+=("${extra[@]}")
    quoted=$(printf ' %q' "${args[@]}")
    if ssh -o BatchMode=yes "$h" 'mkdir -p ~/.fedwb && chmod 700 ~/.fedwb' &&
        scp -q "$server_key" "$h:.fedwb/coordinator.pub" &&
        scp -q "$key" "$h:.fedwb/worker.key" &&
        ssh -o BatchMode=yes "$h" "chmod 600 ~/.fedwb/worker.key; cd ~/.fedwb && nohup fedwb-worker$quoted >>worker.log 2>&1 </dev/null & echo \$! > ~/.fedwb/worker.pid"; then
        echo "start-workers: started a worker on $h (log: $h:~/.fedwb/worker.log)"
    else
        echo "start-workers: $h: could not start the worker" >&2
        failed=$((failed + 1))
    fi
done
[ "$failed" -eq 0 ] || { echo "start-workers: $failed host(s) failed" >&2; exit 1; }
