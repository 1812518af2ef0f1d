"Hostile inputs to batch feature extraction: two runs into one output, non-finite features, damaged parts, links to folders, pipes."
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import vartransfer.batch
from vartransfer.batch import _write_part, extract_features_batch
from vartransfer.batch import _check_finite
from vartransfer.features import FEATURE_NAMES
from vartransfer.inputs import batch_inputs, not_a_light_curve
from vartransfer.lightcurve import LightCurve, LightCurveError
from helpers import run

FIXTURES = Path(__file__).resolve().parent / "fixtures"
_LOCK_NAME = getattr(vartransfer.batch, "_LOCK_NAME", ".vartransfer.lock")   # the lock of a feature folder


def cli(*argv, **kw):
    "Run `vartransfer` in a new process (a real second run): the CompletedProcess, or the Popen with `wait=False`."
    wait = kw.pop("wait", True)
    cmd = [sys.executable, "-c", "import sys; from vartransfer.cli.main import main; sys.exit(main(sys.argv[1:]))", *map(str, argv)]
    if not wait: return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, **kw)


def curve_file(path, seed=0, n=60, err=0.05, mags=None):
    "A small sinusoidal light-curve CSV (time, mag, err) at `path`."
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(2459000, 2459300, n))
    m = 12 + 0.3 * np.sin(2 * np.pi * t / (0.5 + seed % 7 * 0.1)) + rng.normal(0, 0.02, n) if mags is None else mags
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"time": t, "mag": m, "err": err}).to_csv(path, index=False)
    return path


def curve(i, n=60):
    rng = np.random.default_rng(i)
    t = np.sort(rng.uniform(0, 300, n))
    return LightCurve(t, 12 + 0.3 * np.sin(2 * np.pi * t / 0.7) + rng.normal(0, 0.02, n), np.full(n, 0.05), id=f"s{i}")


def live_pid():
    "A process alive while the test runs (a sleeping child), killed by the caller."
    return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])


# --- 1. two runs into one output -----------------------------------------------------------------------

def test_lock_held_by_a_live_run_is_a_one_line_error(tmp_path):
    curve_file(tmp_path / "in" / "a.csv")
    work = tmp_path / "f.csv.parts"; work.mkdir()
    other = live_pid()
    try:
        (work / _LOCK_NAME).write_text(f"{other.pid} {socket.gethostname()}\n")
        code, out, err = run("features", tmp_path / "in", "-o", tmp_path / "f.csv", "-q")
    finally: other.kill(); other.wait()
    assert code == 1, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert f"another vartransfer run is writing {work} (pid {other.pid}); wait for it or use another output" in err, err
    assert not (tmp_path / "f.csv").exists()
    assert (work / _LOCK_NAME).read_text().split()[0] == str(other.pid)   # the other run's lock is left alone


def test_lock_of_this_process_is_held_once(tmp_path):
    "The CLI holds the folder around the batch: the batch inside that hold runs, and the lock goes only when the outer hold ends."
    from vartransfer.batch import _locked
    work = tmp_path / "w"; work.mkdir()
    with _locked(work):
        df = extract_features_batch([curve(1)], output=work, progress=False)
        assert len(df) == 1 and (work / _LOCK_NAME).read_text().split()[0] == str(os.getpid())   # still held
    assert not (work / _LOCK_NAME).exists()


def test_force_does_not_clear_the_parts_of_a_live_run(tmp_path):
    curve_file(tmp_path / "in" / "a.csv")
    work = tmp_path / "f.csv.parts"; work.mkdir()
    (work / "part-00000.parquet").write_bytes(b"the other run's part")
    other = live_pid()
    try:
        (work / _LOCK_NAME).write_text(f"{other.pid} {socket.gethostname()}\n")
        code, out, err = run("features", tmp_path / "in", "-o", tmp_path / "f.csv", "-q", "--force")
    finally: other.kill(); other.wait()
    assert code == 1 and f"another vartransfer run is writing {work} (pid {other.pid})" in err, err
    assert (work / "part-00000.parquet").read_bytes() == b"the other run's part"   # --force cleared nothing


def test_stale_lock_of_a_dead_run_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"]); dead.wait()
    work = tmp_path / "w"; work.mkdir()
    (work / _LOCK_NAME).write_text(f"{dead.pid} {socket.gethostname()}\n")
    with pytest.warns(UserWarning, match=rf"took over the lock of a run that is gone \(pid {dead.pid}\)"):
        df = extract_features_batch([curve(1), curve(2)], output=work, progress=False)
    assert len(df) == 2 and df["error"].isna().all()
    assert not (work / _LOCK_NAME).exists()          # released


def test_lock_released_after_a_failure(tmp_path):
    work = tmp_path / "w"
    with pytest.raises(LightCurveError):
        extract_features_batch([curve(1), LightCurve([0, 1, 2], [1, 2, 3], [.1, .1, .1], id="short", validate=False)],
                               output=work, progress=False, errors="raise")
    assert not (work / _LOCK_NAME).exists()
    assert len(extract_features_batch([curve(1)], output=work, progress=False)) == 1


def test_two_runs_at_once_never_lose_rows(tmp_path):
    "The probe's reproducer, smaller: two `features` processes into the same output, one part per file."
    src = tmp_path / "in"
    for i in range(40): curve_file(src / f"c{i:02d}.csv", seed=i)
    out = tmp_path / "same.csv"
    procs = [cli("features", src, "-o", out, "--chunk-size", "1", "-q", wait=False) for _ in range(2)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    for code, so, se in results:
        assert "Traceback" not in se, se
        if code == 0: assert "wrote 40 feature rows" in so, (so, se)
        else: assert code == 1 and ("another vartransfer run is writing" in se or "exists" in se), se
    assert any(code == 0 for code, _, _ in results), results
    assert len(pd.read_csv(out)) == 40


def test_parts_written_at_once_never_overwrite(tmp_path):
    "Part files are created exclusively: writers at once (threads) get a part each."
    rows = extract_features_batch([curve(1)], progress=False).reset_index()
    rows = [dict(r, task="t") for r in rows.to_dict("records")]
    errors, barrier = [], threading.Barrier(8)
    def writer():
        barrier.wait()
        try:
            for _ in range(10): _write_part(tmp_path, rows)
        except Exception as e: errors.append(e)
    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    assert not errors, errors
    assert len(list(tmp_path.glob("part-*.parquet"))) == 80
    assert not list(tmp_path.glob("*.tmp"))


def test_rows_lost_during_the_run_are_an_error(tmp_path):
    "A part removed while the run goes on (another process's doing): an error naming the star, never a short table."
    work = tmp_path / "w"
    def curves():
        for i in range(4):
            if i == 3:
                for p in work.glob("part-*.parquet"): p.unlink()
            yield curve(i)
    with pytest.raises(OSError, match=r"s0.*run again"):
        extract_features_batch(curves(), output=work, chunk_size=1, progress=False)
    assert not (work / _LOCK_NAME).exists()


# --- 2. non-finite features ---------------------------------------------------------------------------

def test_non_finite_features_are_failures(tmp_path):
    rng = np.random.default_rng(1)
    quantized = np.where(rng.random(100) < 0.6, 12.0, rng.choice(np.round(np.arange(11.1, 12.0, 0.1), 1), 100))
    files = [curve_file(tmp_path / "quantized_median_max.csv", n=100, err=0.1, mags=quantized),
             curve_file(tmp_path / "err_subnormal.csv", seed=3, n=100, err=5e-324),
             curve_file(tmp_path / "fine.csv", seed=2)]
    df = extract_features_batch(files, progress=False)
    ok = df["error"].isna()
    assert np.isfinite(df.loc[ok, FEATURE_NAMES].to_numpy(dtype=float)).all(), df.loc[ok, FEATURE_NAMES]
    assert ok["fine"]
    e = df.loc["quantized_median_max", "error"]       # NaN hl_amp_ratio before: a failure now (by features' own check or batch's)
    assert e is not None and "quantized_median_max.csv" in e, df.loc["quantized_median_max"]
    e = df.loc["err_subnormal", "error"]              # NaN phase_cusum, phase_eta, stetson_k before: finite now, or a failure
    assert e is None or "err_subnormal.csv" in e, e
    assert df.attrs["summary"]["failed"] == (~ok).sum()


def test_non_finite_feature_makes_a_failed_row():
    "The batch's own check, whatever `extract_features` lets through."
    feats = dict.fromkeys(FEATURE_NAMES, 1.0)
    assert _check_finite(feats) is feats
    with pytest.raises(LightCurveError, match=r"^non-finite feature\(s\) hl_amp_ratio, stetson_k: nan, inf$"):
        _check_finite({**feats, "hl_amp_ratio": np.nan, "stetson_k": np.inf})


def test_non_finite_features_in_the_cli_summary(tmp_path):
    curve_file(tmp_path / "in" / "err_subnormal.csv", seed=3, n=100, err=5e-324)
    curve_file(tmp_path / "in" / "fine.csv", seed=2)
    code, out, err = run("features", tmp_path / "in", "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    df = pd.read_csv(tmp_path / "f.csv", index_col="id")
    ok = df["error"].isna()
    assert np.isfinite(df.loc[ok, FEATURE_NAMES].to_numpy(dtype=float)).all()
    assert f"{(~ok).sum()} failed" in out, out


# --- 3. a damaged part file ---------------------------------------------------------------------------

def test_damaged_part_is_skipped_and_recomputed(tmp_path):
    work = tmp_path / "w"
    extract_features_batch([curve(i) for i in range(3)], output=work, chunk_size=1, progress=False)
    part = work / "part-00001.parquet"
    part.write_bytes(part.read_bytes()[:50])
    with pytest.warns(UserWarning, match=r"part-00001\.parquet.*unreadable.*computed again"):
        df = extract_features_batch([curve(i) for i in range(3)], output=work, chunk_size=1, progress=False)
    assert sorted(df.index) == ["s0", "s1", "s2"] and df["error"].isna().all()
    assert df.attrs["summary"]["computed"] == 1 and df.attrs["summary"]["skipped"] == 2


def test_damaged_part_in_the_cli(tmp_path):
    for i in range(3): curve_file(tmp_path / "in" / f"c{i}.csv", seed=i)
    out = tmp_path / "f.csv"
    code, _, err = run("features", tmp_path / "in", "-o", out, "--chunk-size", "1", "--keep-work", "-q")
    assert code == 0, err
    out.unlink()
    (tmp_path / "f.csv.parts" / "part-00001.parquet").write_bytes(b"PAR1 cut")
    code, so, err = run("features", tmp_path / "in", "-o", out, "--chunk-size", "1", "-q")
    assert code == 0, err
    assert "warning:" in err and "part-00001.parquet" in err and "Traceback" not in err, err
    assert len(pd.read_csv(out)) == 3 and "1 computed now" in so, so


# --- 4. a link to a folder ----------------------------------------------------------------------------

def test_link_to_a_folder_is_listed(tmp_path):
    curve_file(tmp_path / "other" / "x.csv")
    d = tmp_path / "in"; curve_file(d / "a.csv", seed=1)
    (d / "ext").symlink_to("../other")
    (d / "self").symlink_to(d)
    tasks = batch_inputs(d)
    kinds = {Path(t.source).name: (t.kind, t.error) for t in tasks}
    assert kinds["a.csv"][0] == "file"
    for name in ("ext", "self"):
        assert kinds[name][0] == "ignored" and "a link to a folder, not followed" in kinds[name][1], kinds


def test_link_to_a_folder_in_the_cli_summary(tmp_path):
    curve_file(tmp_path / "other" / "x.csv")
    d = tmp_path / "in"; curve_file(d / "a.csv", seed=1)
    (d / "ext").symlink_to("../other")
    code, out, err = run("features", d, "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    assert "ext" in err and "a link to a folder" in err, err


# --- 5. pipes -----------------------------------------------------------------------------------------

def test_fifo_is_not_a_regular_file(tmp_path):
    fifo = tmp_path / "lc.csv"; os.mkfifo(fifo)
    assert not_a_light_curve(fifo) == "not a regular file (a pipe): save it to a file first"
    [t] = batch_inputs([fifo])
    assert t.kind == "ignored" and "a pipe" in t.error


def test_dev_stdin_pipe_in_the_cli(tmp_path):
    r = cli("features", "/dev/stdin", "-o", tmp_path / "f.csv", "-q", input=(FIXTURES / "ogle_lmc_cep.dat").read_text())
    assert r.returncode == 1, r.stderr
    assert "not a regular file (a pipe): save it to a file first" in r.stderr and "empty" not in r.stderr, r.stderr


def test_device_is_not_a_regular_file():
    assert not_a_light_curve("/dev/null") == "not a regular file (a device): save it to a file first"
