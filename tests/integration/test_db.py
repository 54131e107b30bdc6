import psycopg
import pytest

from backend import config
from backend.db import Database, database_url
from backend.db.migrate import available, migrate
from backend.db.settings_store import load_saved, save
from backend.errors import ConfigError
from backend.storage import ArtifactStore


def test_fresh_migrate_records_every_migration_and_creates_the_schema(pg_admin_url):
    from tests.conftest import _drop_db, _url_for

    name = "lab_fresh_migrate"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _url_for(pg_admin_url, name)
    try:
        first = migrate(url)
        expected = [f"{m.version:04d}_{m.name}" for m in available()]
        assert first[: len(expected)] == expected
        assert any(n.startswith("procrastinate_") for n in first)
        assert migrate(url) == []  # idempotent
        with psycopg.connect(url) as conn:
            versions = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
            assert versions == [m.version for m in available()]
            ext = conn.execute("SELECT extversion FROM pg_extension WHERE extname='vector'").fetchone()
            assert ext is not None
            tables = {r[0] for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname='public'")}
            assert {"settings", "artifacts", "procrastinate_jobs"} <= tables
    finally:
        _drop_db(pg_admin_url, name, url)


def test_vector_roundtrip_through_the_pool(db_url):
    import numpy as np

    db = Database(db_url)
    with db.connect() as conn:
        conn.execute("CREATE TABLE v (id int, e vector(3))")
        conn.execute("INSERT INTO v VALUES (1, %s)", (np.array([1.0, 2.0, 3.0]),))
        row = conn.execute("SELECT e FROM v").fetchone()
    assert row["e"].to_list() == [1.0, 2.0, 3.0]


def test_settings_precedence_default_env_saved(db_url):
    assert config.build({}).max_upload_mb == 50
    env = {"LAB_MAX_UPLOAD_MB": "20", "DATABASE_URL": db_url}
    assert config.build(env).max_upload_mb == 20
    db = Database(db_url)
    save(db, {"max_upload_mb": 7})
    assert config.build(env, load_saved(db)).max_upload_mb == 7
    save(db, {"max_upload_mb": None})
    assert config.build(env, load_saved(db)).max_upload_mb == 20


def test_saved_values_are_validated(db_url):
    db = Database(db_url)
    with pytest.raises(ConfigError, match="at least"):
        save(db, {"max_upload_mb": 0})
    with pytest.raises(ConfigError, match="only be set in the environment"):
        save(db, {"data_dir": "/tmp"})
    with pytest.raises(ConfigError, match="one of"):
        save(db, {"dtype": "fp8"})


def test_malformed_database_url_names_the_setting():
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        database_url(config.build({"DATABASE_URL": "mysql://nope"}))


def test_unreachable_database_is_a_clear_error(tmp_path):
    from backend.errors import DatabaseUnavailable

    url = f"postgresql://nobody@/lab?host={tmp_path}&connect_timeout=1"
    with pytest.raises(DatabaseUnavailable, match="DATABASE_URL"):
        Database(url).fetchone("SELECT 1")


def test_artifacts_roundtrip_in_postgres_and_shared_folder(db_url, tmp_path):
    db = Database(db_url)
    store = ArtifactStore(db)
    art = store.put_bytes("upload", "../../etc/passwd", b"hello")
    assert store.get_bytes(art) == b"hello"
    assert store.info(art).location is None
    shared = ArtifactStore(db, tmp_path / "shared", inline_limit=3)
    big = shared.put_bytes("weights", "model.safetensors", b"0123456789")
    info = shared.info(big)
    assert info.location and info.location.startswith(str(tmp_path / "shared"))
    assert shared.get_bytes(big) == b"0123456789"
    shared.delete(big)
    assert not list((tmp_path / "shared").iterdir())
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text("{}")
    fid = store.put_folder("adapter", "a", folder)
    out = store.get_folder(fid, tmp_path / "out")
    assert (out / "adapter_config.json").read_text() == "{}"


def test_secrets_are_masked():
    s = config.build({"LAB_LLM_API_KEY": "sk-secret", "DATABASE_URL": "postgresql://u:pw@h/db"})
    assert "sk-secret" not in repr(s) and "pw@" not in repr(s)
    assert s.masked()["database_url"].startswith("postgresql://u:")
