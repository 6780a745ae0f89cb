#!/bin/sh
# Nightly entry point in the container: `ticklake run` over RUN_FROM…RUN_TO (UTC days), by default
# yesterday only. Every other argument goes to `ticklake run` (selection flags, --stages, ...). The
# shard comes from the scheduler's environment (JOB_COMPLETION_INDEX + TICKLAKE_SHARD_COUNT,
# CLOUD_RUN_TASK_INDEX/COUNT, BATCH_TASK_INDEX/COUNT) or TICKLAKE_SHARD=i/N. See docs/DEPLOY.md.
#
# Set RUN_FROM explicitly when a retry may start after midnight: "yesterday" would then move.
set -eu
yesterday=$(date -u -d yesterday +%F)
from=${RUN_FROM:-$yesterday}
to=${RUN_TO:-$from}
exec node /app/bin/ticklake.js run --from "$from" --to "$to" "$@"
