#!/bin/bash
# Our server against nginx (a C HTTP/2 and HTTP/1.1 server) on this machine, C clients only (curl, h2load):
# issue 13's "as fast as a C++ Flight server" measured with the C server that can be installed here
# (apt-get install nginx-light nghttp2-client). docs/benchmarks.md, "Response writes in 64 KiB pieces".
#
#   nginx-peer.sh scan  LABEL ROUNDS   full scans: DoGet (curl, h2load) and /prices/arrow (curl) against nginx
#                                      serving a file of the same byte count over h2c and HTTP/1.1
#   nginx-peer.sh calls LABEL          per call: one symbol (all years) and 1 symbol x 1 month DoGets, h2load with
#                                      1 stream, 4 streams on 1 connection, 4 connections, against nginx serving a
#                                      file of the response's size
#
# Environment: DLL (lakehouse.dll to run; default the Release build), LAKE (a lake with silver prices, e.g. from
# `Lakehouse.Flight.Benchmarks.dll generate --symbols 500 --years 20 --data-dir D`), SYMBOL (default SYM0042),
# MONTH (default 2024-01), N (calls per shape, default 3000). The server runs with the compactor off, on ports
# 18815/18080; nginx on 18900 (h2c) and 18901 (HTTP/1.1). Each line prints our rate, nginx's and the ratio.
set -euo pipefail
mode=$1; label=$2; rounds=${3:-5}
here=$(cd "$(dirname "$0")" && pwd)
dll=${DLL:-$here/../../../src/Lakehouse.Flight.Cli/bin/Release/net10.0/lakehouse.dll}
lake=${LAKE:?set LAKE to a lake folder}
symbol=${SYMBOL:-SYM0042}; month=${MONTH:-2024-01}; N=${N:-3000}
pid=""; work=$(mktemp -d); trap '[ -n "$pid" ] && kill $pid 2>/dev/null; nginx -p $work -e $work/error.log -c $work/nginx.conf -s stop 2>/dev/null; rm -rf $work' EXIT
mkdir -p $work/www; chmod 755 $work $work/www
cat > $work/nginx.conf <<CONF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 64; }
http { access_log off; sendfile off; http2_chunk_size 16k;
  server { listen 127.0.0.1:18900 http2; listen 127.0.0.1:18901; root $work/www; } }
CONF
nginx -p $work -e $work/error.log -c $work/nginx.conf
ticket() { python3 -c "
import struct,sys
b=sys.argv[1].encode(); m=b'\x0a'+bytes([len(b)])+b
sys.stdout.buffer.write(b'\x00'+struct.pack('>I',len(m))+m)" "$1" > "$2"; }
ticket '{"layer":"silver","table":"prices_daily"}' $work/full.t
ticket "{\"layer\":\"silver\",\"table\":\"prices_daily\",\"symbols\":[\"$symbol\"]}" $work/sym.t
last=$(python3 -c "import calendar,sys; y,m=map(int,sys.argv[1].split('-')); print(f'{y:04d}-{m:02d}-{calendar.monthrange(y,m)[1]:02d}')" $month)
ticket "{\"layer\":\"silver\",\"table\":\"prices_daily\",\"symbols\":[\"$symbol\"],\"date_from\":\"$month-01\",\"date_to\":\"$last\"}" $work/point.t
Lakehouse__CompactIntervalSeconds=0 dotnet $dll serve --data-dir $lake --flight-port 18815 --http-port 18080 > $work/server.log 2>&1 &
pid=$!
for i in $(seq 1 1200); do curl -s http://127.0.0.1:18080/health 2>/dev/null | grep -q '"state":"ok"' && break; sleep 0.05; done
U=http://127.0.0.1:18815/arrow.flight.protocol.FlightService/DoGet
G=(-H 'content-type: application/grpc' -H 'te: trailers')
size() { curl -s --http2-prior-knowledge "${G[@]}" --data-binary @$1 -o /dev/null -w '%{size_download}' $U; }
secs() { python3 -c "import sys; x=sys.argv[1]; print(float(x[:-2])/1000 if x.endswith('ms') else float(x.rstrip('s')))" "$1"; }
cpu() { awk '{print $14+$15}' /proc/$pid/stat; }
if [ "$mode" = scan ]; then
  bytes=$(size $work/full.t); head -c $bytes /dev/urandom > $work/www/full.bin
  ours() { curl -s --http2-prior-knowledge "${G[@]}" --data-binary @$work/full.t -o /dev/null -w '%{time_total}\n' $U; }
  ng() { curl -s --http2-prior-knowledge -o /dev/null -w '%{time_total}\n' http://127.0.0.1:18900/full.bin; }
  h1() { curl -s -o /dev/null -w '%{time_total}\n' http://127.0.0.1:18080/prices/arrow; }
  ng1() { curl -s -o /dev/null -w '%{time_total}\n' http://127.0.0.1:18901/full.bin; }
  hl() { secs $(h2load -n 3 -c 1 -m 1 "$@" 2>&1 | awk '/finished in/{print $3}' | tr -d ','); }
  for i in $(seq 1 10); do ours > /dev/null; done
  A=(); B=(); C=(); D=(); E=(); F=()
  for r in $(seq 1 $rounds); do
    A+=($(ours)); B+=($(ng)); C+=($(hl -d $work/full.t "${G[@]}" $U)); D+=($(hl http://127.0.0.1:18900/full.bin)); E+=($(h1)); F+=($(ng1))
  done
  python3 - "$label" "$bytes" "${A[*]}" "${B[*]}" "${C[*]}" "${D[*]}" "${E[*]}" "${F[*]}" <<'PY'
import sys,statistics as s
label=sys.argv[1]; mb=int(sys.argv[2])/1e6
a,b,c,d,e,f=[[float(x) for x in v.split()] for v in sys.argv[3:9]]
r=lambda x,n=1: n*mb/s.median(x)
print(f"{label}: {mb:.1f} MB | h2 curl ours {r(a):.0f} MB/s, nginx {r(b):.0f} ({r(a)/r(b):.2f}x) | h2 h2load ours {r(c,3):.0f}, nginx {r(d,3):.0f} ({r(c)/r(d):.2f}x) | http/1.1 curl ours {r(e):.0f}, nginx {r(f):.0f} ({r(e)/r(f):.2f}x)")
PY
else
  pct() { python3 -c "
import sys
d=sorted(int(l.split()[2]) for l in open(sys.argv[1]) if l.strip())
print(f'p50 {d[len(d)//2]/1000:.3f} p99 {d[int(len(d)*0.99)]/1000:.3f} ms')" $1; }
  for t in sym point; do
    n=$(size $work/$t.t); head -c $n /dev/urandom > $work/www/$t.bin
    h2load -n 2000 -c 1 -m 1 -d $work/$t.t "${G[@]}" $U > /dev/null 2>&1
    for shape in "-c 1 -m 1" "-c 1 -m 4" "-c 4 -m 1"; do
      rm -f $work/lo $work/lg
      c0=$(cpu); o=$(h2load -n $N $shape --log-file=$work/lo -d $work/$t.t "${G[@]}" $U 2>&1); c1=$(cpu)
      g=$(h2load -n $N $shape --log-file=$work/lg http://127.0.0.1:18900/$t.bin 2>&1)
      ro=$(echo "$o" | awk '/finished in/{print $4}'); rg=$(echo "$g" | awk '/finished in/{print $4}')
      okc=$(echo "$o" | awk '/requests:/{print $8}')
      echo "$label $t ($n B) [$shape]: ours $ro req/s, $(pct $work/lo), $okc ok, server CPU $(( (c1-c0)*10000/N )) us/call | nginx $rg req/s, $(pct $work/lg) | $(python3 -c "print(round(${ro%.*}/${rg%.*},2))")x"
    done
  done
fi
