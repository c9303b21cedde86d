#!/usr/bin/env bash
# Rebuild app_pages/_live_chart/vendor/plotly-normviz.min.js, the partial plotly.js bundle that
# live_chart serves (only the trace types normviz draws; see scripts/plotly_bundle/build.mjs).
#
#   bash scripts/build_plotly_bundle.sh
#
# Needs node + npm (the npm registry). The plotly.js version is pinned in package.json and must be
# the one the installed plotly Python package ships (package_data/plotly.min.js): this script
# checks that, so bump both together. Commit the rebuilt file; node_modules/ stays untracked.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root/scripts/plotly_bundle"
python="${PYTHON:-$root/.venv/bin/python}"
shipped="$("$python" -c "import plotly, pathlib, re; js = pathlib.Path(plotly.__file__).parent / 'package_data' / 'plotly.min.js'; print(re.search(r'plotly\.js v(\S+)', js.read_text()[:300]).group(1))")"
pinned="$(node -p "require('./package.json').dependencies['plotly.js']")"
if [ "$shipped" != "$pinned" ]; then
  echo "plotly (Python) ships plotly.js $shipped but scripts/plotly_bundle/package.json pins $pinned" >&2
  exit 1
fi
npm ci --no-audit --no-fund --loglevel=error
node build.mjs
