#!/bin/bash
# usage: ab.sh ROUNDS DAY label=bin[@extra reconcile args] ...
# prints one line per run: round label wall_s user_s sys_s maxrss_kb load1 load5 load15
rounds=$1; day=$2; shift 2
tf=$(mktemp)
for r in $(seq 1 $rounds); do
  for lb in "$@"; do
    label=${lb%%=*}; rest=${lb#*=}; bin=${rest%%@*}; extra=""; [[ $rest == *@* ]] && extra=${rest#*@}
    taskset -c 1 /usr/bin/time -o $tf -f "%e %U %S %M" $bin reconcile $extra --primary $day/primary.fix --dropcopy $day/dropcopy.fix \
        --out /dev/null --summary /dev/null --rejects /dev/null --single-thread >/dev/null 2>&1
    echo "$r $label $(tail -1 $tf) $(cut -d' ' -f1-3 /proc/loadavg)"
  done
done
rm -f $tf
