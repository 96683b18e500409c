#!/usr/bin/env bash
#
# Plots of the shadow inventory (the shadow inventory issue, §6), PNG via
# gnuplot (Debian: gnuplot-nox) and jq:
#   OUTDIR/forecast.png  forecast vs actual demand over time for one pool
#                        (per-minute sums of shadowsim --series), with the
#                        engine's target and what it held pre-allocated;
#   OUTDIR/tradeoff.png  hit rate vs waste: shadow against static:K for a
#                        range of K, watermark 16/8, on-demand and the
#                        clairvoyant oracle.
#
# Usage: tools/plot_shadow.sh TRACE OUTDIR [VNI]
#   run from the top of a build tree, or set SHADOWSIM to the binary.
#   VNI: the pool of the forecast plot (default: the first in the trace).
#   STATIC_KS overrides the static K range; BIN_S (default 300) is the
#   forecast plot's bin; FROM_S/TO_S (seconds) cut it to a window;
#   MISS_DELAY_MS and SERVICE_RATE (default 1000 and 20, as in
#   tests/bench/bench_shadow.sh) set the convergence model.

set -eu

if [ $# -lt 2 ]; then
	echo "usage: $0 TRACE OUTDIR [VNI]" >&2
	exit 2
fi
trace=$1
outdir=$2
vni=${3:-0}
SHADOWSIM=${SHADOWSIM:-./shadowsim}
STATIC_KS=${STATIC_KS:-0 1 2 3 4 5 6 8 10 12 16 20 24 32 48 64}
BIN_S=${BIN_S:-300}
FROM_S=${FROM_S:-0}
TO_S=${TO_S:-1000000000}
MISS_DELAY_MS=${MISS_DELAY_MS:-1000}
SERVICE_RATE=${SERVICE_RATE:-20}
sim() {
	"$SHADOWSIM" --miss-delay-ms "$MISS_DELAY_MS" \
	    --service-rate "$SERVICE_RATE" "$@"
}
for tool in gnuplot jq; do
	command -v "$tool" >/dev/null || {
		echo "plot_shadow: needs $tool (apt-get install gnuplot-nox jq)" >&2
		exit 2
	}
done
[ -x "$SHADOWSIM" ] || {
	echo "plot_shadow: $SHADOWSIM not found; set SHADOWSIM" >&2
	exit 2
}
mkdir -p "$outdir"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# 1. Forecast vs actual, summed per bin (the series is per tick).
sim --trace "$trace" --policy shadow --series "$work/series.csv" \
    --series-vni "$vni" --json > "$outdir/shadow.json"
awk -F, -v from="$FROM_S" -v to="$TO_S" -v bin="$BIN_S" '
	NR == 1 || $1 < from || $1 >= to { next }
	{
		m = int($1 / bin)
		if (m != cur && n > 0) {
			printf "%.4f %d %.4f %.2f %.2f %d\n",
			    (cur + 0.5) * bin / 3600, a, f, tg / n, h / n, r
			a = f = tg = h = n = r = 0
		}
		cur = m; a += $2; f += $3; tg += $4; h += $5; r += $6; n++
	}
	END { if (n > 0) printf "%.4f %d %.4f %.2f %.2f %d\n",
	    (cur + 0.5) * bin / 3600, a, f, tg / n, h / n, r }' "$work/series.csv" > "$work/minutes.dat"
pool=$(jq -r --arg v "$vni" 'if $v == "0" then (.pools | keys_unsorted[0])
    else $v end' "$outdir/shadow.json")

gnuplot <<EOF
set terminal pngcairo size 1400,700 font "Sans,11"
set output "$outdir/forecast.png"
set title "Shadow inventory, VNI $pool: forecast vs actual requests (per ${BIN_S} s)"
set xlabel "time (hours)"
set ylabel "requests per ${BIN_S} s"
set y2label "addresses (mean over the bin)"
set y2tics
set yrange [0:*]
set y2range [0:*]
set style fill solid 0.35 noborder
set boxwidth ${BIN_S} / 3600.0 * 0.9
set ytics nomirror
set autoscale xfix
set key top left
set grid
plot "$work/minutes.dat" using 1:2 with boxes lc rgb "#888888" title "actual requests", \
     "" using 1:3 with lines lw 2 lc rgb "#d62728" title "forecast mean", \
     "" using 1:4 axes x1y2 with lines lw 1 lc rgb "#1f77b4" title "target (right)", \
     "" using 1:5 axes x1y2 with lines lw 1 dt 2 lc rgb "#2ca02c" title "held pre-allocated (right)"
EOF

# 2. Hit rate vs waste for every policy.
{
	for p in shadow ondemand watermark:16:8 oracle; do
		sim --trace "$trace" --policy "$p" --json
	done
	for k in $STATIC_KS; do
		sim --trace "$trace" --policy "static:$k" --json
	done
} | jq -r '[.policy, 100 * .hit_rate, (.waste_address_seconds / 3600),
    .cost] | @tsv' > "$work/points.tsv"
# static:0 is on-demand; label a few K only, so labels stay readable.
grep '^static:' "$work/points.tsv" | grep -v '^static:0	' \
    > "$work/static.tsv" || true
grep -E '^static:(1|2|4|8|16|32|64)	' "$work/points.tsv" \
    > "$work/static_labels.tsv" || true
grep -v '^static:' "$work/points.tsv" > "$work/others.tsv" || true
cp "$work/points.tsv" "$outdir/tradeoff.tsv"

gnuplot <<EOF
set terminal pngcairo size 1100,750 font "Sans,11"
set output "$outdir/tradeoff.png"
set title "Hit rate vs waste: shadow against the baselines ($(basename "$trace"))"
set xlabel "waste (address-hours pre-allocated and unused)"
set ylabel "hit rate (%)"
set key bottom right
set grid
set yrange [0:105]
set logscale x
set xrange [0.1:*]
set datafile separator "\t"
plot "$work/static.tsv" using (\$3 < 0.1 ? 0.1 : \$3):2 with linespoints pt 7 lc rgb "#1f77b4" title "static:K", \
     "$work/static_labels.tsv" using (\$3 < 0.1 ? 0.1 : \$3):2:1 with labels offset 3,-1 font ",8" notitle, \
     "$work/others.tsv" using (\$3 < 0.1 ? 0.1 : \$3):2 with points pt 9 ps 2 lc rgb "#d62728" title "shadow, watermark 16/8, on-demand, oracle", \
     "" using (\$3 < 0.1 ? 0.1 : \$3):2:1 with labels offset 0,1.2 font ",10" notitle
EOF
echo "plot_shadow: wrote $outdir/forecast.png $outdir/tradeoff.png"
