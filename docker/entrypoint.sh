#!/bin/sh
# First start: create the node (signing key, first administrator token: printed once, in the
# container's log). Every start: serve it.
set -eu
if [ ! -f "$SDGCITIES_DATA_DIR/node.env" ]; then
  sdgcities node init --data-dir "$SDGCITIES_DATA_DIR"
fi
exec sdgcities node serve --data-dir "$SDGCITIES_DATA_DIR" --host "$SDGCITIES_HOST" --port "$SDGCITIES_PORT"
