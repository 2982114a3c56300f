#!/usr/bin/env bash
# Installs the Python reference stack (Debian packages) used to regenerate fixtures in test-fixtures/generators
# and by the benchmarks' baselines: numpy, scipy, scikit-learn, POT, torch, Pillow. Not needed to run the tests.
set -euo pipefail
SUDO=""; [ "$(id -u)" = "0" ] || SUDO=sudo
pkgs="python3-numpy python3-scipy python3-sklearn python3-pot python3-torch python3-pil"
if /usr/bin/python3 -c 'import numpy, scipy, sklearn, ot, torch, PIL' 2>/dev/null; then
  echo "python refs: already installed"; exit 0
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
/usr/bin/python3 -c 'import numpy, scipy, sklearn, ot, torch, PIL; print("python refs: numpy", numpy.__version__, "scipy", scipy.__version__, "sklearn", sklearn.__version__, "POT", ot.__version__, "torch", torch.__version__, "Pillow", PIL.__version__)'
