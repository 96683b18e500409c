#!/usr/bin/env bash
#
# Where shadow's cost goes on tracegen's days, and how much of the
# oracle's reduction any causal policy could capture at all (the shadow
# inventory issue's 40% goal).  Needs no root and no network; run from
# the top of a build tree (or set SHADOWSIM and TRACEGEN):
#
#   tests/bench/bench_shadow_gap.sh
#
# How this works.  For each seed in SEEDS (default "1 2 3") tracegen
# makes a day with its defaults, and shadowsim replays it under
# ondemand, oracle and shadow at base latency DELAY ms (default 1000)
# and SERVICE_RATE routes/s (default 20), each with --requests.
# tracegen names a request by what made it: "inf" a replica (a Poisson
# process that nothing announces), "as" an autoscaler step (requests
# 0.1-1 s apart), "job" a gang (remote routes come first).  Per kind the
# table shows the cost of waits (100 x seconds) and of the holds that
# served them (1 x address-seconds); "unused" is shadow's waste on
# pre-allocations given back.  The bound charges:
#  - a replica, and the first request of a step (no signal precedes
#    either), what ondemand paid, less the most a unit held for them can
#    save when the true rate lambda(t) is known (more than any causal
#    policy knows): the integral over the day of max(0, 100 x lambda x
#    L - 1), L the latency plus one service time, lambda tracegen's
#    default diurnal rate (30/h, amplitude 0.6, phase 0.4 per VNI) plus
#    one step an hour;
#  - a step's second request the remainder of its own unit, made at the
#    first request, and the time it held it;
#  - everything else what the oracle paid (its lead).
# "max capture" is (ondemand - bound) / (ondemand - oracle): the share
# of the oracle's reduction no causal policy can pass on that day.

set -u

SHADOWSIM=${SHADOWSIM:-./shadowsim}
TRACEGEN=${TRACEGEN:-./tracegen}
SEEDS=${SEEDS:-1 2 3}
DELAY=${DELAY:-1000}
SERVICE_RATE=${SERVICE_RATE:-20}

for bin in "$SHADOWSIM" "$TRACEGEN"; do
	if [ ! -x "$bin" ]; then
		echo "bench_shadow_gap: $bin not found; run from the build" \
		    "tree or set SHADOWSIM/TRACEGEN" >&2
		exit 2
	fi
done
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT INT TERM

# The bound's saving on unannounced requests, summed over the VNIs.
unannounced_saving() {	# unannounced_saving LATENCY_S
	awk -v L="$1" 'BEGIN {
		pi = atan2(0, -1)
		for (v = 0; v < 2; v++)
			for (s = 0; s < 86400; s++) {
				x = 2 * pi * s / 86400 - pi / 2 + 0.4 * v
				lam = 30 / 3600 * (1 + 0.6 * sin(x)) + 1 / 3600
				g = 100 * lam * L - 1
				if (g > 0)
					sum += g
			}
		printf "%.0f\n", sum
	}'
}

# Classes of a request, from tracegen's resource names and the time
# since the previous step request of its VNI: "una" a replica or a
# step's first (nothing announces them), "step2" a step's second,
# "step" its others, "gang" a gang's.
CLASSIFY='
	function classify(vni, res, t,    n, k, gap) {
		split(res, n, "-")
		k = n[1]
		if (k == "inf")
			return "una"
		if (k != "as")
			return k == "job" ? "gang" : "other"
		gap = t - last[vni]
		last[vni] = t
		if (!seen[vni]++ || gap > 3) {
			pos[vni] = 1
			return "una"
		}
		return ++pos[vni] == 2 ? "step2" : "step"
	}'

# cost_by_class REQUESTS_CSV -> "class cost" lines (waits and holds)
cost_by_class() {
	awk -F, "$CLASSIFY"'
	    NR > 1 { c = classify($2, $3, $1 / 1000)
		if (c == "step2") c = "step"
		cost[c] += $4 / 10 + ($5 > 0 ? $5 / 1000 : 0) }
	    END { for (c in cost) printf "%s %.0f\n", c, cost[c] }' "$1"
}

# bound ONDEMAND_CSV ORACLE_CSV SAVING -> "class cost" lines
bound() {
	awk -F, -v save="$3" "$CLASSIFY"'
	    FNR == 1 { f++; next }
	    f == 1 { lead[$2 "," $3] = ($5 > 0 ? $5 : 0) / 1000 + $4 / 10;
		next }
	    { t = $1 / 1000; w = $4 / 1000; c = classify($2, $3, t)
		if (c == "una")
			cost[c] += 100 * w
		else if (c == "step2") {
			gap = t - prev[$2]
			if (w > gap)
				cost["step"] += 100 * (w - gap) + gap
			else
				cost["step"] += lead[$2 "," $3]
		} else
			cost[c] += lead[$2 "," $3]
		if ($3 ~ /^as-/)
			prev[$2] = t
	    }
	    END { cost["una"] -= save
		for (c in cost) printf "%s %.0f\n", c, cost[c] }' "$2" "$1"
}

# row SEED POLICY CLASSES_FILE TOTAL WASTE_GIVEN_BACK OD OC
row() {
	awk -v seed="$1" -v p="$2" -v tot="$4" -v unused="$5" -v od="$6" \
	    -v oc="$7" '{ c[$1] = $2 }
	    END { printf "| %s | %s | %.0f | %.0f | %.0f | %s | %.0f |" \
		" %.1f%% |\n", seed, p, c["una"], c["step"], c["gang"],
		unused, tot, 100 * (od - tot) / (od - oc) }' "$3"
}

echo "| seed | policy | unannounced | steps (rest) | gangs |" \
    "unused | total | captured |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
L=$(awk -v d="$DELAY" -v r="$SERVICE_RATE" \
    'BEGIN { print d / 1000 + (r > 0 ? 1 / r : 0) }')
save=$(unannounced_saving "$L")
for seed in $SEEDS; do
	"$TRACEGEN" --seed "$seed" --out "$out/t.csv" || exit 2
	for p in ondemand oracle shadow; do
		"$SHADOWSIM" --trace "$out/t.csv" --policy "$p" \
		    --miss-delay-ms "$DELAY" --service-rate "$SERVICE_RATE" \
		    --requests "$out/$p.csv" --json > "$out/$p.json" || exit 2
	done
	od=$(jq .cost "$out/ondemand.json")
	oc=$(jq .cost "$out/oracle.json")
	for p in ondemand oracle shadow; do
		cost_by_class "$out/$p.csv" > "$out/$p.classes"
		unused=$(awk -F, -v w="$(jq .waste_address_seconds \
		    "$out/$p.json")" 'NR > 1 && $5 > 0 { h += $5 / 1000 }
		    END { printf "%.0f", (w > h ? w - h : 0) }' "$out/$p.csv")
		row "$seed" "$p" "$out/$p.classes" "$(jq .cost "$out/$p.json")" \
		    "$unused" "$od" "$oc"
	done
	bound "$out/ondemand.csv" "$out/oracle.csv" "$save" > "$out/bound"
	row "$seed" bound "$out/bound" \
	    "$(awk '{ s += $2 } END { print s }' "$out/bound")" "" "$od" "$oc"
done
