#!/bin/sh
# The mutation campaign: every tool on N mutants (default 2000) of the
# committed lab captures, 1-8 bytes flipped anywhere in a packet's data
# (headers and payload; flowtest.Mutate, seeded, so a mutant is named by
# seed and index and can be rewritten with
# `go run ./flow/flowtest/mutate -seed S -i I > m.pcap`). Each tool's
# TestMutants checks: no panic, complete output (JSON ending with its
# summary, text with its last line), the packet accounting (packets = tcp +
# other + skipped), unique <= payload bytes, documented exit statuses.
# Prints one tally line per tool; exit status 1 if any check failed.
#
#   sh testdata/hostile/campaign.sh [N] [SEED]
set -eu
cd "$(dirname "$0")/../.."
NETECOLOGY_MUTANTS=${1:-2000} NETECOLOGY_MUTANT_SEED=${2:-1} \
	go test ./examples/... -run '^TestMutants$' -count 1 -timeout 0 -v 2>&1 |
	tee "${TMPDIR:-/tmp}/netecology-campaign.log" | grep -E 'mutants: tool|^(--- FAIL|FAIL|ok)' 
! grep -qE '^(--- )?FAIL' "${TMPDIR:-/tmp}/netecology-campaign.log"  # a failed check or a package that did not build
