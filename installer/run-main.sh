#!/usr/bin/env bash
# The main job: installs what is missing, builds, then opens the GUI on workspaces/quickstart.fedwb.
# Without a display it runs the same workspace with fedwb-cli (per-round progress) and writes the accuracy
# curve to build/quickstart-accuracy.png.
set -euo pipefail
cd "$(dirname "$0")/.."
bash installer/install-deps.sh
bash installer/build.sh
export XDG_RUNTIME_DIR=${XDG_RUNTIME_DIR:-/tmp/runtime-$(id -u)}
mkdir -p -m 700 "$XDG_RUNTIME_DIR"
workspace=workspaces/quickstart.fedwb
db=${FEDWB_DB:-build/runs.sqlite}
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  exec build/app/fedwb --db "$db" "$workspace"
fi
echo "no display: running $workspace headless with fedwb-cli"
build/app/fedwb-cli run "$workspace" --db "$db" --json | tee build/quickstart-run.json
run_id=$(tail -n 1 build/quickstart-run.json | sed -n 's/.*"run_id":\([0-9]*\).*/\1/p')
QT_QPA_PLATFORM=offscreen build/app/fedwb --db "$db" --run "$run_id" --plot build/quickstart-accuracy.png
echo "accuracy curve: build/quickstart-accuracy.png (run $run_id in $db)"
