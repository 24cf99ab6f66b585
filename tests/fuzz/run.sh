#!/usr/bin/env bash
# A short run of every fuzz target (FUZZ_SECONDS each, default 5) on its seed
# corpus: catches crashes the unit tests would miss.  `make fuzz` runs longer.
source "$(dirname "$0")/../lib.sh"
secs=${FUZZ_SECONDS:-5}
cd "$TOP"
if ! make --no-print-directory -s fuzz-bin >"$T_TMP/build.log" 2>&1; then
	fail "fuzz targets build"; tail -20 "$T_TMP/build.log"; exit 0
fi
for f in build/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	n=$(basename "$f")
	mkdir -p "$T_TMP/corpus-$n"
	if "$f" -max_total_time="$secs" -max_len=16384 "$T_TMP/corpus-$n" "tests/fuzz/corpus/$n" \
		>"$T_TMP/$n.log" 2>&1; then
		pass "$n: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$T_TMP/$n.log" | grep -o '[0-9]*$' || grep -oE '#[0-9]+' "$T_TMP/$n.log" | tail -1) runs, no crash"
	else
		fail "$n crashed:"; grep -A15 'ERROR\|==ERROR\|runtime error' "$T_TMP/$n.log" | head -30
	fi
done
