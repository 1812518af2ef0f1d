"The `vartransfer` command line on real ASAS light curves (VARTRANSFER_MIRROR): the new-user chain, resuming, one-line errors."
import json
import subprocess
import sys
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vartransfer.cli.labels import read_labels
from vartransfer.cli.tables import read_table, write_table
from vartransfer.cli.main import COMMANDS, main
from helpers import run

ROOT = Path(__file__).resolve().parents[1]


def run_process(*argv, env=None):
    "Run the installed `vartransfer` script (or the same entry point through python) in a subprocess."
    script = Path(sys.executable).with_name("vartransfer")
    cmd = [str(script)] if script.exists() else [sys.executable, "-c", "import sys; from vartransfer.cli.main import main; sys.exit(main())"]
    return subprocess.run(cmd + [str(a) for a in argv], capture_output=True, text=True, env=env, timeout=300)


def assert_one_line_error(code, err, command, contains):
    assert code == 1, err
    assert err.count("\n") == 1 and err.startswith(f"vartransfer {command}: error: "), err
    assert contains in err and "Traceback" not in err, err


@pytest.fixture(scope="module")
def asas(mirror, tmp_path_factory):
    """60 ASAS stars as their own tarball: the 30 of the 5% benchmark split (seed 0) and 30 others,
    with labels CSVs (id,label = superclass) for transfer (the 30) and evaluate (all the other labelled stars)."""
    tmp = tmp_path_factory.mktemp("cli")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VARTRANSFER_MIRROR", str(mirror)); mp.setenv("VARTRANSFER_HOME", str(tmp / "home"))
        mp.setenv("VARTRANSFER_OFFLINE", "1")
        from vartransfer.datasets import benchmark_split, load_dataset
        _, labels = load_dataset("asas_richards2012")
    sup = labels["superclass"]
    train, test = benchmark_split(sup, 0.05, 0)
    stars = sorted(train + test[::19][:30])
    with tarfile.open(mirror / "asas_richards2012" / "asas_training_set.tar.gz") as src, \
         tarfile.open(tmp / "asas60.tar.gz", "w:gz") as dst:
        for m in src:
            if m.isfile() and Path(m.name).stem in stars: dst.addfile(m, src.extractfile(m))
    pd.DataFrame({"id": train, "label": sup[train].to_numpy()}).to_csv(tmp / "labels.csv", index=False)
    pd.DataFrame({"id": test, "label": sup[test].to_numpy()}).to_csv(tmp / "eval.csv", index=False)
    sup.reset_index().to_csv(tmp / "superclass.csv", index=False)   # id,superclass for all 810 (202 empty)
    return dict(tmp=tmp, tar=tmp / "asas60.tar.gz", stars=stars, train=train, test=test, sup=sup)


@pytest.fixture(scope="module")
def features(asas):
    "`vartransfer features` on the 60 stars, resuming a run interrupted after 10 of them."
    from vartransfer.batch import extract_features_batch
    from vartransfer.io.read import read_lightcurve
    tmp = asas["tmp"]
    extract_features_batch(read_lightcurve(asas["tar"]).subset(asas["stars"][:10]), output=tmp / "f.parquet.parts", progress=False)
    code, out, err = run("features", asas["tar"], "-o", tmp / "f.parquet")
    assert code == 0, err
    return dict(path=tmp / "f.parquet", out=out)


def test_help(capsys):
    res = run_process("--help")
    assert res.returncode == 0 and "example:" in res.stdout
    assert all(name in res.stdout for name in COMMANDS)
    for name in COMMANDS:
        with pytest.raises(SystemExit) as e: main([name, "--help"])
        assert e.value.code == 0
        text = capsys.readouterr().out
        assert "example:" in text and f"vartransfer {name} " in text.split("example:")[1], name
    assert set(COMMANDS) == {"features", "predict", "train", "transfer", "evaluate", "simulate", "fetch", "demo"}


def test_error_is_one_line_in_a_process(tmp_path):
    res = run_process("predict", tmp_path / "missing.parquet", "-o", tmp_path / "p.csv")
    assert_one_line_error(res.returncode, res.stderr, "predict", "missing.parquet: no such file")
    assert not (tmp_path / "p.csv").exists()


def test_features_resume(asas, features):
    assert "resuming from" in features["out"] and "50 computed now, 10 resumed, 0 failed" in features["out"]
    f = read_table(features["path"])
    assert sorted(f.index) == asas["stars"] and f["error"].isna().all()
    assert f["period"].between(0.01, 3000).all() and (f["band"] == "V").all()
    assert not (asas["tmp"] / "f.parquet.parts").exists()


def test_new_user_chain(asas, features):
    "features -> predict -> transfer -> evaluate, ids of the labels CSV = light-curve ids = feature ids."
    tmp, f = asas["tmp"], features["path"]
    code, out, err = run("predict", f, "-o", tmp / "p.csv", "-q")
    assert code == 0, err
    p = read_table(tmp / "p.csv")
    assert sorted(p.index) == asas["stars"] and p["class"].notna().all()
    probs = p.drop(columns=["band", "class", "probability", "error"], errors="ignore")
    assert probs.shape[1] == 21 and np.allclose(probs.sum(axis=1), 1, atol=1e-6)
    assert np.allclose(p["probability"], probs.max(axis=1))

    # the default: the stacked model (short schedule and 3 folds to keep the test short)
    code, out, err = run("transfer", f, "--labels", tmp / "labels.csv", "-o", tmp / "model", "-q", "--seed", 0,
                         "--head-epochs", 2, "--epochs", 1, "--folds", 3)
    assert code == 0, err
    config = json.loads((tmp / "model.json").read_text())
    assert config["classes"] == sorted(asas["sup"][asas["train"]].unique()) and (tmp / "model.safetensors").exists()
    assert config["format"] == "vartransfer-stack" and config["meta"]["source"] == "genesis,sims"
    assert config["meta"]["n_labelled"] == 30 and "candidates kept" in config["meta"]["note"]

    code, out, err = run("evaluate", tmp / "model", f, "--labels", tmp / "eval.csv", "--json", tmp / "s.json",
                         "--confusion", tmp / "c.png")
    assert code == 0, err
    assert "548 of 578 labelled ids have no star in the data" in err     # the test stars outside the 60
    s = json.loads((tmp / "s.json").read_text())
    assert s["n"] == 30 and -1 <= s["scores"]["mcc"] <= 1 and "MCC" in out and "LPV" in out
    assert s["scores"]["accuracy"] > 0.4, s   # 6 classes: chance is ~0.2
    assert (tmp / "c.png").stat().st_size > 5000
    # nothing is overwritten without --force
    before = (tmp / "model.json").read_bytes()
    code, out, err = run("transfer", f, "--labels", tmp / "labels.csv", "-o", tmp / "model")
    assert_one_line_error(code, err, "transfer", "exists; pass --force")
    assert (tmp / "model.json").read_bytes() == before


def test_transfer_from_light_curves(asas, monkeypatch):
    "transfer straight from the light curves: the stacked model's forest also trains on 4 augmented copies of each labelled star."
    tmp = asas["tmp"]
    monkeypatch.setenv("VARTRANSFER_HOME", str(tmp / "home"))
    code, out, err = run("transfer", asas["tar"], "--labels", tmp / "labels.csv", "-o", tmp / "lc_model", "--seed", 0,
                         "--head-epochs", 2, "--epochs", 1, "--folds", 3)
    assert code == 0, err
    assert "augmenting: 4 copies of each of the 30 labelled stars for the forest" in out
    meta = json.loads((tmp / "lc_model.json").read_text())["meta"]
    assert meta["augmented_copies"] == 4 and meta["adapt_sample_per_class"] is None and meta["n_labelled"] == 30
    code, out, err = run("evaluate", tmp / "lc_model", asas["tar"], "--labels", tmp / "eval.csv", "--json", tmp / "lc_s.json", "-q")
    assert code == 0, err
    s = json.loads((tmp / "lc_s.json").read_text())
    assert s["n"] == 30 and s["scores"]["accuracy"] > 0.4, s


def test_bad_inputs(asas, features, tmp_path):
    f = features["path"]
    (tmp_path / "nolabel.csv").write_text("id,ra,dec\n215153,1.5,2.5\n")
    (tmp_path / "strangers.csv").write_text("id,label\nX1,LPV\nX2,RRL\n")
    (tmp_path / "garbage.parquet").write_bytes(b"\x00not parquet at all")
    (tmp_path / "binary.csv").write_bytes(bytes(range(256)) * 4)
    cases = [
        (["transfer", f, "--labels", tmp_path / "nolabel.csv", "-o", tmp_path / "m"], "labels need columns id,label"),
        (["transfer", f, "--labels", tmp_path / "strangers.csv", "-o", tmp_path / "m"], "none of its 2 labelled ids match the 60 stars"),
        (["evaluate", "sim", f, "--labels", tmp_path / "binary.csv"], "binary.csv"),
        (["features", tmp_path / "garbage.parquet", "-o", tmp_path / "g.parquet"], "not a readable parquet file"),
        (["features", f, "-o", tmp_path / "g.parquet"], "a feature table, not light curves"),
        (["features", asas["tar"], "-o", tmp_path / "g.xlsx"], "unknown table format"),
        (["features", asas["tar"], "-o", f], "exists; pass --force"),
        (["predict", f, "-o", tmp_path / "p.csv", "--model", tmp_path / "nomodel"], "--model is 'sim'"),
        (["evaluate", "sim", f, "--labels", asas["tmp"] / "eval.csv"], "pass --superclass"),
        (["train", f, "--labels", asas["tmp"] / "superclass.csv", "--label-column", "type", "-o", tmp_path / "m"], "labels need columns id,type"),
        (["simulate", "Kepler", "-o", tmp_path / "k.parquet"], "unknown survey 'Kepler'"),
        (["fetch", "sim_asas"], "is simulated: no files to fetch"),
    ]
    for argv, contains in cases:
        code, out, err = run(*argv)
        assert_one_line_error(code, err, argv[0], contains)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["binary.csv", "garbage.parquet", "nolabel.csv", "strangers.csv"]


def test_train_then_predict_with_saved_model(asas, features):
    tmp, f = asas["tmp"], features["path"]
    code, out, err = run("train", f, "--labels", tmp / "superclass.csv", "--label-column", "superclass", "-o", tmp / "src",
                         "--epochs", 5, "-q")
    assert code == 0, err
    assert "trained on" in out and "without usable features" not in err
    code, out, err = run("train", f, "--labels", tmp / "superclass.csv", "--label-column", "superclass", "-o", tmp / "src2",
                         "--epochs", 5, "-q", "--seed", 0)
    assert code == 0, err
    from safetensors.numpy import load_file   # same seed, same weights (the files' bytes may differ: header order)
    w1, w2 = load_file(tmp / "src.safetensors"), load_file(tmp / "src2.safetensors")
    assert w1.keys() == w2.keys() and all(np.array_equal(w1[k], w2[k]) for k in w1)
    code, out, err = run("predict", f, "--model", tmp / "src", "-o", tmp / "p2.parquet", "-q")
    assert code == 0, err
    p = read_table(tmp / "p2.parquet")
    assert set(p["class"]) <= set(asas["sup"].dropna()) and len(p) == 60
    code, out, err = run("evaluate", "sim", f, "--labels", tmp / "superclass.csv", "--label-column", "superclass", "--superclass", "-q")
    assert code == 0, err
    assert f"sim on {asas['sup'][asas['stars']].notna().sum()} labelled stars" in out


def test_simulate_folder_and_formats(asas, tmp_path):
    "simulate -> LightCurves parquet + labels; features of a folder (a bad file is a failed row); CSV and FITS outputs."
    code, out, err = run("simulate", "ASAS", "-o", tmp_path / "sim.parquet", "--classes", "EB_EC", "EB_ED", "-n", 3, "--seed", 1, "-q")
    assert code == 0, err
    labels = read_labels(tmp_path / "sim-labels.csv")
    assert labels.value_counts().to_dict() == {"EB_EC": 3, "EB_ED": 3}
    code, out, err = run("predict", tmp_path / "sim.parquet", "-o", tmp_path / "sp.fits", "-q")
    assert code == 0, err
    p = read_table(tmp_path / "sp.fits")
    assert sorted(p.index) == sorted(labels.index) and p["class"].notna().all()

    folder = tmp_path / "curves"
    folder.mkdir()
    with tarfile.open(asas["tar"]) as src:
        for m in [m for m in src if m.isfile()][:4]: (folder / Path(m.name).name).write_bytes(src.extractfile(m).read())
    (folder / "broken.dat").write_text("this is not a light curve\n")
    code, out, err = run("features", folder, "-o", tmp_path / "ff.csv", "--format", "asas_richards", "-q")
    assert code == 0 and "1 of 5 light curve(s) failed" in err and "broken.dat" in err, err   # a failed row, summarised
    assert len(read_table(tmp_path / "ff.csv")) == 5
    code, out, err = run("features", folder, "-o", tmp_path / "ff2.csv", "-q", "--jobs", 1)
    assert code == 0, err
    ff = read_table(tmp_path / "ff2.csv")    # detected as no light curve at all: skipped with a note
    assert len(ff) == 4 and ff["error"].isna().all() and "broken.dat" in err and "not a light curve" in err


def test_fetch_mirror(mirror, tmp_path, monkeypatch):
    monkeypatch.setenv("VARTRANSFER_MIRROR", str(mirror)); monkeypatch.setenv("VARTRANSFER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VARTRANSFER_OFFLINE", "1")
    code, out, err = run("fetch", "--list")
    assert code == 0 and "asas_richards2012" in out and "sim_ogle3" in out
    for _ in range(2):   # a second run finds the copies up to date
        code, out, err = run("fetch", "upsilont_genesis", "--mirror", tmp_path / "m")
        assert code == 0, err
    for line in out.split():
        copy = Path(line)
        assert copy.parent == tmp_path / "m" / "upsilont_genesis"
        assert copy.read_bytes() == (mirror / "upsilont_genesis" / copy.name).read_bytes()


VSX_SPELLINGS = {"LPV": ["M", "M:", "m", "SR"], "RRL": ["RRAB", "RRAB:", "rrab", "RRAB/BL"], "EB": ["EW", "EW:", "EW/DW", "EA/SD"],
                 "CEPH": ["DCEP", "DCEP-FU", "DCEP:"], "T2CEPH": ["CWA", "CW-FU"], "DSCT": ["DSCT", "DSCT|GDOR", "HADS"]}


def catalogue_labels(sup, ids, extra=()):
    "Labels as VSX/GCVS write them: uncertain ':' types, case variants, compound types (the star's superclass, cycling spellings)."
    labels = [VSX_SPELLINGS[s][k % len(VSX_SPELLINGS[s])] for k, s in enumerate(sup[ids])]
    return pd.DataFrame({"Name": list(ids) + [i for i, _ in extra], "type": labels + [l for _, l in extra]})


def test_catalogue_labels_transfer_and_evaluate(asas, features, tmp_path):
    "Labels from real catalogues: one class per spelling, compound and outside types, other catalogues' names, padded ids, repeated rows."
    f, sup = features["path"], asas["sup"]
    catalogue_labels(sup, asas["train"]).to_csv(tmp_path / "vsx_train.csv", index=False)
    code, out, err = run("transfer", f, "--labels", tmp_path / "vsx_train.csv", "--id-column", "Name", "--label-column", "type",
                         "-o", tmp_path / "vsx", "--single", "--head-epochs", 1, "--epochs", 1, "-q", "--seed", 0)
    assert code == 0, err
    classes = json.loads((tmp_path / "vsx.json").read_text())["classes"]
    assert not {"M:", "m", "RRAB:", "rrab", "EW:", "DCEP:"} & set(classes), classes    # one class per catalogue spelling
    assert err.count("class spellings merged") == 1 and "'RRAB:' -> 'RRAB'" in err and "differ only in case" not in err, err

    # evaluate --superclass: compound types map by their first component; VAR, MISC are left out, not scored as wrong
    others = [s for s in asas["stars"] if s not in set(asas["train"])]
    test = catalogue_labels(sup, others[3:], extra=list(zip(others[:3], ["VAR", "VAR", "MISC"])))
    test.to_csv(tmp_path / "vsx_test.csv", index=False)
    code, out, err = run("evaluate", "sim", f, "--labels", tmp_path / "vsx_test.csv", "--id-column", "Name", "--label-column", "type",
                         "--superclass", "-q")
    assert code == 0, err
    assert "3 stars with labels outside the taxonomy (VAR 2, MISC 1) left out of the scores" in err, err
    assert "always wrong" not in err and f"on {len(test) - 3} labelled stars" in out, (out, err)

    # the same catalogue as a VOTable, columns not named: found by their catalogue names, and said
    from astropy.table import Table
    Table.from_pandas(test).write(tmp_path / "vsx_test.xml", format="votable")
    code, out2, err = run("evaluate", "sim", f, "--labels", tmp_path / "vsx_test.xml", "--superclass", "-q")
    assert code == 0 and "ids from column 'Name', classes from column 'type'" in err, err
    assert out2 == out, (out, out2)

    # another catalogue's names (the ASAS set's own): the error says which and what to add
    richards = {"LPV": "Mira", "RRL": "RR_Lyrae_FM", "EB": "Beta_Lyrae", "CEPH": "Classical_Cepheid", "T2CEPH": "PopII_Cepheid",
                "DSCT": "Delta_Scuti"}
    pd.DataFrame({"id": asas["stars"], "label": sup[asas["stars"]].map(richards).to_numpy()}).to_csv(tmp_path / "asas.csv", index=False)
    code, out, err = run("evaluate", tmp_path / "vsx", f, "--labels", tmp_path / "asas.csv")
    assert_one_line_error(code, err, "evaluate", "labels look like ASAS (Richards et al. 2012) class names: add --superclass")

    # half the ids zero-padded, a '.0' suffix on one: matched with a note; the others named
    ids = [("0" + i if k % 2 else i) for k, i in enumerate(asas["stars"])]
    ids[0] += ".0"
    pd.DataFrame({"id": ids + ["X1", "X2"], "label": list(sup[asas["stars"]].to_numpy()) + ["LPV", "EB"]}).to_csv(tmp_path / "pad.csv", index=False)
    code, out, err = run("evaluate", "sim", f, "--labels", tmp_path / "pad.csv", "--superclass", "-q")
    assert code == 0, err
    assert "31 labelled id(s) match a star only without leading zeros or a '.0' suffix" in err, err
    assert "2 of 62 labelled ids have no star in the data; ignored, e.g. ['X1', 'X2']" in err and "on 60 labelled stars" in out, err

    # repeated rows (a catalogue join): dropped with a note; the same id with two labels: an error naming it
    rows = pd.DataFrame({"id": asas["stars"], "label": sup[asas["stars"]].to_numpy()})
    pd.concat([rows, rows[:4]]).to_csv(tmp_path / "dup.csv", index=False)
    code, out, err = run("evaluate", "sim", f, "--labels", tmp_path / "dup.csv", "--superclass", "-q")
    assert code == 0 and "4 repeated row(s) (same id, same label) dropped" in err and "on 60 labelled stars" in out, err
    pd.concat([rows, rows[:1].assign(label="XX")]).to_csv(tmp_path / "conflict.csv", index=False)
    code, out, err = run("evaluate", "sim", f, "--labels", tmp_path / "conflict.csv", "--superclass")
    assert_one_line_error(code, err, "evaluate", f"1 id(s) have different labels on several rows, e.g. {asas['stars'][0]} ({rows['label'][0]}/XX)")


def test_catalogue_ids_and_labels_without_header(asas, features, tmp_path):
    "Ids as catalogues write them ('Gaia DR3 n' labels, 'TIC n' stars) and labels without header (plain lines, an OGLE ident.dat)."
    f, sup, train = features["path"], asas["sup"], asas["train"]
    pd.DataFrame({"id": [f"Gaia DR3 {i}" for i in train], "label": sup[train].to_numpy()}).to_csv(tmp_path / "gaia.csv", index=False)
    code, out, err = run("transfer", f, "--labels", tmp_path / "gaia.csv", "-o", tmp_path / "gaia", "--single", "--head-epochs", 1,
                         "--epochs", 1, "-q", "--seed", 0)
    assert code == 0, err
    assert f"{len(train)} labelled id(s) match a star only once catalogue prefixes" in err and f"Gaia DR3 {train[0]} -> {train[0]}" in err, err

    # the stars prefixed as the TESS reader writes them ('TIC n'), the labels plain: scored the same
    code, base, err = run("evaluate", "sim", f, "--labels", asas["tmp"] / "eval.csv", "--superclass", "-q")
    assert code == 0, err
    ft = read_table(f)
    write_table(ft.set_axis("TIC " + ft.index, axis=0), tmp_path / "tic.parquet")
    code, out, err = run("evaluate", "sim", tmp_path / "tic.parquet", "--labels", asas["tmp"] / "eval.csv", "--superclass", "-q")
    assert code == 0 and out == base and "match a star only once catalogue prefixes" in err, (out, err)

    # the same labels without header: id and class by position, said
    pd.read_csv(asas["tmp"] / "eval.csv", dtype=str).to_csv(tmp_path / "eval.txt", sep=" ", header=False, index=False)
    code, out, err = run("evaluate", "sim", f, "--labels", tmp_path / "eval.txt", "--superclass", "-q")
    assert code == 0 and out == base and "no header" in err and "ids from column 0, classes from column 1" in err, (out, err)

    # an OGLE ident.dat (fixed width, no header, rows of any length): ids and the subtype column, said for what it is
    subtype = {"LPV": "Mira", "RRL": "RRab", "EB": "EC", "CEPH": "F", "T2CEPH": "WVir", "DSCT": "DSCT"}
    rows = [f"OGLE-LMC-VAR-{i}  {subtype[sup[i]]:6} 05:24:52.00 -69:55:24.0  LMC517.27.{k}" + ("  -  HV 12345" if k % 3 else "")
            for k, i in enumerate(train)]
    (tmp_path / "ident.dat").write_text("\n".join(rows) + "\n")
    write_table(ft.set_axis("OGLE-LMC-VAR-" + ft.index, axis=0), tmp_path / "ogle.parquet")
    code, out, err = run("transfer", tmp_path / "ogle.parquet", "--labels", tmp_path / "ident.dat", "-o", tmp_path / "ogle", "--single",
                         "--head-epochs", 1, "--epochs", 1, "-q", "--seed", 0)
    assert code == 0, err
    assert "an OGLE ident.dat (no header): ids from column 0, classes from column 1" in err and "not the class" in err, err
    assert json.loads((tmp_path / "ogle.json").read_text())["classes"] == sorted({subtype[sup[i]] for i in train})
    code, out, err = run("transfer", tmp_path / "ogle.parquet", "--labels", tmp_path / "ident.dat", "--label-column", "Type", "-o",
                         tmp_path / "ogle2", "--single", "-q")
    assert_one_line_error(code, err, "transfer", "no column is named 'Type': give 0-based positions, e.g. --id-column 0 --label-column 1")
