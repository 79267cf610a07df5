# Shared by the bench scripts (sourced): build, start and stop the service
# and nginx on loopback, test certificates, medians. Kills what it started.
# shellcheck shell=bash
# shellcheck disable=SC2034  # globals set here are read by the scripts

bench_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench_build=${BUILD_DIR:-$bench_root/build-bench}
bench_tmp=$(mktemp -d /tmp/dm-bench.XXXXXX)
bench_pids=()

bench_cleanup() {
  local pid
  for pid in "${bench_pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${bench_pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$bench_tmp"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# Installs wrk and nginx if missing and builds Release (skip: BENCH_NO_BUILD=1).
bench_build_all() {
  if [[ "${BENCH_NO_BUILD:-}" != 1 ]]; then
    "$bench_root/scripts/setup" --bench
    BUILD_DIR=$bench_build BUILD_TYPE=${BUILD_TYPE:-Release} \
      CMAKE_ARGS="${CMAKE_ARGS:--DBUILD_TESTING=OFF}" "$bench_root/scripts/build" \
      >"$bench_tmp/build.log" 2>&1 || { tail -30 "$bench_tmp/build.log"; exit 1; }
  fi
  dm_server=$bench_build/disruption-manager
  dm_load=$bench_build/bench/srpc_load
  [[ -x $dm_server && -x $dm_load ]] || { echo "missing binaries in $bench_build" >&2; exit 1; }
}

load_average() { cut -d' ' -f1-3 /proc/loadavg; }

# A loopback TCP port nobody listens on now.
free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
}

# start_service PORT STATE_DIR [flags...]: starts the service in the
# background (pid in service_pid) and waits until a REST check answers;
# prints the start-up time in service_up_ms.
start_service() {
  local port=$1 state=$2
  shift 2
  local args=(-portNum="$port" -stateDir="$state" -logDir="$bench_tmp/log-$port"
              -certFile="$bench_tmp/none.pem" -keyFile="$bench_tmp/none.key")
  [[ $(id -u) -eq 0 ]] && args+=(-allowRoot)
  service_since=$(date +%s%N)
  local extra=()
  read -ra extra <<<"${DM_FLAGS:-}"
  "$dm_server" "${args[@]}" "$@" "${extra[@]}" \
    >>"$bench_tmp/service-$port.out" 2>&1 &
  service_pid=$!
  bench_pids+=("$service_pid")
  local up
  if ! up=$("$dm_load" -portNum="$port" -waitUntilUp=30s -since="$service_since"); then
    echo "service did not come up:" >&2
    tail -20 "$bench_tmp/service-$port.out" >&2
    exit 1
  fi
  service_up_ms=${up#up_ms=}
}

# wait_settled: waits until the service uses under 5% of a core over three
# 200 ms samples in a row (start-up work done after it began answering,
# including giving freed heap back, which it does once it turns quiet);
# sets service_settled_ms, counted from its start to the start of that
# quiet stretch.
wait_settled() {
  local before after quiet=0 quiet_since=0
  before=$(awk '{print $14 + $15}' "/proc/$service_pid/stat")
  for _ in $(seq 150); do
    sleep 0.2
    after=$(awk '{print $14 + $15}' "/proc/$service_pid/stat")
    if ((after - before <= 1)); then
      ((quiet == 0)) && quiet_since=$(( $(date +%s%N) - 200000000 ))
      quiet=$((quiet + 1))
      ((quiet >= 3)) && break
    else
      quiet=0
    fi
    before=$after
  done
  ((quiet >= 3)) || quiet_since=$(date +%s%N) # never quiet: 30 s and more
  service_settled_ms=$(( (quiet_since - service_since) / 1000000 ))
}

stop_service() {
  kill -TERM "$service_pid" 2>/dev/null || true
  wait "$service_pid" 2>/dev/null || true
}

# start_nginx PORT: one worker answering POST /api/v1/request with the body
# the service returns for a permitted machine.
start_nginx() {
  local port=$1 dir=$bench_tmp/nginx
  mkdir -p "$dir/logs"
  cat >"$dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $dir/body;
  proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi;
  uwsgi_temp_path $dir/uwsgi;
  scgi_temp_path $dir/scgi;
  keepalive_requests 100000000;
  keepalive_timeout 120s;
  server {
    listen 127.0.0.1:$port;
    location = /api/v1/request {
      default_type application/json;
      return 200 "{\n    \"Response\": \"permitted\"\n}\n";
    }
  }
}
EOF
  nginx -p "$dir" -c "$dir/nginx.conf" -e "$dir/logs/error.log" &
  nginx_pid=$!
  bench_pids+=("$nginx_pid")
  for _ in $(seq 100); do
    if curl -s -o /dev/null -XPOST "http://127.0.0.1:$port/api/v1/request" -d '{}'; then
      return
    fi
    sleep 0.05
  done
  echo "nginx did not come up" >&2
  cat "$dir/logs/error.log" >&2
  exit 1
}

# disk_sync_ms DIR: milliseconds per 4 KiB synchronous write in DIR, the
# floor under any answer that waits for a disk sync.
disk_sync_ms() {
  local secs
  secs=$(dd if=/dev/zero of="$1/sync-probe" bs=4k count=100 oflag=dsync 2>&1 |
    sed -n 's/.* copied, \([0-9.]*\) s.*/\1/p')
  rm -f "$1/sync-probe"
  awk -v s="$secs" 'BEGIN {printf "%.2f", s * 10}'
}

# median of the numbers on stdin
median() {
  sort -g | awk '{v[NR]=$1} END {if (NR == 0) print 0; else if (NR % 2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'
}

# field NAME LINE: the value of NAME=value in a srpc_load result line
field() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }

# make_certs DIR: a CA, a server certificate for 127.0.0.1/localhost and an
# operator client certificate whose Dominator methods extension
# (1.3.6.1.4.1.9586.100.7.1, DER SEQUENCE OF UTF8String) grants
# DisruptionManager.*, so it may request and cancel for any machine.
make_certs() {
  local dir=$1
  mkdir -p "$dir"
  cat >"$dir/ext.cnf" <<'EOF'
[server]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
[operator]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
1.3.6.1.4.1.9586.100.7.1 = ASN1:SEQUENCE:methods
[methods]
method.0 = UTF8String:DisruptionManager.*
EOF
  (
    cd "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -keyout ca.key -out ca.pem -days 2 -subj "/CN=dm bench CA" 2>/dev/null
    local name
    for name in server operator; do
      openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
        -keyout "$name.key" -out "$name.csr" -subj "/CN=$name" 2>/dev/null
      openssl x509 -req -in "$name.csr" -CA ca.pem -CAkey ca.key \
        -CAcreateserial -days 2 -extfile ext.cnf -extensions "$name" \
        -out "$name.pem" 2>/dev/null
    done
  ) || { echo "openssl failed" >&2; exit 1; }
}
