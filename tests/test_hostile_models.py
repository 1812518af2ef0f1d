"Hostile inputs to features, models and the CLI's tables: extreme feature values, degenerate curves, odd ids, piped labels, memory, many classes."
import os
import warnings

import numpy as np
import pandas as pd
import pytest

from vartransfer.cli.core import write_table
from vartransfer.features import FEATURE_NAMES
from helpers import run, assert_one_line_error


def _table(n=24, seed=0):
    "A feature table of `n` stars (random, finite, ordinary values)."
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.uniform(0.1, 2, size=(n, 16)), columns=FEATURE_NAMES,
                        index=pd.Index([f"s{i:02d}" for i in range(n)], name="id"))


# --- 1. a feature beyond float32 fails its star, not the run -----------------------------------------

EXTREME = {"s01": ("r21", 1e300), "s02": ("phi21", -1e300), "s03": ("slope_per10", 1e200), "s04": ("stetson_k", 3e38)}


@pytest.fixture(scope="module")
def extreme(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("extreme")
    ft = _table()
    for i, (f, v) in EXTREME.items(): ft.loc[i, f] = v
    write_table(ft, tmp / "ft.parquet")
    pd.DataFrame({"id": ft.index, "label": ["RRL", "EB", "CEPH", "LPV"] * 6}).to_csv(tmp / "labels.csv", index=False)
    return tmp, ft


def test_extreme_features_fail_their_stars_in_predict(extreme):
    tmp, ft = extreme
    code, out, err = run("predict", tmp / "ft.parquet", "-o", tmp / "p.csv", "-q")
    assert code == 0, err
    p = pd.read_csv(tmp / "p.csv", index_col="id")
    assert p["class"].isna().sum() >= len(EXTREME) - 1 and p["class"].notna().sum() >= len(ft) - len(EXTREME)
    for i in p.index[p["class"].isna()]: assert "out of the model's range" in p.loc[i, "error"] or "non-finite" in p.loc[i, "error"]
    assert p.loc["s01", "error"].startswith("feature(s) ['r21'] out of the model's range")
    # ordinary stars: the same answers as without the extreme ones
    alone = run("predict", tmp / "ft.parquet", "-o", tmp / "p2.csv", "-q")
    assert alone[0] == 0


def test_extreme_features_ordinary_rows_unchanged(extreme):
    tmp, ft = extreme
    from vartransfer.cli.core import load_model
    clf = load_model("sim")
    ordinary = ft.drop(index=list(EXTREME))
    both = clf.predict(ft).loc[ordinary.index]
    pd.testing.assert_frame_equal(both.drop(columns="error", errors="ignore"), clf.predict(ordinary).drop(columns="error", errors="ignore"))


def test_extreme_features_in_evaluate(extreme):
    tmp, ft = extreme
    code, out, err = run("evaluate", "sim", tmp / "ft.parquet", "--labels", tmp / "labels.csv", "--superclass", "-q")
    assert code == 0, err
    assert "labelled star(s) without usable features are not scored, e.g. s01: feature(s) ['r21'] out of the model's range" in err, err


def test_extreme_features_in_transfer(extreme):
    tmp, ft = extreme
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, out, err = run("transfer", tmp / "ft.parquet", "--labels", tmp / "labels.csv", "-o", tmp / "m", "--single",
                             "--model", "sim", "--head-epochs", 1, "--epochs", 0, "-q")
    assert code == 0, err
    assert "beyond the model's float32 range" in err and "s01" in err, err


def test_transfer_learner_names_unusable_unlabelled_stars(extreme):
    tmp, ft = extreme
    from vartransfer.cli.core import load_model
    from vartransfer.learner import feature_dls
    from vartransfer.transfer import transfer_learner
    src = load_model("sim")
    ok = ft.drop(index=list(EXTREME))
    labels = pd.Series(["RRL", "EB"] * (len(ok) // 2), index=ok.index)
    dls = feature_dls(ok, labels, transform=src.transform)
    with pytest.raises(ValueError, match=r"unlabelled star\(s\) with features non-finite after the source's transform .*e\.g\. \['s01'"):
        transfer_learner(src, dls, unlabelled=ft)


# --- 2. degenerate curves: hl_amp_ratio undefined, errors too small to weight by --------------------

def _curve(mag, err=None, seed=1):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 500, len(mag)))
    return t, np.asarray(mag, float), np.full(len(mag), .1) if err is None else np.asarray(err, float)


@pytest.mark.parametrize("mag, why", [(np.r_[np.full(60, 12.), np.linspace(11, 11.9, 40)], "the faint half is empty"),
                                      (np.r_[np.full(60, 12.), np.linspace(12.1, 13, 40)], "the bright half has no spread"),
                                      (np.r_[np.full(99, 12.5), 12.0], "the faint half is empty")])
def test_hl_amp_ratio_undefined_is_a_star_error(tmp_path, mag, why):
    t, m, e = _curve(mag)
    pd.DataFrame({"time": t + 2450000, "mag": m, "err": e}).to_csv(tmp_path / "q.csv", index=False)
    code, out, err = run("features", tmp_path / "q.csv", "-o", tmp_path / "f.csv", "-q")
    assert_one_line_error(code, err, ["hl_amp_ratio undefined", why])


@pytest.mark.parametrize("tiny", [5e-324, 1e-300, 1e-12])
def test_errors_below_the_floor_count_as_missing(tiny):
    from vartransfer.features import extract_features
    from vartransfer.lightcurve import LightCurve
    rng = np.random.default_rng(2)
    t = np.sort(rng.uniform(0, 500, 200)); m = 12 + .3 * np.sin(2 * np.pi * t / .61) + rng.normal(0, .02, 200)
    e = np.full(200, .02)
    base = extract_features(LightCurve(t, m, e))
    e2 = e.copy(); e2[[3, 50, 120]] = tiny
    lc = LightCurve(t, m, e2)
    assert lc.report["err_replaced"] == 3 and (lc.err == .02).all()
    f = extract_features(lc)
    assert all(np.isfinite(f[k]) for k in FEATURE_NAMES)
    assert {k: f[k] for k in FEATURE_NAMES} == {k: base[k] for k in FEATURE_NAMES}
    every = LightCurve(t, m, np.full(200, tiny))          # all of them: std(mag), as for no errors
    assert every.report["err_replaced"] == 200 and np.isfinite(extract_features(every)["stetson_k"])


# --- 3. ids with carriage returns, line breaks, commas and quotes survive a CSV round trip -----------

WEIRD = ["a\rb", "c\nd", "e,f", 'g"h', "\rlead", "trail\r", 'z\r\n"w"', "plain"]


@pytest.mark.parametrize("ext", ["csv", "csv.gz"])
@pytest.mark.parametrize("order", [1, -1])
def test_weird_ids_round_trip(tmp_path, ext, order):
    from vartransfer.cli.tables import read_table
    ids = WEIRD[::order]
    df = pd.DataFrame({"amplitude": np.arange(len(ids), dtype=float), "error": ["x\ry"] + [None] * (len(ids) - 1)},
                      index=pd.Index(ids, name="id"))
    write_table(df, tmp_path / f"t.{ext}")
    back = read_table(tmp_path / f"t.{ext}")
    assert back.index.tolist() == ids
    assert back["amplitude"].tolist() == df["amplitude"].tolist() and back["error"].iloc[0] == "x\ry"


def test_weird_ids_through_predict(tmp_path):
    from vartransfer.cli.tables import read_table
    ft = _table(len(WEIRD)); ft.index = pd.Index(WEIRD, name="id")
    write_table(ft, tmp_path / "ft.parquet")
    code, out, err = run("predict", tmp_path / "ft.parquet", "-o", tmp_path / "p.csv", "-q")
    assert code == 0, err
    p = read_table(tmp_path / "p.csv")
    assert p.index.tolist() == WEIRD
    write_table(ft, tmp_path / "ft.csv")
    back = read_table(tmp_path / "ft.csv")
    pd.testing.assert_frame_equal(back[FEATURE_NAMES], ft, check_exact=True)


# --- 4. labels from a pipe (`--labels <(...)`) ------------------------------------------------------

def _fifo(tmp_path, name, text):
    "A named pipe that a thread fills with `text` once."
    import threading
    path = tmp_path / name
    os.mkfifo(path)
    def feed():
        with open(path, "w") as f: f.write(text)
    threading.Thread(target=feed, daemon=True).start()
    return path


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes")
def test_labels_from_a_pipe(tmp_path):
    ft = _table(12)
    write_table(ft, tmp_path / "ft.parquet")
    text = "id,label\n" + "".join(f"{i},{c}\n" for i, c in zip(ft.index, ["RRL", "EB"] * 6))
    code, out, err = run("evaluate", "sim", tmp_path / "ft.parquet", "--labels", _fifo(tmp_path, "63", text), "--superclass", "-q")
    assert code == 0, err
    assert "on 12 labelled stars" in out, out
    code, out, err = run("evaluate", "sim", tmp_path / "ft.parquet", "--labels", _fifo(tmp_path, "64", "star,x,y\ns00,1,2\n"), "-q")
    assert_one_line_error(code, err, str(tmp_path / "64") + ": labels need columns id,label")


# --- 5. out of memory is a one-line error with a hint ------------------------------------------------

@pytest.mark.parametrize("exc", [MemoryError(), MemoryError("Unable to allocate 80.0 GiB for an array with shape (10000000000,)")])
def test_memory_error_is_one_line_with_a_hint(tmp_path, monkeypatch, exc):
    import vartransfer.cli.features as cf
    ft = _table(4)
    write_table(ft, tmp_path / "ft.parquet")
    def boom(*a, **k): raise exc
    monkeypatch.setattr(cf, "load_features", boom)
    code, out, err = run("predict", tmp_path / "ft.parquet", "-o", tmp_path / "p.csv", "-q")
    assert_one_line_error(code, err, ["out of memory reading or computing", "split the input, use --limit", "--cluster"])
    if str(exc): assert "Unable to allocate 80.0 GiB" in err


# --- 6. hundreds of classes: messages list a few --------------------------------------------------------

def test_many_single_star_classes_keep_messages_short(tmp_path):
    ft = _table(150, seed=3)
    write_table(ft, tmp_path / "ft.parquet")
    pd.DataFrame({"id": ft.index, "label": [f"C{i}" for i in range(len(ft))]}).to_csv(tmp_path / "labels.csv", index=False)
    code, out, err = run("transfer", tmp_path / "ft.parquet", "--labels", tmp_path / "labels.csv", "-o", tmp_path / "m", "--single",
                         "--model", "sim", "--head-epochs", 1, "--epochs", 0, "-q")
    assert code == 0, err
    assert "150 classes ['C0', 'C1'" in out and "(150 in all)" in out, out
    for line in (out + err).splitlines(): assert len(line) < 800, line[:300]
