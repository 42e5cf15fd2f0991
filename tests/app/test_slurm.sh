#!/usr/bin/env bash
# Integration test: a federation whose workers are a Slurm job. Starts a real single-node Slurm cluster of its
# own (munged, slurmctld and slurmd on free ports, every file in a temporary folder; the system's munge and
# Slurm configuration are not touched), runs `fedwb-cli run --executor remote` as the coordinator (CurveZMQ
# keys and an allow-list), submits installer/remote/fedwb-workers.sbatch with sbatch (two tasks: two
# fedwb-worker processes) and checks that
#   - the run and the job both end cleanly (the coordinator's --stop-workers ends the job),
#   - every client of every round was trained by one of the job's two workers (extra.trained_by), both took
#     part, and
#   - the final accuracy and loss and the whole export (every round's and every client's accuracy and loss)
#     equal a local run of the same workspace exactly, but for times and who trained whom.
# Everything it started is stopped on exit, also on failure (the daemons' logs are printed then).
#
#   test_slurm.sh FEDWB_CLI FEDWB_WORKER SOURCE_DIR
#
# Exit codes: 0 passed, 1 failed, 77 skipped (slurm-wlm or munge not installed, not root, or no cgroup
# filesystem for slurmd).
# FEDWB_KEEP_TMP=1 keeps the temporary folder (configs, logs, stores) for a look afterwards.
set -euo pipefail
readonly kSkip=77
if [ $# -ne 3 ]; then
    echo "usage: $0 FEDWB_CLI FEDWB_WORKER SOURCE_DIR" >&2
    exit 1
fi
cli=$(realpath "$1") worker=$(realpath "$2") src=$(realpath "$3")
PATH=$PATH:/usr/sbin:/sbin

missing=()
for tool in munged munge slurmctld slurmd sbatch srun sinfo squeue scontrol scancel; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "SKIPPED: slurm-wlm/munge not installed (apt-get install slurm-wlm munge): no ${missing[*]}"
    exit $kSkip
fi

if [ "$(id -u)" != 0 ]; then # slurmd starts job steps as their user: only root can
    echo "SKIPPED: the Slurm test runs its own slurmd, which needs root (run ctest as root)"
    exit $kSkip
fi

# Debian's slurmd (22.05) sets up its cgroup plugin whatever slurm.conf says and exits ("No filesystem
# mounted on /sys/fs/cgroup") where none is mounted, as in some containers: nothing to configure around.
if ! grep -qs ' /sys/fs/cgroup' /proc/mounts; then
    echo "SKIPPED: slurmd needs a cgroup filesystem on /sys/fs/cgroup and this machine has none mounted"
    exit $kSkip
fi

# Run inside a Slurm job or with Slurm settings in the environment, the commands below would use those.
while read -r v; do unset "$v"; done < <(compgen -e | grep -E '^(SLURM|SBATCH|SRUN|SALLOC)_' || true)

started=$SECONDS
say() { echo "test_slurm [$((SECONDS - started)) s]: $*"; }

tmp=$(mktemp -d /tmp/fedwb-slurm.XXXXXX)
# munged wants every folder above its socket searchable by all, and its key readable by it alone.
chmod 755 "$tmp"
mkdir -m 755 "$tmp/run"
mkdir -m 700 "$tmp/munge"
mkdir "$tmp/state" "$tmp/spool" "$tmp/keys" "$tmp/logs"

pids=()  # daemons and the coordinator, in start order
job=''
passed=0
dump() { # every log, for a failure
    for f in "$tmp"/logs/* "$tmp"/slurmctld.log "$tmp"/slurmd.log "$tmp"/job-*.log; do
        [ -f "$f" ] || continue
        echo "----- $f (last 60 lines)"
        tail -n 60 "$f"
    done
}
cleanup() {
    local code=$?
    set +e
    if [ -n "$job" ]; then
        scancel "$job" 2>/dev/null
        for _ in $(seq 50); do # its steps end before slurmd goes
            [ -z "$(squeue -h -j "$job" 2>/dev/null)" ] && break
            sleep 0.2
        done
    fi
    local i
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do # the reverse order: slurmd, slurmctld, munged
        kill -TERM "${pids[i]}" 2>/dev/null
    done
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        for _ in $(seq 50); do
            kill -0 "${pids[i]}" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "${pids[i]}" 2>/dev/null
        wait "${pids[i]}" 2>/dev/null
    done
    if [ "$passed" != 1 ]; then
        echo "test_slurm: FAILED (exit $code); the logs:"
        dump
        [ "$code" = 0 ] && code=1
    fi
    if [ "${FEDWB_KEEP_TMP:-0}" = 1 ]; then
        echo "test_slurm: kept $tmp (FEDWB_KEEP_TMP=1)"
    else
        rm -rf "$tmp"
    fi
    exit "$code"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
fail() {
    echo "test_slurm: FAIL: $*" >&2
    exit 1
}

# A free TCP port on loopback (nothing answers on it), not one of `taken`.
free_port() {
    local port
    for _ in $(seq 200); do
        port=$((20000 + RANDOM % 40000))
        [[ " $* " == *" $port "* ]] && continue
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    fail "no free port found"
}

# --- munge: its own key, socket, pid, log and seed files ---------------------------------------------------
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 600 "$tmp/munge/munge.key"
socket=$tmp/run/munge.socket
# munged refuses a socket below a folder that is not searchable by all, "/" included: in a container root
# "/" may be 0700. Where that is so, --force turns the refusal into a warning (only this test's own munged,
# whose key and socket live in the test's private folder, is affected).
munge_force=()
for dir in / "$tmp" "$tmp/run"; do
    [ "$(( 0$(stat -c %a "$dir") & 01 ))" -eq 1 ] || munge_force=(--force)
done
munged -F "${munge_force[@]}" --key-file="$tmp/munge/munge.key" --socket="$socket" \
    --pid-file="$tmp/run/munged.pid" --log-file="$tmp/logs/munged.log" --seed-file="$tmp/munge/munged.seed" \
    >"$tmp/logs/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    [ -S "$socket" ] && break
    kill -0 "${pids[0]}" 2>/dev/null || fail "munged exited at start"
    sleep 0.1
done
munge -n -S "$socket" | unmunge -S "$socket" >/dev/null || fail "munged does not answer on $socket"
say "munged up on $socket"

# --- Slurm: one node (this host, 2 CPUs), no cgroups, no accounting, on ports of its own ---------------------
# Only loopback addresses: the controller and the node are 127.0.0.1, so no name is looked up. The node
# reports the configured 2 CPUs whatever the machine has (config_overrides), so a job of 2 tasks always fits.
node=$(hostname -s)
ctld_port=$(free_port)
slurmd_port=$(free_port "$ctld_port")
export SLURM_CONF=$tmp/slurm.conf # every Slurm command below (and in the job) reads this one
: >"$tmp/plugstack.conf"
cat >"$SLURM_CONF" <<EOF
ClusterName=fedwbtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/slurmctld.log
SlurmdLogFile=$tmp/slurmd.log
SlurmctldDebug=info
SlurmdDebug=info
PlugStackConfig=$tmp/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
ReturnToService=2
SlurmdParameters=config_overrides
MailProg=/bin/true
NodeName=$node NodeAddr=127.0.0.1 CPUs=2 State=UNKNOWN
PartitionName=fedwb Nodes=$node Default=YES MaxTime=10 State=UP
EOF
# Read only if a cgroup plugin were configured; written so that none of the host's is picked up.
printf 'CgroupAutomount=no\nConstrainCores=no\nConstrainRAMSpace=no\n' >"$tmp/cgroup.conf"

slurmctld -D -c -f "$SLURM_CONF" >"$tmp/logs/slurmctld.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    scontrol ping 2>/dev/null | grep -q 'is UP' && break
    kill -0 "${pids[1]}" 2>/dev/null || fail "slurmctld exited at start"
    sleep 0.1
done
scontrol ping | grep -q 'is UP' || fail "slurmctld does not answer on port $ctld_port"
slurmd -D -f "$SLURM_CONF" -N "$node" >"$tmp/logs/slurmd.out" 2>&1 &
pids+=($!)
state=''
for _ in $(seq 300); do
    state=$(sinfo -h -n "$node" -o %T 2>/dev/null || true)
    [ "$state" = idle ] && break
    kill -0 "${pids[2]}" 2>/dev/null || fail "slurmd exited at start"
    sleep 0.1
done
[ "$state" = idle ] || fail "node $node is '$state', not idle, after 30 s"
say "Slurm up: slurmctld on port $ctld_port, slurmd on $slurmd_port, node $node idle"

# --- the federation ----------------------------------------------------------------------------------------
data=${FEDWB_TEST_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
[ -f "$data/train-images-idx3-ubyte.gz" ] || fail "no Fashion-MNIST in $data (package dataset-fashion-mnist)"
ws=$tmp/slurm.fedwb
cat >"$ws" <<EOF
{"format": 1, "name": "slurm test",
 "dataset": {"name": "fashion-mnist", "path": "$data", "train_limit": 3000, "test_limit": 500},
 "partition": {"name": "dirichlet", "alpha": 1, "min_samples": 20},
 "clients": {"count": 8, "per_round": 4},
 "model": {"name": "cnn-lenet5"},
 "training": {"batch_size": 32, "lr": 0.05, "momentum": 0.9},
 "run": {"rounds": 3, "seed": 11, "threads": 1}}
EOF

"$cli" run "$ws" --db "$tmp/local.sqlite" --json >"$tmp/logs/local.json" 2>"$tmp/logs/local.err" ||
    fail "the local reference run failed"
say "local reference run: $(tail -n 1 "$tmp/logs/local.json")"

"$cli" keys generate --out "$tmp/keys" --name coordinator >/dev/null
"$cli" keys generate --out "$tmp/keys" --name worker >/dev/null
cp "$tmp/keys/worker.pub" "$tmp/keys/allow"

"$cli" run "$ws" --db "$tmp/remote.sqlite" --json --executor remote --bind 'tcp://127.0.0.1:*' \
    --key "$tmp/keys/coordinator.key" --allow "$tmp/keys/allow" --min-workers 2 --stop-workers \
    >"$tmp/logs/coordinator.json" 2>"$tmp/logs/coordinator.err" &
coordinator=$!
pids+=("$coordinator")
endpoint=''
for _ in $(seq 300); do
    endpoint=$(sed -n 's/^coordinator listening on \(tcp:\/\/[0-9.]*:[0-9]*\) (CurveZMQ)$/\1/p' \
        "$tmp/logs/coordinator.err")
    [ -n "$endpoint" ] && break
    kill -0 "$coordinator" 2>/dev/null || fail "the coordinator exited before listening"
    sleep 0.1
done
[ -n "$endpoint" ] || fail "the coordinator does not listen after 30 s"
say "coordinator listening on $endpoint"

job=$(FEDWB_CONNECT=$endpoint FEDWB_KEYS=$tmp/keys FEDWB_WORKER=$worker \
    sbatch --parsable --ntasks=2 --cpus-per-task=1 --time=5 --chdir="$tmp" --output="$tmp/job-%j.log" \
    "$src/installer/remote/fedwb-workers.sbatch")
job=${job%%;*}
jobid=$job
say "workers submitted: job $job"

job_state() { scontrol show job "$1" 2>/dev/null | sed -n 's/.*JobState=\([A-Z_]*\).*/\1/p'; }
code=''
for i in $(seq 1800); do # 180 s
    if ! kill -0 "$coordinator" 2>/dev/null; then
        wait "$coordinator" && code=0 || code=$?
        break
    fi
    if [ $((i % 10)) = 0 ]; then # a job that ends before the run does cannot finish it
        state=$(job_state "$job")
        case $state in PENDING | CONFIGURING | RUNNING | COMPLETING | '') ;; *)
            sleep 1 # the run may just have ended
            kill -0 "$coordinator" 2>/dev/null && fail "job $job is $state while the run waits for it" ;;
        esac
    fi
    sleep 0.1
done
[ -n "$code" ] || fail "the federation did not end within 180 s"
[ "$code" = 0 ] || fail "the coordinator exited with $code"
say "run finished: $(tail -n 1 "$tmp/logs/coordinator.json")"

# The workers were told to stop: the job ends by itself, and cleanly.
job_state=''
for _ in $(seq 300); do
    job_state=$(job_state "$job")
    [ "$job_state" = COMPLETED ] && break
    case $job_state in FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY) break ;; esac
    sleep 0.1
done
[ "$job_state" = COMPLETED ] || fail "job $job is '$job_state', not COMPLETED, after the run ended"
scontrol show job "$job" | grep -q 'ExitCode=0:0' || fail "job $job did not exit 0: $(scontrol show job "$job")"
grep -q 'told to stop' "$tmp/job-$job.log" || fail "the workers of job $job were not told to stop"
job=''
say "job completed"

# --- the checks ----------------------------------------------------------------------------------------------
last_json() { tail -n 1 "$1"; }
field() { # a top-level number of a compact JSON line, as printed
    sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1"
}
local_line=$(last_json "$tmp/logs/local.json")
remote_line=$(last_json "$tmp/logs/coordinator.json")
for key in status rounds final_test_accuracy final_test_loss; do
    l=$(field "$local_line" "$key") r=$(field "$remote_line" "$key")
    [ -n "$l" ] || fail "the local run printed no $key: $local_line"
    [ "$l" = "$r" ] || fail "$key: the Slurm run gives $r, the local run $l"
done
[ "$(field "$remote_line" status)" = '"finished"' ] || fail "the Slurm run did not finish: $remote_line"

"$cli" export --db "$tmp/local.sqlite" --run 1 --format json --output "$tmp/local-export.json" >/dev/null
"$cli" export --db "$tmp/remote.sqlite" --run 1 --format json --output "$tmp/remote-export.json" >/dev/null
# The whole export, every round's and every client's accuracy and loss included (printed shortest-exact), is
# the same but for the times and the record of who trained whom.
comparable() {
    sed -e '/"trained_by": {/,/}/d' -e '/"\(wall_seconds\|round_seconds\|started_at\|ended_at\)":/d' "$1"
}
comparable "$tmp/local-export.json" >"$tmp/local-comparable"
comparable "$tmp/remote-export.json" >"$tmp/remote-comparable"
[ "$(grep -c '"test_loss": [0-9]' "$tmp/local-comparable")" = 3 ] ||
    fail "the local export shows no test loss for each of the 3 rounds"
[ "$(grep -c '"client_train_loss": {' "$tmp/local-comparable")" = 3 ] ||
    fail "the local export shows no per-client training losses"
diff "$tmp/local-comparable" "$tmp/remote-comparable" >"$tmp/logs/export.diff" ||
    fail "the Slurm run's export differs from the local run's: $(head -n 40 "$tmp/logs/export.diff")"

# Which worker trained which client: 3 rounds of 4 clients, all by the job's two workers, both of them.
trained=$(tr -d ' \n' <"$tmp/remote-export.json" | grep -oE '"trained_by":\{[^}]*\}' || true)
[ "$(grep -c . <<<"$trained")" = 3 ] || fail "trained_by is not recorded for each of the 3 rounds: $trained"
names=$(grep -oE ':"[^"]*"' <<<"$trained" | tr -d ':"')
[ "$(grep -c . <<<"$names")" = 12 ] || fail "trained_by does not name 4 workers a round: $trained"
for rank in 0 1; do
    grep -qx "$node-$jobid-$rank" <<<"$names" || fail "worker rank $rank of the job trained no client: $trained"
done
others=$(grep -vxE "$node-$jobid-[01]" <<<"$names" || true)
[ -z "$others" ] || fail "clients trained by workers outside the job: $others"

passed=1
say "PASSED: 3 rounds trained by the Slurm job's 2 workers, equal to the local run ($(field "$remote_line" final_test_accuracy) accuracy)"
