#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, in a temporary folder, that runs deploy/slurm/atlas.sbatch as it is and
# checks what it promises:
#   1. a 4-task array renders a small layer2 atlas and the merge job its task 0 queues joins the shards: the merged
#      atlas must be what one unsharded run of the same settings writes (every channel image and sidecar byte for
#      byte; manifest.json and index.html byte for byte except their list of shards);
#   2. the same with tasks 1 and 2 cancelled after their first channel: the merge stays pending, task 1 is requeued
#      (scontrol requeue) and task 2 resubmitted (SHARDS=4 sbatch --array=2), both resume keeping the channels they
#      had finished, and the merge then completes, identical again.
# The last line says whether the merged atlases are identical; the exit code is 0 only if both are.
#
#   sudo deploy/slurm/local-cluster.sh           # about 3 minutes on 2 cores, most of it rendering
#   sudo deploy/slurm/local-cluster.sh --hold    # only start the cluster, print how to use it; Ctrl+C stops it
#
# Needs root (slurmd starts the jobs), Debian's slurm-wlm and munge (installed with apt when missing) and the kit's
# Release build (built when missing; or set RESEARCHKIT to the command). Nothing outside the temporary folder is
# configured; every daemon and job it started is stopped on exit, failure and Ctrl+C. KEEP=1 keeps the folder,
# WAIT_LIMIT (seconds, default 900) bounds every wait.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
recipe=$here/atlas.sbatch
hold=false
case "${1:-}" in
  "") ;;
  --hold) hold=true ;;
  *) echo "usage: $0 [--hold]" >&2; exit 2 ;;
esac

# The atlas both runs render, through the variables atlas.sbatch reads; small enough for 2 cores, with 4 channels
# per shard so that a task can be cancelled between its channels.
export LAYER=${LAYER:-layer2} CHANNELS=${CHANNELS:-0-15} PRIOR=${PRIOR:-lucid} SIZE=${SIZE:-64} BATCH=${BATCH:-1} \
  DEVICE=${DEVICE:-cpu} EXTRA=${EXTRA:---steps 16}
shards=${SHARDS:-4}
unset SHARDS                   # the array's size sets it for atlas.sbatch
limit=${WAIT_LIMIT:-900}       # seconds any one wait may take
task_options=(--cpus-per-task=1 --mem=1G --time=00:30:00)   # the recipe asks for 8 CPUs and 8G: a real node's size

started=$SECONDS
say() { echo "[local-cluster $((SECONDS - started)) s] $*"; }
stopped_by="an error"
fail() { stopped_by="error: $*"; echo "[local-cluster $((SECONDS - started)) s] error: $*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || fail "run as root (sudo $0): slurmd starts the jobs, and the cluster runs them as root"

# --- packages and the kit -------------------------------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
  say "installing slurm-wlm and munge with apt"
  export DEBIAN_FRONTEND=noninteractive
  apt=(apt-get -o DPkg::Lock::Timeout=900 -y -qq --no-install-recommends)
  "${apt[@]}" install slurm-wlm munge >/dev/null || { apt-get -o DPkg::Lock::Timeout=900 update -qq && "${apt[@]}" install slurm-wlm munge >/dev/null; } \
    || fail "apt-get could not install slurm-wlm and munge"
fi

if [ -z "${RESEARCHKIT:-}" ]; then
  cli=$repo/src/ResearchKit.Cli/bin/Release/net10.0/ResearchKit.Cli.dll
  if [ ! -f "$cli" ]; then
    say "building the kit (Release)"
    dotnet build "$repo/src/ResearchKit.Cli" -c Release -v quiet -nologo >/dev/null || fail "dotnet build of src/ResearchKit.Cli failed"
  fi
  RESEARCHKIT="dotnet $cli"
fi
export RESEARCHKIT

# --- the cluster's folder and ports ---------------------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rk-slurm.XXXXXX")
chmod 711 "$tmp"                # munged wants every folder above its socket searchable by all
mkdir -p "$tmp"/{munge,etc,state,spool,run,log}
conf=$tmp/etc/slurm.conf
declare -A daemon_pid=()
slurm() { SLURM_CONF=$conf "$@"; }   # only the daemons, clients and jobs of this cluster see its configuration

# Every process that carries this cluster's SLURM_CONF: its daemons, clients and the jobs they started.
ours() {
  local environ
  for environ in $(grep -lzxF "SLURM_CONF=$conf" /proc/[0-9]*/environ 2>/dev/null); do
    environ=${environ#/proc/}
    echo "${environ%/environ}"
  done
}

stop_cluster() {
  if [ -n "${daemon_pid[slurmctld]:-}" ] && kill -0 "${daemon_pid[slurmctld]}" 2>/dev/null; then
    local jobs
    # A slurmctld that is shutting down (Ctrl+C reaches it too) does not answer: ask briefly.
    jobs=$(slurm timeout 3 squeue -h -o %A 2>/dev/null | sort -u)
    if [ -n "$jobs" ]; then
      say "cancelling the cluster's jobs: $(echo $jobs)"
      slurm timeout 3 scancel $jobs 2>/dev/null
      for _ in $(seq 1 20); do [ -z "$(slurm timeout 3 squeue -h -o %A 2>/dev/null)" ] && break; sleep 0.5; done
    fi
  fi
  [ -n "${reference_pid:-}" ] && kill -TERM "$reference_pid" 2>/dev/null
  local name pid since stopped=()
  for name in slurmd slurmctld munged; do
    pid=${daemon_pid[$name]:-}
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || continue
    since=$SECONDS
    kill -TERM "$pid"
    for _ in $(seq 1 80); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$pid" 2>/dev/null && { echo "$name (pid $pid) ignored SIGTERM for 20 s; killing it" >&2; kill -KILL "$pid"; }
    wait "$pid" 2>/dev/null
    stopped+=("$name ($((SECONDS - since)) s)")
  done
  local left
  left=$(ours)
  if [ -n "$left" ]; then
    echo "killing processes of this cluster still running: $(echo $left)" >&2
    kill -KILL $left 2>/dev/null
  fi
  if [ "${KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
  say "stopped the daemons it started: ${stopped[*]:-none left running}"
}
on_exit() {
  local code=$?
  trap '' INT TERM
  set +e
  stop_cluster
  $hold || say "merged atlas identical to the unsharded run: not shown, the check stopped early (${stopped_by:0:200})"
  exit "$code"
}
trap on_exit EXIT
trap 'stopped_by=interrupted; echo "interrupted" >&2; exit 130' INT
trap 'stopped_by=terminated; echo "terminated" >&2; exit 143' TERM

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# A port in 20000-39999 that nothing listens on, other than those given.
free_port() {
  local port
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 20000))
    [[ " $* " != *" $port "* ]] && port_free "$port" && { echo "$port"; return; }
  done
  fail "found no free TCP port in 20000-39999"
}
ctld_port=$(free_port)
slurmd_port=$(free_port "$ctld_port")

# Waits until "$@" succeeds, at most $limit seconds (or $timeout if set); $what names it in the error.
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + ${timeout:-$limit}))
  until "$@"; do
    [ $SECONDS -lt $deadline ] || fail "timed out after ${timeout:-$limit} s waiting for $what"
    sleep 0.5
  done
}

# A daemon that has exited: the end of its log, and the setting to change as far as the log tells.
died() {
  local name=$1 log=$2 hint
  case "$(tail -n 30 "$log" 2>/dev/null)" in
    *cgroup*) hint="It wants cgroups: $tmp/etc/cgroup.conf sets CgroupPlugin=cgroup/v1, which Slurm 22.05 loads without a cgroup hierarchy; on another Slurm version set CgroupPlugin there to one it accepts (23.11 and later: disabled)." ;;
    *[Pp]ermission*|*inaccessible*|*"No such file"*) hint="A folder of $tmp is not usable: check that ${TMPDIR:-/tmp} lets root create folders there and that every folder above it is searchable by all (munged checks that for its socket)." ;;
    *"Address already in use"*) hint="Its port was taken after it was checked (SlurmctldPort $ctld_port, SlurmdPort $slurmd_port): run again." ;;
    *CPUs*|*RealMemory*|*Procs*) hint="The NodeName line of $conf does not fit this machine: lower CPUs= or RealMemory= (slurmd -C shows what it finds)." ;;
    *auth/munge*|*"Munge"*) hint="It cannot use munged's socket $socket: see $tmp/log/munged.log." ;;
    *) hint="The log above tells why." ;;
  esac
  echo "---- last lines of $log" >&2
  tail -n 25 "$log" >&2 || true
  echo "----" >&2
  fail "$name exited while starting. $hint"
}
alive() { kill -0 "${daemon_pid[$1]}" 2>/dev/null; }

# --- munge ----------------------------------------------------------------------------------------------------------
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 400 "$tmp/munge/munge.key"
socket=$tmp/munge/munge.socket
munged --foreground --key-file="$tmp/munge/munge.key" --socket="$socket" --pid-file="$tmp/run/munged.pid" \
  --seed-file="$tmp/munge/munge.seed" --log-file="$tmp/log/munged.log" >"$tmp/log/munged.out" 2>&1 &
daemon_pid[munged]=$!
munge_ready() {
  alive munged || died munged "$tmp/log/munged.out"
  munge -n -S "$socket" 2>/dev/null | unmunge -S "$socket" >/dev/null 2>&1
}
timeout=20 wait_for "munged to answer on $socket" munge_ready

# --- slurm.conf: one node with this machine's CPUs and memory, one partition, no cgroups, no accounting -------------
host=$(hostname -s)
cpus=$(nproc)
memory=$(( $(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo) - 512 ))
cat >"$conf" <<EOF
# Written by deploy/slurm/local-cluster.sh; everything lives in $tmp.
ClusterName=rklocal
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CryptoType=crypto/munge
# No cgroups: processes are tracked by their parent, tasks are not bound to cores.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
KillWait=5
MinJobAge=600
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/run/slurmctld.pid
SlurmdPidFile=$tmp/run/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

# slurmd 22.05 loads a cgroup plugin even when nothing uses cgroups, and stops if it cannot: autodetect fails where
# there is no cgroup hierarchy or only v2 without systemd; cgroup/v1 then loads without touching one (tried with
# none, v2 only, v1). Slurm reads cgroup.conf from slurm.conf's folder, so the host's is not used.
echo "CgroupPlugin=cgroup/v1" >"$tmp/etc/cgroup.conf"

# --- slurmctld and slurmd -------------------------------------------------------------------------------------------
SLURM_CONF=$conf slurmctld -D -f "$conf" >"$tmp/log/slurmctld.out" 2>&1 &
daemon_pid[slurmctld]=$!
ctld_ready() {
  alive slurmctld || died slurmctld "$tmp/log/slurmctld.log"
  [[ $(slurm scontrol ping 2>/dev/null) == *"is UP"* ]]
}
timeout=30 wait_for "slurmctld to answer on port $ctld_port" ctld_ready

SLURM_CONF=$conf slurmd -D -f "$conf" >"$tmp/log/slurmd.out" 2>&1 &
daemon_pid[slurmd]=$!
node_idle() {
  alive slurmd || died slurmd "$tmp/log/slurmd.log"
  local state
  state=$(slurm sinfo -h -n "$host" -o %T 2>/dev/null)
  case "$state" in
    idle) return 0 ;;
    drain*|down*|inval*) fail "node $host is $state: $(slurm scontrol show node "$host" | grep -o 'Reason=.*'); the NodeName line of $conf does not fit this machine (slurmd -C shows what it found)" ;;
  esac
  return 1
}
timeout=60 wait_for "node $host to be idle" node_idle
say "one-node cluster up: $host, $cpus CPUs, $memory MiB, slurmctld on port $ctld_port, slurmd on $slurmd_port ($tmp)"

if $hold; then
  cat <<EOF
Use it from another shell (as root):
  export SLURM_CONF=$conf
  cd <a folder>
  RESEARCHKIT="$RESEARCHKIT" LAYER=$LAYER CHANNELS=$CHANNELS SIZE=$SIZE EXTRA="$EXTRA" \\
    sbatch --array=0-$((shards - 1)) ${task_options[*]} $recipe
  squeue; scontrol show job <id>
Ctrl+C here stops the cluster and its jobs.
EOF
  while true; do sleep 1; done
fi

# --- helpers over the job states (no accounting database: scontrol knows jobs for MinJobAge seconds) -----------------
states() { slurm scontrol -o show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort | uniq -c | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $1, tolower($2) }'; }
field() { slurm scontrol -o show job "$1" 2>/dev/null | grep -o "$2=[^ ]*" | awk -F= 'NR == 1 { print $2 }'; }
finished() {
  local jobs
  jobs=$(slurm scontrol -o show job "$1" 2>/dev/null) || return 1
  [[ -n $jobs && ! $jobs =~ JobState=(PENDING|RUNNING|CONFIGURING|COMPLETING|REQUEUED|SUSPENDED|RESIZING) ]]
}
merge_job() { slurm squeue -h -n atlas-merge -o "%A %E" | awk -v array="$1" '!found && $2 ~ "afterok:" array "_" { print $1; found = 1 }'; }
merge_queued() { [ -n "$(merge_job "$1")" ]; }

# Submits the recipe unchanged as a $shards-task array from $1; prints the array's job id.
submit() {
  (cd "$1" && slurm sbatch --parsable --array=0-$((shards - 1)) "${task_options[@]}" "$recipe") | cut -d';' -f1
}

# The merged atlas against the unsharded run: every channel file byte for byte; manifest.json and index.html byte for
# byte once their list of shards (0/1 there, 0/n..n-1/n here) is set aside, and that list checked to be complete.
without_shards() { perl -0pe 's/"shards": \[[^\]]*\]/"shards": [..]/g; s/; shards [^.<]*\. /; shards ... /g' "$1"; }
compare() {
  local expected=$1 actual=$2 name differ=0 files=0
  [ -f "$actual/manifest.json" ] || { echo "$actual has no manifest.json"; return 1; }
  if [ "$(cd "$expected" && ls channel-* | sort)" != "$(cd "$actual" && ls channel-* | sort)" ]; then
    echo "the merged atlas has other channel files than the unsharded run:"
    diff <(cd "$expected" && ls channel-*) <(cd "$actual" && ls channel-*) | head -n 10
    return 1
  fi
  for name in $(cd "$expected" && ls channel-*); do
    files=$((files + 1))
    cmp -s "$expected/$name" "$actual/$name" || { echo "$name differs"; differ=1; }
  done
  for name in manifest.json index.html; do
    cmp -s <(without_shards "$expected/$name") <(without_shards "$actual/$name") || { echo "$name differs beyond its list of shards"; differ=1; }
  done
  local want got
  want=$(for i in $(seq 0 $((shards - 1))); do printf '"%s/%s"\n' "$i" "$shards"; done)
  got=$(perl -0ne 'print "$1\n" while /"shards": \[([^\]]*)\]/g' "$actual/manifest.json" | grep -o '"[0-9]*/[0-9]*"')
  [ "$want" = "$got" ] || { echo "the merged manifest lists shards $(echo $got), not all $shards"; differ=1; }
  [ $differ = 0 ] && echo "identical: $files channel files byte for byte, manifest.json and index.html byte for byte but for their list of shards"
  return $differ
}

# --- the unsharded reference, rendered beside run 1 --------------------------------------------------------------------
reference=$tmp/reference
say "rendering the unsharded reference: atlas --layer $LAYER --channels $CHANNELS --prior $PRIOR --size $SIZE --batch $BATCH --device $DEVICE $EXTRA"
# The tasks get one CPU each, so OMP_NUM_THREADS=1 (atlas.sbatch sets it from --cpus-per-task); the reference too.
OMP_NUM_THREADS=1 $RESEARCHKIT atlas --layer "$LAYER" --channels "$CHANNELS" --prior "$PRIOR" --size "$SIZE" --batch "$BATCH" \
  --device "$DEVICE" $EXTRA --out "$reference" >"$tmp/log/reference.log" 2>&1 &
reference_pid=$!
results=()

# --- 1. the array and its merge ---------------------------------------------------------------------------------------
run=$tmp/clean
mkdir -p "$run"
array=$(submit "$run")
say "run 1: submitted $recipe as array $array (--array=0-$((shards - 1)) ${task_options[*]})"
wait_for "task 0 of $array to queue the merge job" merge_queued "$array"
merge=$(merge_job "$array")
say "run 1: task 0 queued merge job $merge (afterok:$array)"
wait_for "array $array to finish" finished "$array"
say "run 1: array $array: $(states "$array")"
[ "$(states "$array")" = "$shards completed" ] || { tail -n 5 "$run"/atlas-*.log >&2; fail "run 1: not every task completed"; }
wait_for "merge job $merge to finish" finished "$merge"
[ "$(field "$merge" JobState)" = COMPLETED ] || { cat "$run"/atlas-merge-*.log >&2; fail "run 1: merge job $merge ended $(field "$merge" JobState)"; }
say "run 1: merge job $merge completed"
wait "$reference_pid" || { tail -n 20 "$tmp/log/reference.log" >&2; fail "the unsharded reference run failed (log above)"; }
reference_pid=
if report=$(compare "$reference" "$run/atlas"); then results+=(identical); else results+=(different); fi
say "run 1: $report"

# --- 2. two tasks cancelled mid-render; one requeued, one resubmitted; both resume ------------------------------------
run=$tmp/recovery
mkdir -p "$run"
array=$(submit "$run")
say "run 2: submitted array $array; tasks 1 and 2 will be cancelled after their first channel"
wait_for "task 0 of $array to queue the merge job" merge_queued "$array"
merge=$(merge_job "$array")
declare -A kept=()
cancel_after_first_channel() {
  local task=$1
  first_channel() { compgen -G "$run/atlas-$task/channel-*.json" >/dev/null; }
  wait_for "task $task to write its first channel" first_channel
  slurm scancel "${array}_$task"
  wait_for "task $task to end" finished "${array}_$task"
  [ "$(field "${array}_$task" JobState)" = CANCELLED ] && [ ! -f "$run/atlas-$task/manifest.json" ] \
    || fail "run 2: task $task finished all its channels before the cancel reached it ($(field "${array}_$task" JobState)); nothing to resume. Give it more channels (CHANNELS) or steps (EXTRA)."
  kept[$task]=$(cd "$run/atlas-$task" && ls channel-*.png | wc -l)
  say "run 2: task $task cancelled with ${kept[$task]} channel(s) on disk"
}
cancel_after_first_channel 1
cancel_after_first_channel 2
wait_for "the other tasks of $array to finish" finished "$array"
say "run 2: array $array: $(states "$array")"
pending_never_satisfied() { [ "$(field "$merge" Reason)" = DependencyNeverSatisfied ]; }
timeout=30 wait_for "merge job $merge to report its failed dependency" pending_never_satisfied
[ "$(field "$merge" JobState)" = PENDING ] || fail "run 2: merge job $merge is $(field "$merge" JobState), not pending"
say "run 2: merge job $merge is pending (DependencyNeverSatisfied)"

touch "$tmp/run/cancelled"
# A requeued job waits about two minutes (its BeginTime) before it may start again; StartTime=now skips that.
slurm scontrol requeue "${array}_1"
slurm scontrol update JobId="${array}_1" StartTime=now
say "run 2: requeued task 1 (scontrol requeue ${array}_1)"
again=$(cd "$run" && SHARDS=$shards slurm sbatch --parsable --array=2 "${task_options[@]}" "$recipe" | cut -d';' -f1)
say "run 2: resubmitted task 2 as array $again (SHARDS=$shards sbatch --array=2)"
for job in "${array}_1" "${again}_2"; do
  wait_for "$job to finish" finished "$job"
  [ "$(field "$job" JobState)" = COMPLETED ] || { tail -n 5 "$run"/atlas-"${job}".log >&2; fail "run 2: $job ended $(field "$job" JobState)"; }
done
for task in 1 2; do
  untouched=$(find "$run/atlas-$task" -name 'channel-*.png' ! -newer "$tmp/run/cancelled" | wc -l)
  [ "$untouched" = "${kept[$task]}" ] || fail "run 2: task $task rendered again channels it had finished (${untouched} of ${kept[$task]} untouched)"
done
say "run 2: both completed, resuming: the ${kept[1]} and ${kept[2]} channel(s) finished before the cancel were kept untouched"
wait_for "merge job $merge to finish" finished "$merge"
[ "$(field "$merge" JobState)" = COMPLETED ] || { cat "$run"/atlas-merge-*.log >&2; fail "run 2: merge job $merge ended $(field "$merge" JobState) ($(field "$merge" Reason))"; }
say "run 2: merge job $merge completed, re-armed by the resumed tasks to afterok:$(grep -h 'now waits for' "$run"/atlas-*.log | sed 's/.*now waits for //' | sort -u | paste -sd' ')"
if report=$(compare "$reference" "$run/atlas"); then results+=(identical); else results+=(different); fi
say "run 2: $report"

# --- verdict ----------------------------------------------------------------------------------------------------------
if [ "${results[*]}" = "identical identical" ]; then
  verdict="merged atlas identical to the unsharded run: yes (run 1, and run 2 after cancelled tasks were requeued and resubmitted)"
  code=0
else
  verdict="merged atlas identical to the unsharded run: NO (run 1 ${results[0]}, run 2 ${results[1]})"
  code=1
fi
trap '' INT TERM
trap - EXIT
set +e
stop_cluster
say "$verdict ($((SECONDS - started)) s)"
exit $code
