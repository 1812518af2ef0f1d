"Hostile inputs (issue 13): damaged model files, diverging training, out-of-range options, unwritable outputs, cut tables and downloads."
import contextlib
import gzip
import http.server
import io
import json
import os
import pickle
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from vartransfer.cli.core import build_parser, write_table
from vartransfer.features import FEATURE_NAMES
from vartransfer.lightcurve import LightCurve, LightCurveError, LightCurves
from helpers import run, assert_one_line_error


def read_only_folder(tmp_path) -> Path:
    "A folder no file can be created in (root writes into chmod-ed folders, so then /sys)."
    if os.geteuid() == 0:
        if not Path("/sys").is_dir(): pytest.skip("running as root without /sys")
        return Path("/sys")
    ro = tmp_path / "ro"; ro.mkdir(); ro.chmod(0o555)
    return ro


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    "A feature table of 12 stars (random, finite), labels of two classes, and the shipped `sim` model saved as files."
    tmp = tmp_path_factory.mktemp("hostile")
    rng = np.random.default_rng(0)
    ft = pd.DataFrame(rng.uniform(0.1, 2, size=(12, 16)), columns=FEATURE_NAMES,
                      index=pd.Index([f"s{i:02d}" for i in range(12)], name="id"))
    write_table(ft, tmp / "ft.parquet"); write_table(ft, tmp / "ft.csv")
    pd.DataFrame({"id": ft.index, "label": ["RRL", "EB"] * 6}).to_csv(tmp / "labels.csv", index=False)
    from vartransfer.pretrained import simulated_source
    clf = simulated_source()
    clf.save(tmp / "good")
    return dict(tmp=tmp, ft=ft, clf=clf, config=json.loads((tmp / "good.json").read_text()),
                weights=(tmp / "good.safetensors").read_bytes())


# --- model files -------------------------------------------------------------------------------------

def _damaged(data, name, weights=None, config=None, text=None, encoding="utf-8"):
    "A model stem `name` in data's folder with the given weights bytes and JSON (text, or config without its sha256)."
    stem = data["tmp"] / name
    stem.with_suffix(".safetensors").write_bytes(data["weights"] if weights is None else weights)
    if text is None:
        config = {k: v for k, v in (config or data["config"]).items() if k != "weights_sha256"}
        text = json.dumps(config)
    stem.with_suffix(".json").write_text(text, encoding=encoding)
    return stem


def _six_classes(data):
    c = data["config"]
    return {**c, "classes": c["classes"][:20], "architecture": {**c["architecture"], "n_out": 20}}


MODEL_CASES = {
    "truncated_weights": (lambda d: _damaged(d, "m1", weights=d["weights"][: len(d["weights"]) // 2]),
                          "m1.safetensors: not a readable safetensors file"),
    "garbage_weights": (lambda d: _damaged(d, "m2", weights=os.urandom(4096)), "m2.safetensors: not a readable safetensors"),
    "pickle_weights": (lambda d: _damaged(d, "m3", weights=pickle.dumps({"fc1.weight": [1.0]})), "m3.safetensors: not a readable"),
    "json_list": (lambda d: _damaged(d, "m4", text="[1, 2, 3]"), "m4.json: a model JSON is an object, this file holds list"),
    "json_null": (lambda d: _damaged(d, "m5", text="null"), "m5.json: a model JSON is an object"),
    "json_truncated": (lambda d: _damaged(d, "m6", text=json.dumps(d["config"])[:300]), "m6.json: not valid JSON"),
    "json_utf16": (lambda d: _damaged(d, "m7", text=json.dumps(d["config"]), encoding="utf-16"), "m7.json: not UTF-8 text"),
    "no_transform": (lambda d: _damaged(d, "m8", config={k: v for k, v in d["config"].items() if k != "transform"}),
                     "m8.json: missing key 'transform'"),
    "arch_vs_weights": (lambda d: _damaged(d, "m9", config=_six_classes(d)), "m9.safetensors: weights do not fit the JSON's architecture"),
    "temperature_hot": (lambda d: _damaged(d, "m10", config={**d["config"], "temperature": "hot"}),
                        "m10.json: 'temperature' must be a number in [0.001, 1000]"),
    # 1e300 would scale every logit to zero: all probabilities equal, without a word
    "temperature_absurd": (lambda d: _damaged(d, "m15", config={**d["config"], "temperature": 1e300}),
                           "m15.json: 'temperature' must be a number in [0.001, 1000]"),
    "arch_extra_key": (lambda d: _damaged(d, "m11", config={**d["config"], "architecture": {**d["config"]["architecture"], "foo": 1}}),
                       "m11.json: architecture has unknown key(s) ['foo']"),
    # 160 GB if the network were built before the weights' shapes (from the safetensors header) were checked
    "arch_huge": (lambda d: _damaged(d, "m12", config={**d["config"], "architecture": {**d["config"]["architecture"], "widths": [200_000, 200_000]}}),
                  "m12.safetensors: weights do not fit the JSON's architecture"),
    "json_deep": (lambda d: _damaged(d, "m13", text="[" * 200_000 + "]" * 200_000), "m13.json: not a model JSON"),
    "json_deep_object": (lambda d: _damaged(d, "m14", text='{"a":' * 100_000 + "1" + "}" * 100_000), "m14.json: not a model JSON"),
}


@pytest.mark.parametrize("case", list(MODEL_CASES))
def test_damaged_model_is_one_line(data, case):
    make, message = MODEL_CASES[case]
    stem = make(data)
    code, out, err = run("predict", data["tmp"] / "ft.parquet", "-m", stem, "-o", data["tmp"] / f"p-{case}.csv", "-q")
    assert_one_line_error(code, err, message)
    code, out, err = run("evaluate", stem, data["tmp"] / "ft.parquet", "--labels", data["tmp"] / "labels.csv", "-q")
    assert_one_line_error(code, err, message)
    from vartransfer.model import ModelFileError, VarClassifier
    with pytest.raises(ModelFileError, match=message.split(": ", 1)[1][:20]): VarClassifier.load(stem)


def test_nonfinite_weights_never_saved_nor_used(data, tmp_path):
    from safetensors.torch import save_file
    from vartransfer.model import VarClassifier
    clf = data["clf"]
    state = {k: v.clone() for k, v in clf.net.state_dict().items()}
    state["fc2.weight"][0, 0] = float("nan")
    stem = _damaged(data, "nan")
    save_file(state, str(stem.with_suffix(".safetensors")))
    code, out, err = run("predict", data["tmp"] / "ft.parquet", "-m", stem, "-o", tmp_path / "p.csv", "-q")
    assert_one_line_error(code, err, "non-finite weights in ['fc2.weight']")
    assert not (tmp_path / "p.csv").exists()
    bad = VarClassifier.load(data["tmp"] / "good")
    with torch.no_grad(): bad.net.fc1.bias[0] = float("inf")
    with pytest.raises(ValueError, match="non-finite weights"): bad.save(tmp_path / "bad")
    assert not (tmp_path / "bad.json").exists()
    with pytest.raises(ValueError, match="weights are non-finite"): bad.predict(data["ft"])


@pytest.fixture(scope="module")
def stacked(data):
    "A small `StackedClassifier` (the `sim` network and a 5-tree forest on the 12 stars) saved as files: its folder, JSON and weights."
    from vartransfer.stack import StackedClassifier
    from vartransfer.transfer import ForestClassifier
    clf = data["clf"]
    labels = pd.Series(clf.classes[:2] * 6, index=data["ft"].index)
    forest = ForestClassifier(data["ft"], labels, classes=clf.classes, n_estimators=5)
    StackedClassifier({"net": clf, "forest": forest}, {"net": 1, "forest": 1}).save(data["tmp"] / "stacked")
    return dict(tmp=data["tmp"], config=json.loads((data["tmp"] / "stacked.json").read_text()),
                weights=(data["tmp"] / "stacked.safetensors").read_bytes())


def _damaged_stack(s, name, weights=None, edit=None, deep=False):
    "A stacked model `name` with the given weights bytes and its JSON passed through `edit` (`deep`: a meta entry nested 100,000 deep), the sha256 recorded again."
    import hashlib
    stem, config = s["tmp"] / name, json.loads(json.dumps(s["config"]))
    weights = s["weights"] if weights is None else weights
    if edit: edit(config)
    stem.with_suffix(".safetensors").write_bytes(weights)
    text = json.dumps({**config, "weights_sha256": hashlib.sha256(weights).hexdigest()})
    stem.with_suffix(".json").write_text(text.replace('"meta": {', '"meta": {"x": ' + "[" * 100_000 + "]" * 100_000 + ", ") if deep else text)
    return stem


STACK_CASES = {
    "truncated_weights": (lambda s: _damaged_stack(s, "s1", weights=s["weights"][: len(s["weights"]) // 2]),
                          "s1.safetensors: not a readable safetensors file"),
    "garbage_weights": (lambda s: _damaged_stack(s, "s2", weights=os.urandom(5000)), "s2.safetensors: not a readable safetensors file"),
    "no_members": (lambda s: _damaged_stack(s, "s3", edit=lambda c: c.pop("members")), "stacked model ", "s3.json: missing key 'members'"),
    "kind_bogus": (lambda s: _damaged_stack(s, "s4", edit=lambda c: c["members"][0].update(kind="bogus")),
                   "s4.json: member 0: 'kind' must be 'network', 'zero-shot' or 'forest'"),
    "forest_empty": (lambda s: _damaged_stack(s, "s5", edit=lambda c: c["members"][1].update(forest={})),
                     "s5.json: member 'forest': forest: missing key 'classes'"),
    "newer_format": (lambda s: _damaged_stack(s, "s6", edit=lambda c: c.update(format_version=99)),
                     "s6.json: format version 99 is newer than this vartransfer reads"),
    "arch_huge": (lambda s: _damaged_stack(s, "s7", edit=lambda c: c["members"][0]["network"]["architecture"].update(widths=[200_000, 200_000])),
                  "s7.safetensors: weights do not fit the JSON's architecture"),
    "arch_extra_key": (lambda s: _damaged_stack(s, "s8", edit=lambda c: c["members"][0]["network"]["architecture"].update(foo=1)),
                       "s8.json: member 'net': architecture has unknown key(s) ['foo']"),
    "json_deep": (lambda s: _damaged_stack(s, "s9", deep=True),
                  "s9.json: not a model JSON"),
}


@pytest.mark.parametrize("case", list(STACK_CASES))
def test_damaged_stacked_model_is_one_line(stacked, case):
    make, *message = STACK_CASES[case]
    stem = make(stacked)
    from vartransfer.model import ModelFileError
    from vartransfer.stack import load_classifier
    with pytest.raises(ModelFileError) as e: load_classifier(stem)
    assert all(m in str(e.value) for m in message) and "\n" not in str(e.value), str(e.value)


def test_damaged_stacked_model_via_cli(stacked, data, tmp_path):
    for case in ("no_members", "arch_huge", "truncated_weights"):
        make, *message = STACK_CASES[case]
        code, out, err = run("predict", data["tmp"] / "ft.parquet", "-m", make(stacked), "-o", tmp_path / f"p-{case}.csv", "-q")
        assert_one_line_error(code, err, message)
        assert not (tmp_path / f"p-{case}.csv").exists()
    cmd = "import sys; from vartransfer.cli.main import main; sys.exit(main())"
    for case in ("no_members", "arch_huge"):   # a fresh process: exit status 1, one line, no traceback
        make, *message = STACK_CASES[case]
        r = subprocess.run([sys.executable, "-c", cmd, "predict", str(data["tmp"] / "ft.parquet"), "-m", str(make(stacked)),
                            "-o", str(tmp_path / "q.csv"), "-q"], capture_output=True, text=True)
        assert r.returncode == 1 and "Traceback" not in r.stderr and r.stderr.count("\n") == 1 and message[-1] in r.stderr, r.stderr


def test_stacked_model_files_share_one_mode_and_load_back(stacked, data):
    from vartransfer.stack import StackedClassifier, load_classifier
    tmp = stacked["tmp"]
    assert (tmp / "stacked.safetensors").stat().st_mode == (tmp / "stacked.json").stat().st_mode   # safetensors alone writes 0600
    back = load_classifier(tmp / "stacked")
    assert isinstance(back, StackedClassifier) and back.predict_proba(data["ft"]).shape == (12, len(data["clf"].classes))
    config = {k: v for k, v in stacked["config"].items() if k != "weights_sha256"}   # the sha256 is optional, as for one network
    (tmp / "nosha.safetensors").write_bytes(stacked["weights"]); (tmp / "nosha.json").write_text(json.dumps(config))
    np.testing.assert_array_equal(load_classifier(tmp / "nosha").predict_proba(data["ft"]), back.predict_proba(data["ft"]))


@pytest.mark.parametrize("lr", [float("nan"), 1e30])
def test_diverging_training_stops_with_an_error(data, lr):
    from vartransfer.learner import NonFiniteError
    from vartransfer.transfer import train_scratch
    labels = pd.Series(["RRL", "EB"] * 6, index=data["ft"].index)
    with pytest.raises(NonFiniteError, match="training diverged"):
        train_scratch(data["ft"], labels, epochs=3, lr=lr, seed=0)


# --- options and outputs ---------------------------------------------------------------------------

BAD_OPTIONS = [
    ["train", "f", "--labels", "l", "-o", "m", "--epochs", "0"],
    ["train", "f", "--labels", "l", "-o", "m", "--lr", "nan"],
    ["train", "f", "--labels", "l", "-o", "m", "--lr", "1e6"],
    ["train", "f", "--labels", "l", "-o", "m", "--valid-pct", "1.5"],
    ["train", "f", "--labels", "l", "-o", "m", "--widths", "64,-1"],
    ["train", "f", "--labels", "l", "-o", "m", "--seed", "-1"],
    ["transfer", "f", "--labels", "l", "-o", "m", "--epochs", "-3"],
    ["transfer", "f", "--labels", "l", "-o", "m", "--head-epochs", "-1"],
    ["predict", "f", "-o", "p.csv", "--limit", "-1"],
    ["predict", "f", "-o", "p.csv", "--jobs", "0"],
    ["evaluate", "sim", "f", "--labels", "l", "--jobs", "-2"],
    ["simulate", "ASAS", "-o", "s.parquet", "-n", "0"],
    ["demo", "--fraction", "0"],
    ["demo", "--fraction", "inf"],
    ["demo", "--n-seeds", "0"],
]


@pytest.mark.parametrize("argv", BAD_OPTIONS, ids=[" ".join(a[:1] + a[-2:]) for a in BAD_OPTIONS])
def test_numeric_options_have_ranges(argv):
    err = io.StringIO()
    with contextlib.redirect_stderr(err), pytest.raises(SystemExit) as e: build_parser().parse_args(argv)
    assert e.value.code == 2 and "give " in err.getvalue()


def test_transfer_into_read_only_folder_fails_before_training(data, tmp_path):
    ro = read_only_folder(tmp_path)
    code, out, err = run("transfer", data["tmp"] / "ft.parquet", "--labels", data["tmp"] / "labels.csv", "-o", ro / "model",
                         "--head-epochs", 1, "--epochs", 1, "-q")
    assert_one_line_error(code, err, "is not writable")
    assert out == ""
    code, out, err = run("predict", data["tmp"] / "ft.parquet", "-o", ro / "p.csv", "-q")
    assert_one_line_error(code, err, "is not writable")


def test_evaluate_checks_the_confusion_format_before_writing_json(data, tmp_path):
    code, out, err = run("evaluate", "sim", data["tmp"] / "ft.parquet", "--labels", data["tmp"] / "labels.csv",
                         "--json", tmp_path / "s.json", "--confusion", tmp_path / "c.xyz", "-q")
    assert_one_line_error(code, err, "cannot save a figure as .xyz")
    assert not (tmp_path / "s.json").exists() and out == ""


def test_file_where_a_folder_goes_and_back(data, tmp_path):
    (tmp_path / "afile").write_text("x")
    code, out, err = run("predict", data["tmp"] / "ft.parquet", "-o", tmp_path / "afile" / "p.csv", "-q")
    assert_one_line_error(code, err, "afile is a file, not a folder")
    code, out, err = run("demo", tmp_path / "afile", "--simulated", "-q")
    assert_one_line_error(code, err, "afile is a file; give a folder name")
    code, out, err = run("fetch", "eros2_samples", "--mirror", tmp_path / "afile")
    assert_one_line_error(code, err, "afile is a file; give a folder name")
    code, out, err = run("predict", data["tmp"] / "ft.parquet", "-o", tmp_path, "-q")
    assert_one_line_error(code, err, "is a folder; give a file name")


# --- tables ----------------------------------------------------------------------------------------

def test_feature_table_missing_a_column_says_which(data, tmp_path):
    write_table(data["ft"].drop(columns=["phi21"]), tmp_path / "nophi.csv")
    code, out, err = run("predict", tmp_path / "nophi.csv", "-o", tmp_path / "p.csv", "-q")
    assert_one_line_error(code, err, ["nophi.csv", "without the feature column(s) ['phi21']"])
    assert "time" not in err


def test_feature_csv_cut_mid_row_is_an_error(data, tmp_path):
    text = (data["tmp"] / "ft.csv").read_text()
    (tmp_path / "cut.csv").write_text(text[: len(text) - 60])
    code, out, err = run("predict", tmp_path / "cut.csv", "-o", tmp_path / "p.csv", "-q")
    assert_one_line_error(code, err, ["cut.csv", "the last row is cut short"])
    (tmp_path / "cut.csv.gz").write_bytes(gzip.compress(text.encode())[:-30])   # a truncated gzip feature table
    code, out, err = run("predict", tmp_path / "cut.csv.gz", "-o", tmp_path / "p.csv", "-q")
    assert_one_line_error(code, err, ["cut.csv.gz", "Compressed file ended before"])


def test_string_in_a_feature_column_names_file_column_and_row(data, tmp_path):
    ft = data["ft"].astype({"period": object}); ft.loc["s03", "period"] = "oops"
    write_table(ft, tmp_path / "oops.csv")
    code, out, err = run("predict", tmp_path / "oops.csv", "-o", tmp_path / "p.csv", "-q")
    assert_one_line_error(code, err, ["oops.csv", "column 'period' holds 'oops' (row id s03)"])


def test_lightcurves_parquet_with_damaged_metadata(tmp_path):
    import pyarrow.parquet as pq
    t = np.linspace(0, 30, 60)
    lcs = LightCurves.from_lightcurves([LightCurve(t, 12 + np.sin(t), np.full(60, .01), id="a")])
    table = pq.read_table(lcs.to_parquet(tmp_path / "ok.parquet"))
    pq.write_table(table.replace_schema_metadata({b"vartransfer.meta": b"{'not': json}"}), tmp_path / "bad.parquet")
    with pytest.raises(LightCurveError, match="bad.parquet: its 'vartransfer.meta' metadata is damaged"):
        LightCurves.read_parquet(tmp_path / "bad.parquet")
    code, out, err = run("predict", tmp_path / "bad.parquet", "-o", tmp_path / "p.csv", "-q")
    assert_one_line_error(code, err, ["bad.parquet", "metadata is damaged", "write the file again"])


# --- light curves ----------------------------------------------------------------------------------

def test_lightcurve_needs_real_numbers():
    t = np.linspace(0, 10, 40); m = 12 + 0.1 * np.sin(t)
    with pytest.raises(LightCurveError, match="mag is complex"): LightCurve(t, m + 1j)
    with pytest.raises(LightCurveError, match="mag is boolean"): LightCurve(t, m > 12)
    with pytest.raises(LightCurveError, match="err is complex"): LightCurve(t, m, np.full(40, 0.01 + 0j))


def test_impossible_magnitudes_are_sentinels_and_counted():
    t = np.linspace(0, 0.7 * 20, 200); m = 12 + 0.3 * np.sin(2 * np.pi * t / 0.7)
    m[17] = 1e30
    lc = LightCurve(t, m)
    assert lc.report["mag_range_dropped"] == 1 and len(lc) == 199 and lc.mag.max() < 13
    with pytest.raises(LightCurveError, match="every magnitude is outside -30..50"):
        LightCurve(t, np.where(np.arange(200) % 2, 1e300, -1e300))


# --- downloads and the cache -----------------------------------------------------------------------

class _Short(http.server.BaseHTTPRequestHandler):
    "Announces 17,773 bytes, sends 8,886 (as the issue saw)."
    def do_GET(self):
        self.send_response(200); self.send_header("Content-Length", "17773"); self.end_headers()
        self.wfile.write(b"7" * 8886); self.close_connection = True
    def log_message(self, *args): pass


def test_truncated_download_is_never_cached(tmp_path, monkeypatch):
    from vartransfer.datasets import DownloadError, fetch
    monkeypatch.setenv("VARTRANSFER_HOME", str(tmp_path / "home")); monkeypatch.delenv("VARTRANSFER_MIRROR", raising=False)
    monkeypatch.delenv("VARTRANSFER_OFFLINE", raising=False)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Short)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with pytest.raises(DownloadError, match="got 8886 of its 17773 bytes"):
            fetch("hipparcos", "HIP1.html", f"http://127.0.0.1:{server.server_address[1]}/HIP1")
    finally: server.shutdown(); server.server_close()
    assert not any(p.is_file() for p in (tmp_path / "home").rglob("*"))


def test_corrupt_cache_note_survives_the_error(tmp_path, monkeypatch):
    from vartransfer.datasets import DownloadError, fetch
    monkeypatch.setenv("VARTRANSFER_HOME", str(tmp_path)); monkeypatch.delenv("VARTRANSFER_MIRROR", raising=False)
    monkeypatch.setenv("VARTRANSFER_OFFLINE", "1")
    cached = tmp_path / "eros2_samples" / "x.time"; cached.parent.mkdir(); cached.write_bytes(b"junk")
    with pytest.warns(UserWarning, match="removed it"), pytest.raises(DownloadError, match="did not match its pinned sha256 and was removed"):
        fetch("eros2_samples", "x.time", "https://example.org/x.time", "0" * 64)
    assert not cached.exists()


# --- layout ----------------------------------------------------------------------------------------

def test_no_import_circle_between_datasets_simulate_and_stars():
    code = ("import sys, vartransfer.simulate, vartransfer.stars; assert 'vartransfer.datasets' not in sys.modules, 'datasets'; "
            "import vartransfer.datasets as d; assert 'sim_asas' in d.list_datasets().index; print('ok')")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.stdout.strip() == "ok", r.stderr[-500:]


def test_uncleaned_long_table_values_are_dropped_and_counted(tmp_path):
    t = np.linspace(0, 14, 200)
    data = pd.DataFrame({"id": "a", "band": "V", "time": t, "mag": 12 + 0.3 * np.sin(2 * np.pi * t / 0.7), "err": 0.01})
    data.loc[17, "mag"] = 1e30; data.loc[40, "mag"] = -1e300; data.loc[50, "time"] = np.inf
    data.to_parquet(tmp_path / "raw.parquet")
    from vartransfer.io import read_parquet   # a long table from elsewhere is re-validated
    coll = read_parquet(tmp_path / "raw.parquet")
    assert coll.meta[["mag_range_dropped", "nonfinite_dropped"]].iloc[0].tolist() == [2, 1]
    assert len(coll[0]) == 197 and coll[0].mag.max() < 13


def test_truncated_labels_csv_gz_is_one_line(data, tmp_path):
    (tmp_path / "l.csv.gz").write_bytes(gzip.compress((data["tmp"] / "labels.csv").read_bytes() * 50)[:-40])
    code, out, err = run("evaluate", "sim", data["tmp"] / "ft.parquet", "--labels", tmp_path / "l.csv.gz", "-q")
    assert_one_line_error(code, err, ["l.csv.gz", "not a readable labels table"])



def test_damaged_survey_files_fail_in_one_line(tmp_path):
    "Every fixture layout, cut, overwritten, padded or gapped at seeded places: a light curve or a one-line LightCurveError, never a traceback."
    import random
    from vartransfer.io.read import read_lightcurve
    fixtures = Path(__file__).resolve().parent / "fixtures"
    rng, seen = random.Random(7), 0
    for path in sorted(p for p in fixtures.glob("*.*") if p.suffix != ".py"):
        raw = path.read_bytes()
        for k in range(6):
            b = bytearray(raw)
            i = rng.randrange(len(b))
            if k % 3 == 0: b = b[:max(1, i)]                                         # cut download
            elif k % 3 == 1:
                for _ in range(8): b[rng.randrange(len(b))] = rng.randrange(256)      # flipped bytes
            else: del b[i:i + rng.randrange(1, 400)]                                  # a gap
            damaged = tmp_path / f"{k}_{path.name}"
            damaged.write_bytes(bytes(b))
            try: read_lightcurve(damaged, errors="skip")
            except (LightCurveError, ValueError) as e: assert "\n" not in str(e).strip(), (damaged.name, str(e))
            seen += 1
    assert seen == 6 * len([p for p in fixtures.glob("*.*") if p.suffix != ".py"])


def test_decompression_bomb_is_a_failure_row_and_memory_stays_bounded(tmp_path, monkeypatch):
    "Gzip data that unpack past the read limit (lowered here to 1 MiB) become a failure row at the limit; the other file is read."
    import vartransfer.io.core as core
    monkeypatch.setattr(core, "READ_MAX_BYTES", 1 << 20)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bomb.csv.gz").write_bytes(gzip.compress(b"1,2,3\n" * (1 << 20)))   # 6 MiB unpacked from a few kB
    (folder / "star.dat").write_bytes((Path(__file__).resolve().parent / "fixtures" / "OGLE-LMC-CEP-0001.dat").read_bytes())
    code, out, err = run("features", folder, "-o", tmp_path / "f.csv", "--jobs", "1", "-q")
    assert code == 0, err
    f = pd.read_csv(tmp_path / "f.csv").set_index("id")
    assert len(f) == 2 and pd.isna(f.loc["star", "error"]), f
    bomb = f.drop(index="star")["error"].iloc[0]
    assert "bomb.csv.gz: larger than the 1 MiB one file may take in memory" in bomb and "\n" not in bomb


# --- probe of hostile inputs, second round: ids, headers, FITS text, notes -----------------------------

OGLE = Path(__file__).resolve().parent / "fixtures" / "OGLE-LMC-CEP-0001.dat"


def test_identical_stars_in_two_archives_are_rows_of_both(tmp_path):
    "Copies of an archive: `features` keeps both copies' rows, with the ids `predict` gives them (id@archive)."
    import zipfile
    for name in ("A.zip", "B.zip"):
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            for star in ("s1", "s2"): z.writestr(f"lcs/{star}.dat", OGLE.read_bytes())
    code, out, err = run("features", tmp_path / "A.zip", tmp_path / "B.zip", "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    f = pd.read_csv(tmp_path / "f.csv", dtype={"id": str})
    assert sorted(f["id"]) == ["s1@A.zip", "s1@B.zip", "s2@A.zip", "s2@B.zip"], f["id"]
    assert "wrote 4 feature rows" in out and "2 id(s) came from several inputs" in err, (out, err)
    code, out, err = run("predict", tmp_path / "A.zip", tmp_path / "B.zip", "-o", tmp_path / "p.csv", "-q")
    assert code == 0, err
    assert sorted(pd.read_csv(tmp_path / "p.csv")["id"]) == sorted(f["id"])


def test_renamed_ids_never_take_an_id_already_there(tmp_path):
    "x in a/ and b/ would become x@a and x@b, but c/ holds a star named x@a: the fuller paths are used."
    from vartransfer.batch import _unique_ids
    for sub, name in (("a", "x"), ("b", "x"), ("c", "x@a")):
        (tmp_path / "col" / sub).mkdir(parents=True)
        (tmp_path / "col" / sub / f"{name}.dat").write_bytes(OGLE.read_bytes())
    code, out, err = run("features", tmp_path / "col", "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    ids = pd.read_csv(tmp_path / "f.csv")["id"].tolist()
    assert len(set(ids)) == 3 and "x@a" in ids and sum(i.startswith("x@") for i in ids) == 3, ids
    flat = pd.DataFrame({"id": ["x", "x", "x@a", "x@b"], "band": "", "source": ["r/a/x.dat", "r/b/x.dat", "q/x@a.dat", "q/x@b.dat"]})
    assert _unique_ids(flat)[0]["id"].tolist() == ["x@r/a", "x@r/b", "x@a", "x@b"]


def test_a_line_of_30000_fields_is_no_feature_table_and_quick(tmp_path):
    "The header of a huge one-line CSV is read from its first 64 kB, not parsed whole (pandas' name mangling is quadratic)."
    import time
    from pathlib import Path as P
    from vartransfer.inputs import _is_feature_table, csv_header
    from vartransfer.cli.tables import is_feature_table, table_columns
    (tmp_path / "row.csv").write_text(",".join(["14.2"] * 30_000) + "\n")
    (tmp_path / "long.csv").write_text("1," * 2_000_000 + "1\n")
    t0 = time.perf_counter()
    for f in ("row.csv", "long.csv"):
        assert not _is_feature_table(P(tmp_path / f)) and not is_feature_table(tmp_path / f) and table_columns(tmp_path / f) == []
    assert time.perf_counter() - t0 < 1
    assert csv_header(tmp_path / "row.csv") is None


NA_IDS = ["NA", "NULL", "None", "nan", "null", "-nan", "N/A", "#N/A", "", "<NA>"]


@pytest.mark.parametrize("ext", ["csv", "csv.gz", "fits", "parquet"])
def test_ids_pandas_reads_as_missing_are_kept(data, tmp_path, ext):
    "Star ids such as NA, null, nan are ids: feature tables and labels read them verbatim, and predict keeps them."
    from vartransfer.cli.labels import read_labels
    from vartransfer.cli.tables import read_table
    ids = [i for i in NA_IDS if i]
    ft = data["ft"].iloc[:len(ids)].set_axis(pd.Index(ids, name="id")).assign(band="NA", error=None)
    write_table(ft, tmp_path / f"ft.{ext}")
    back = read_table(tmp_path / f"ft.{ext}")
    assert back.index.tolist() == ids and back["band"].tolist() == ["NA"] * len(ids) and back["error"].isna().all()
    pd.DataFrame({"id": ids, "label": ["RRL", "EB"] * 4 + ["RRL"]}).to_csv(tmp_path / "labels.csv", index=False)
    assert read_labels(tmp_path / "labels.csv", ids).index.tolist() == ids
    code, out, err = run("predict", tmp_path / f"ft.{ext}", "-o", tmp_path / "p.csv", "-q")
    assert code == 0, err
    assert read_table(tmp_path / "p.csv").index.tolist() == ids


def test_fits_output_holds_any_text(data, tmp_path):
    "Non-ASCII ids and paths go to FITS as UTF-8 and come back the same."
    from vartransfer.cli.core import read_table
    ids = ["★ étoile 1", "ü 2", "plain"] + [f"s{i}" for i in range(9)]
    ft = data["ft"].set_axis(pd.Index(ids, name="id")).assign(source="lc/weird space name é ü.dat")
    write_table(ft, tmp_path / "ft.csv")
    code, out, err = run("predict", tmp_path / "ft.csv", "-o", tmp_path / "p.fits", "-q")
    assert code == 0, err
    assert read_table(tmp_path / "p.fits").index.tolist() == ids
    write_table(ft, tmp_path / "ft.fits")
    back = read_table(tmp_path / "ft.fits")
    assert back.index.tolist() == ids and (back["source"] == "lc/weird space name é ü.dat").all()
    (tmp_path / "é ü.dat").write_bytes(OGLE.read_bytes())
    code, out, err = run("features", tmp_path / "é ü.dat", "-o", tmp_path / "f.fits", "-q")
    assert code == 0, err
    assert read_table(tmp_path / "f.fits").index.tolist() == ["é ü"]


def test_duplicated_ids_are_named_not_blamed_on_bands(data, tmp_path):
    ft = pd.concat([data["ft"], data["ft"].iloc[:2]])
    write_table(ft, tmp_path / "dup.csv")
    code, out, err = run("evaluate", data["tmp"] / "good", tmp_path / "dup.csv", "--labels", data["tmp"] / "labels.csv", "-q")
    assert_one_line_error(code, err, ["2 id(s) on several rows", "['s00', 's01']"])
    assert "--band" not in err and "nan" not in err


def test_blank_labels_are_counted_and_one_class_is_said(data, tmp_path):
    labels = pd.read_csv(data["tmp"] / "labels.csv")
    labels.loc[:2, "label"] = ""
    labels.to_csv(tmp_path / "blank.csv", index=False)
    code, out, err = run("evaluate", data["tmp"] / "good", data["tmp"] / "ft.parquet", "--labels", tmp_path / "blank.csv", "--superclass", "-q")
    assert code == 0, err
    assert "on 9 labelled stars" in out and "3 of 12 labelled rows have a blank 'label' and are left out" in err, err
    labels.iloc[3:4].to_csv(tmp_path / "one.csv", index=False)
    code, out, err = run("evaluate", data["tmp"] / "good", data["tmp"] / "ft.parquet", "--labels", tmp_path / "one.csv", "--superclass", "-q")
    assert code == 0, err
    assert "the scored labels hold one class" in err and "y_true" not in err, err


def test_broken_link_and_pipe_in_a_folder_are_listed_as_skipped(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "star.dat").write_bytes(OGLE.read_bytes())
    (folder / "gone.dat").symlink_to(tmp_path / "nonexistent.dat")
    os.mkfifo(folder / "pipe.dat")
    code, out, err = run("features", folder, "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    assert "skipped 2 file(s)" in err and "gone.dat: a broken link" in err and "pipe.dat: not a regular file (a named pipe)" in err, err


def test_no_light_curves_note_counts_the_skipped_files(tmp_path):
    for i in range(5): (tmp_path / f"README{i}.md").write_text("x")
    code, out, err = run("features", tmp_path, "-o", tmp_path / "f.csv", "-q")
    assert_one_line_error(code, err, ["skipped 5 file(s)", "..."])


@pytest.mark.parametrize("kind", ["semicolon", "upper", "upper_semicolon"])
def test_feature_tables_with_semicolons_or_upper_case_names(data, tmp_path, kind):
    ft = data["ft"].reset_index()
    if "upper" in kind: ft.columns = [c.upper() for c in ft.columns]
    ft.to_csv(tmp_path / "ft.csv", index=False, sep=";" if "semicolon" in kind else ",")
    code, out, err = run("predict", tmp_path / "ft.csv", "-o", tmp_path / "p.csv", "-q")
    assert code == 0, err
    assert read_p(tmp_path / "p.csv") == data["ft"].index.tolist()


def read_p(path):
    return pd.read_csv(path, dtype={"id": str})["id"].tolist()


# --- probe 3: outputs over inputs, bad archive members, duplicated table entries, plain messages ----------

def test_output_over_an_input_is_refused_even_with_force(data, tmp_path):
    "features/predict with -o naming an input (the same file by any path) stop before any work; the input is intact."
    lc = tmp_path / "lc.dat"
    lc.write_bytes(OGLE.read_bytes())
    (tmp_path / "link.dat").symlink_to(lc)
    for argv in (["features", lc, "-o", lc], ["features", tmp_path / "link.dat", "-o", tmp_path / "." / "lc.dat"]):
        code, out, err = run(*argv, "-f", "-q")
        assert_one_line_error(code, err, "is also an input")
        assert lc.read_bytes() == OGLE.read_bytes()
    ft = tmp_path / "ft.csv"
    write_table(data["ft"], ft)
    before = ft.read_bytes()
    code, out, err = run("predict", ft, "-o", ft, "-f", "-q")
    assert_one_line_error(code, err, "is also an input")
    assert ft.read_bytes() == before
    code, out, err = run("evaluate", data["tmp"] / "good", ft, "--labels", data["tmp"] / "labels.csv", "--json", ft, "-f", "-q")
    assert_one_line_error(code, err, "is also an input")
    assert ft.read_bytes() == before


def _zip_of(path, members, encrypted=()):
    "A zip of (name, bytes) members, names allowed twice; the members named in `encrypted` flagged as such in both headers."
    import warnings
    import zipfile
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # zipfile's note on a name written twice
        with zipfile.ZipFile(path, "w") as z:
            for name, data in members: z.writestr(name, data)
    raw = bytearray(path.read_bytes())
    for name in encrypted:
        local, central = raw.find(name.encode()), raw.find(name.encode(), raw.find(b"PK\x01\x02"))
        raw[raw.rfind(b"PK\x03\x04", 0, local) + 6] |= 1
        raw[raw.rfind(b"PK\x01\x02", 0, central) + 8] |= 1
    path.write_bytes(bytes(raw))
    return path


def test_one_bad_zip_member_fails_alone(tmp_path):
    "A member name twice or an encrypted member: that member is a failed row with a plain reason, the good stars are kept."
    ogle, other = OGLE.read_bytes(), (OGLE.parent / "ogle_lmc_cep.dat").read_bytes()
    for kind, z in (("appears twice", _zip_of(tmp_path / "dup.zip", [("a.dat", ogle), ("a.dat", ogle), ("c.dat", other)])),
                    ("is encrypted", _zip_of(tmp_path / "enc.zip", [("a.dat", ogle), ("c.dat", other)], encrypted=["a.dat"]))):
        code, out, err = run("features", z, "-o", tmp_path / f"{z.stem}.csv", "-q")
        assert code == 0, err
        t = pd.read_csv(tmp_path / f"{z.stem}.csv", dtype={"id": str})
        assert t["error"].isna().sum() == 1 and t.loc[t["error"].isna(), "id"].tolist() == ["c"], t
        assert f"member a.dat {kind}" in t["error"].dropna().iloc[0] and "RuntimeError" not in err and "ZipInfo" not in err, err


def test_empty_archives_and_a_cut_gzip_say_so(tmp_path):
    import tarfile
    import zipfile
    zipfile.ZipFile(tmp_path / "empty.zip", "w").close()
    with tarfile.open(tmp_path / "empty.tar.gz", "w:gz"): pass
    for name in ("empty.zip", "empty.tar.gz"):
        code, out, err = run("features", tmp_path / name, "-o", tmp_path / "f.csv", "-q")
        assert_one_line_error(code, err, f"{name}: empty archive (no files)")
    folder = tmp_path / "gz"
    folder.mkdir()
    (folder / "good.dat.gz").write_bytes(gzip.compress(OGLE.read_bytes()))
    (folder / "cut.csv.gz").write_bytes(gzip.compress(OGLE.read_bytes())[:11])
    code, out, err = run("features", folder, "-o", tmp_path / "g.csv", "-q")
    assert code == 0, err
    assert "cut.csv.gz: truncated or corrupt gzip data" in err and "prose" not in err, err


def test_links_and_devices_in_a_tar_are_listed_never_followed(tmp_path):
    import tarfile
    with tarfile.open(tmp_path / "links.tar", "w") as tf:
        tf.add(OGLE, "real.dat")
        for name, kind, target in (("sym.dat", tarfile.SYMTYPE, "/etc/passwd"), ("hard.dat", tarfile.LNKTYPE, "real.dat"),
                                   ("fifo", tarfile.FIFOTYPE, ""), ("dev", tarfile.CHRTYPE, "")):
            info = tarfile.TarInfo(name); info.type, info.linkname = kind, target; tf.addfile(info)
    code, out, err = run("features", tmp_path / "links.tar", "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    assert "skipped 4 file(s)" in err, err
    for text in ("sym.dat: a symbolic link (to /etc/passwd), not followed", "hard.dat: a hard link (to real.dat), not followed",
                 "fifo: a named pipe"):
        assert text in err, err
    from vartransfer.io.read import read_archive
    assert read_archive(tmp_path / "links.tar", errors="skip").skipped["dev"].endswith("links.tar:dev: a device; not a light curve")
    assert pd.read_csv(tmp_path / "f.csv")["id"].tolist() == ["real"]


def test_predict_refuses_duplicated_ids_and_columns(data, tmp_path):
    "predict, like evaluate and transfer, refuses an (id, band) on two rows; any command refuses a column given twice."
    write_table(pd.concat([data["ft"], data["ft"].iloc[:2]]), tmp_path / "dup.csv")
    code, out, err = run("predict", tmp_path / "dup.csv", "-o", tmp_path / "p.csv", "-q")
    assert_one_line_error(code, err, ["2 id(s) on several rows", "['s00', 's01']"])
    bands = pd.concat([data["ft"].assign(band="V"), data["ft"].assign(band="I")])   # ids repeat per band: fine
    write_table(bands, tmp_path / "bands.csv")
    code, out, err = run("predict", tmp_path / "bands.csv", "-o", tmp_path / "pb.csv", "-q")
    assert code == 0 and "predicted 24 of 24" in out, err
    ft = data["ft"].reset_index()
    ft.insert(2, "amplitude ", 999.)
    ft.to_csv(tmp_path / "twice.csv", index=False, header=[*ft.columns[:2], "amplitude", *ft.columns[3:]])
    code, out, err = run("predict", tmp_path / "twice.csv", "-o", tmp_path / "p2.csv", "-q")
    assert_one_line_error(code, err, "column amplitude appears twice")


def test_predict_takes_one_feature_table_and_refuses_an_empty_one(data, tmp_path):
    code, out, err = run("predict", data["tmp"] / "ft.csv", data["tmp"] / "ft.parquet", "-o", tmp_path / "p.csv", "-q")
    assert_one_line_error(code, err, "one feature table at a time")
    data["ft"].iloc[:0].reset_index().to_csv(tmp_path / "header.csv", index=False)
    code, out, err = run("predict", tmp_path / "header.csv", "-o", tmp_path / "p.csv", "-q")
    assert_one_line_error(code, err, "no stars in")
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("options, contains", [
    (["--flux", "x"], "does not take flux"), (["--format", "bogus"], "--format bogus: unknown format; known: aavso"),
    (["--time-format", "bogus"], "--time-format: unknown time format 'bogus'"), (["--work", "/proc/nope"], "--work /proc/nope")])
def test_option_errors_are_plain_lines(tmp_path, options, contains):
    code, out, err = run("features", OGLE, "-o", tmp_path / "f.csv", "-q", *options)
    assert_one_line_error(code, err, contains)
    assert not any(p in err for p in ("ValueError:", "KeyError:", '"unknown', "[Errno")), err


def test_numeric_label_column_is_named_and_its_classes_capped(data, tmp_path):
    pd.DataFrame({"id": data["ft"].index, "label": ["RRL", "EB"] * 6, "period": data["ft"]["period"].to_numpy()}).to_csv(
        tmp_path / "labels.csv", index=False)
    code, out, err = run("train", data["tmp"] / "ft.csv", "--labels", tmp_path / "labels.csv", "--label-column", "period",
                         "-o", tmp_path / "m", "--epochs", "1", "-q")
    assert code == 0, err
    assert "the label column 'period' holds numbers (12 distinct values among 12 stars)" in err, err
    assert "12 class(es) [" in err and ", ...] (12 in all) have a single labelled star" in err and err.count("\n") == 2, err


def test_renamed_ids_follow_the_input_across_bands():
    "A star of two inputs gets one id per input for all its bands, also a band only one input has; copies of one input are told apart by number."
    from vartransfer.batch import _unique_ids
    flat = pd.DataFrame({"id": ["s", "s", "s", "s", "s", "t"], "band": ["g", "r", "i", "g", "r", "g"],
                         "source": ["a/s.json", "a/s.json", "a/s.json", "b/s.csv", "b/s.csv", "b/t.csv"]})
    out, notes = _unique_ids(flat)
    assert out["id"].tolist() == ["s@a", "s@a", "s@a", "s@b", "s@b", "t"], out
    assert notes == ["s (g, r) from 2 inputs -> s@a, s@b"], notes
    twice = pd.DataFrame({"id": ["s", "s", "s", "s"], "band": ["g", "r", "g", "r"], "source": ["A.zip"] * 4})
    assert _unique_ids(twice)[0]["id"].tolist() == ["s@1", "s@1", "s@2", "s@2"]
