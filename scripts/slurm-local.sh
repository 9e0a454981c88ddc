#!/usr/bin/env bash
# A one-node SLURM cluster on this machine, to try the SLURM launcher (conf/hydra/launcher/
# slurm.yaml) without a real cluster: munged + slurmctld + slurmd on localhost, with a private
# configuration and state under $SLURM_LOCAL_DIR (default /tmp/slurm-local).
#
#   sudo apt-get install -y slurmctld slurmd slurm-client munge   # Debian/Ubuntu packages
#   sudo scripts/slurm-local.sh start      # writes the configuration, starts the daemons
#   export SLURM_CONF=/tmp/slurm-local/slurm.conf
#   sinfo; srun hostname                   # the node "$(hostname -s)" in partition "debug"
#   python -m sim -m territory=small seed=0,1 hydra/launcher=slurm hydra.launcher.partition=debug
#   SIM_SLURM_TEST=1 python -m pytest -m integration tests/test_slurm.py
#   sudo scripts/slurm-local.sh stop       # stops the daemons it started
#   scripts/slurm-local.sh status
#
# Runs as root (slurmd must). No cgroups are needed: process tracking is proctrack/linuxproc,
# no task plugin, no accounting. Only for tests and demonstrations: nothing is secured.
set -euo pipefail

DIR=${SLURM_LOCAL_DIR:-/tmp/slurm-local}
CONF=$DIR/slurm.conf
HOST=$(hostname -s)

write_conf() {
    mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
    local cpus mem
    cpus=$(nproc)
    mem=$(awk '/MemTotal/ {printf "%d", $2 / 1024 * 0.9}' /proc/meminfo)
    cat > "$CONF" <<EOF
# Written by scripts/slurm-local.sh: a one-node cluster on $HOST.
ClusterName=simlocal
SlurmctldHost=$HOST
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
SlurmctldPort=6817
SlurmdPort=6818
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=300
KillWait=5
Waittime=0
NodeName=$HOST CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
    if pgrep -x munged > /dev/null; then
        return
    fi
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge 2> /dev/null || true
    if [ ! -s /etc/munge/munge.key ]; then
        (umask 077; dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2> /dev/null)
        chown munge:munge /etc/munge/munge.key
    fi
    if id munge > /dev/null 2>&1; then
        runuser -u munge -- /usr/sbin/munged
    else
        /usr/sbin/munged --force
    fi
    touch "$DIR/started-munged"
}

wait_for_node() {
    for _ in $(seq 1 60); do
        if SLURM_CONF=$CONF sinfo -h -o '%t' 2> /dev/null | grep -qE '^(idle|mix|alloc)'; then
            return 0
        fi
        sleep 1
    done
    echo "the node did not become idle; logs in $DIR/log" >&2
    SLURM_CONF=$CONF sinfo >&2 || true
    return 1
}

case "${1:-start}" in
    start)
        command -v slurmctld > /dev/null || { echo "slurmctld not found: apt-get install -y slurmctld slurmd slurm-client munge" >&2; exit 1; }
        [ "$(id -u)" = 0 ] || { echo "run as root (slurmd must)" >&2; exit 1; }
        write_conf
        start_munge
        if [ ! -s "$DIR/slurmctld.pid" ] || ! kill -0 "$(cat "$DIR/slurmctld.pid")" 2> /dev/null; then
            /usr/sbin/slurmctld -f "$CONF" -c   # -c: clear any earlier state
        fi
        if [ ! -s "$DIR/slurmd.pid" ] || ! kill -0 "$(cat "$DIR/slurmd.pid")" 2> /dev/null; then
            /usr/sbin/slurmd -f "$CONF"
        fi
        wait_for_node
        SLURM_CONF=$CONF sinfo
        echo "export SLURM_CONF=$CONF"
        ;;
    stop)
        for pidfile in "$DIR/slurmd.pid" "$DIR/slurmctld.pid"; do
            if [ -s "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2> /dev/null; then
                kill "$(cat "$pidfile")"
            fi
        done
        if [ -e "$DIR/started-munged" ] && [ -s /run/munge/munged.pid ]; then
            kill "$(cat /run/munge/munged.pid)" 2> /dev/null || true
            rm -f "$DIR/started-munged"
        fi
        ;;
    status)
        SLURM_CONF=$CONF sinfo && SLURM_CONF=$CONF squeue
        ;;
    *)
        echo "usage: $0 [start|stop|status]" >&2
        exit 2
        ;;
esac
