#!/bin/sh
# One nightly run on Cloud Run Jobs: the sharded job over RUN_FROM…RUN_TO (default yesterday, UTC),
# then the unsharded settle pass (candles and features whose previous day came from another shard).
# Needs gcloud, the job from deploy/cloud-run/job.yaml, and REGION. Dates are fixed here, once, so a
# task retried after midnight still works on the same days. Usage: REGION=europe-west1 ./nightly.sh
set -eu
: "${REGION:?set REGION, e.g. europe-west1}"
JOB=${JOB:-ticklake-nightly}
yesterday=$(date -u -d yesterday +%F)
from=${RUN_FROM:-$yesterday}
to=${RUN_TO:-$from}

gcloud run jobs execute "$JOB" --region "$REGION" --wait \
  --update-env-vars "RUN_FROM=$from,RUN_TO=$to"

# Settle: one task (so shard 0/1: every day), only the derived stages; unchanged outputs are skipped.
# `^;^` makes `;` the list separator, so the comma lists stay whole.
gcloud run jobs execute "$JOB" --region "$REGION" --wait --tasks 1 \
  --update-env-vars "RUN_FROM=$from,RUN_TO=$to" \
  --args="^;^--exchange;binance-futures;--data-types;trades,book_ticker;--types;perpetual;--stages;candles,features"
