#!/bin/bash
# A real single-node Slurm cluster (slurmctld + slurmd + munged from Debian's slurm-wlm and munge)
# owned by the tests: config, state, logs and sockets all under DIR, nothing in /etc, no systemd
# or cgroups. Clients and jobs need only SLURM_CONF=DIR/slurm.conf.
#   cluster.sh start DIR   start it and wait until the node is idle (exit 1 with the logs if not)
#   cluster.sh stop DIR    stop it by the PIDs in DIR (TERM, then KILL after a timeout)
# Runs as root (SlurmUser=root), as CI does. ../shared/STACK.md has the measured facts behind it.
set -u
action=${1:?start|stop}
dir=$(realpath -m "${2:?cluster directory}")

stop_cluster() {
  local pids=()
  for f in "$dir"/slurmd.pid "$dir"/slurmctld.pid "$dir"/munged.pid; do
    [ -s "$f" ] && pids+=("$(cat "$f")")
  done
  [ ${#pids[@]} -eq 0 ] && return 0
  kill -TERM "${pids[@]}" 2>/dev/null
  for _ in $(seq 50); do
    local alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && break
    sleep 0.1
  done
  kill -KILL "${pids[@]}" 2>/dev/null
  # Jobs' processes left behind (proctrack/linuxproc cannot follow every grandchild).
  pkill -KILL -f "$dir/" 2>/dev/null
  rm -f "$dir"/*.pid
  return 0
}

if [ "$action" = stop ]; then
  stop_cluster
  exit 0
fi
[ "$action" = start ] || { echo "usage: cluster.sh start|stop DIR" >&2; exit 2; }

for tool in slurmctld slurmd munged mungekey sinfo; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] || {
    echo "cluster.sh: $tool not found: install slurm-wlm and munge (scripts/install-deps.sh --test)" >&2; exit 1; }
done
export PATH="$PATH:/usr/sbin"
stop_cluster
mkdir -p "$dir"/{state,spool,munge}
chmod 0711 "$dir" "$dir/munge"
rm -f "$dir/munge/munge.key"
mungekey -c -f -k "$dir/munge/munge.key" >/dev/null 2>&1 || { echo "cluster.sh: mungekey failed" >&2; exit 1; }
chmod 0600 "$dir/munge/munge.key"
munged -f --key-file="$dir/munge/munge.key" --socket="$dir/munge/munge.sock" \
  --pid-file="$dir/munged.pid" --log-file="$dir/munged.log" --seed-file="$dir/munge/munge.seed" \
  || { echo "cluster.sh: munged did not start"; cat "$dir/munged.log"; exit 1; } >&2

# Free ports for the controller and the node daemon.
read -r ctld_port slurmd_port < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')

hw=$(slurmd -C | head -1)
cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$hw")
memory=$(sed -n 's/.*RealMemory=\([0-9]*\).*/\1/p' <<<"$hw")
# More CPUs than the machine has, so several small jobs run at once on 2 cores.
job_slots=$(( cpus < 4 ? 4 : cpus ))
cat > "$dir/slurm.conf" <<CONF
ClusterName=pipelinetest
SlurmctldHost=localhost
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.sock
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/jobcomp.log
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1
DependencyParameters=kill_invalid_depend
MinJobAge=300
SlurmdParameters=config_overrides
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$job_slots RealMemory=$(( memory * 9 / 10 )) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName=batch Nodes=localhost MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"
slurmctld -c || { echo "cluster.sh: slurmctld did not start"; cat "$dir/slurmctld.log"; exit 1; } >&2
slurmd -N localhost || { echo "cluster.sh: slurmd did not start"; cat "$dir/slurmd.log"; exit 1; } >&2
for _ in $(seq 150); do
  state=$(sinfo -h -n localhost -o %T 2>/dev/null | head -1)
  case "$state" in idle*) echo "cluster up: SLURM_CONF=$dir/slurm.conf"; exit 0 ;; esac
  sleep 0.2
done
{ echo "cluster.sh: the node did not become idle (state '$state')"; tail -20 "$dir/slurmctld.log" "$dir/slurmd.log"; } >&2
stop_cluster
exit 1
