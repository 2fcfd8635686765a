# Source this on the offline GPU machine (from the repo root) before any GPU test or benchmark:
# installs the carried wheels (.whl, filled by ../shared/gpu/wheels.sh) and reuses a carried
# nerfacc build (.torch_ext) so its CUDA extension is compiled at most once per lease.
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || return 1
export PYTHONPATH=/tmp/site:$PWD
export TORCH_EXTENSIONS_DIR=$PWD/.torch_ext
export PYTHONUNBUFFERED=1
mkdir -p "$TORCH_EXTENSIONS_DIR"
nvidia-smi --query-gpu=name,memory.total,memory.used --format=csv,noheader
