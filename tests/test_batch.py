"The batch input policy (issues 12 and 13): every input kind, failures as rows, unique ids, resumes tied to inputs, Ctrl-C."
import contextlib
import gzip
import os
import signal
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vartransfer.batch import OUTPUT_COLUMNS, extract_features_batch, read_features
from vartransfer.cli.core import read_table
from vartransfer.features import FEATURE_NAMES
from helpers import run

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def ogle(path, shift=0.0, n=None):
    "An OGLE `.dat` light curve (HJD-2450000, mag, err) from the fixture, magnitudes shifted."
    a = np.loadtxt(FIXTURES / "ogle_lmc_cep.dat")[:n] + [0, shift, 0]
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, a, fmt="%.5f")
    return path


def mixed_folder(d: Path) -> Path:
    "Multi-star Catalina, ZTF (band zr cut to 9 points), ALeRCE, MACHO, OGLE .dat twice by name, a README, a truncated .csv.gz."
    d.mkdir(parents=True)
    cat = pd.read_csv(FIXTURES / "catalina_1001004012176.csv")
    pd.concat([cat, cat.assign(MasterID=1001004099999, Mag=cat["Mag"] + 0.3)]).to_csv(d / "catalina.csv", index=False)
    ztf = pd.read_csv(FIXTURES / "ztf_irsa_lightcurve.csv")
    ztf.drop(ztf.index[ztf["filtercode"] == "zr"][9:]).to_csv(d / "ztf.csv", index=False)
    (d / "macho.csv").write_bytes((FIXTURES / "macho_F_1.3441.csv").read_bytes())
    (d / "alerce.csv").write_bytes((FIXTURES / "alerce_detections.csv").read_bytes())
    ogle(d / "I" / "OGLE-LMC-CEP-0001.dat"); ogle(d / "V" / "OGLE-LMC-CEP-0001.dat", 0.4)
    (d / "README.txt").write_text("Light curves for the paper.\n")
    packed = gzip.compress((FIXTURES / "ogle_lmc_cep.dat").read_bytes())
    (d / "cut.csv.gz").write_bytes(packed[: len(packed) // 2])
    return d


GOOD = [("1001004012176", "V"), ("1001004099999", "V"), ("1.3441.1214", "B"), ("1.3441.1214", "R"), ("1.3441.1520", "B"),
        ("1.3441.1520", "R"), ("OGLE-LMC-CEP-0001", "I"), ("OGLE-LMC-CEP-0001", "V"), ("ztf", "zg"), ("ztf", "zi"),
        ("ZTF18abtmwqf", "zg"), ("ZTF18abtmwqf", "zr"), ("ZTF20acqgnyl", "zg"), ("ZTF20acqgnyl", "zr")]


def test_acceptance_folder(tmp_path):
    folder = mixed_folder(tmp_path / "in")
    code, out, err = run("features", folder, "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    f = read_table(tmp_path / "f.csv")
    ok, bad = f[f["error"].isna()], f[f["error"].notna()]
    assert sorted(zip(ok.index, ok["band"].fillna(""))) == sorted(GOOD)
    assert ok[FEATURE_NAMES].notna().all().all()
    assert sorted(zip(bad.index, bad["band"].fillna(""))) == [("cut", ""), ("ztf", "zr")]
    assert bad.loc["cut", "source"] == str(folder / "cut.csv.gz")
    assert "need at least 10" in bad[bad["band"] == "zr"]["error"].iloc[0] and "truncated" in bad["error"].iloc[0]
    assert "2 of 16 light curve(s) failed, by reason" in err and "README.txt: a README" in err
    assert "Traceback" not in err   # OGLE's I/ and V/ folders name the bands: no id collision
    assert "16 computed now, 0 resumed, 2 failed" in out
    # --errors raise: the first failure, one line, exit 1, no output
    code, out, err = run("features", folder, "-o", tmp_path / "g.csv", "-q", "--errors", "raise")
    assert code == 1 and err.count("\n") == 1 and err.startswith("vartransfer features: error: "), err
    assert ("cut.csv.gz" in err or "need at least 10" in err) and not (tmp_path / "g.csv").exists()
    code, out, err = run("features", folder, "-o", tmp_path / "g.csv", "-q", "--errors", "raise")   # resumed: fails again
    assert code == 1 and err.count("\n") == 1 and ("cut.csv.gz" in err or "need at least 10" in err), err
    # predict reads the folder the same way: failed stars keep their error in the predictions
    code, out, err = run("predict", folder / "I", folder / "cut.csv.gz", folder / "README.txt", "-o", tmp_path / "p.csv", "-q")
    assert code == 0, err
    p = read_table(tmp_path / "p.csv")
    assert len(p) == 2 and p["class"].notna().sum() == 1 and "truncated" in p["error"].iloc[1] and "by reason" in err


def test_nothing_computed_exit_1(tmp_path):
    folder = mixed_folder(tmp_path / "in")
    code, out, err = run("features", folder / "cut.csv.gz", "-o", tmp_path / "f.csv")
    assert code == 1 and err.count("\n") == 1 and "no features computed" in err and "truncated" in err, err
    code, out, err = run("features", folder / "README.txt", "-o", tmp_path / "f.csv")
    assert code == 1 and "no light curves in" in err and "README" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def test_same_name_never_collides(tmp_path):
    a, b = ogle(tmp_path / "a" / "star.dat"), ogle(tmp_path / "b" / "star.dat", 0.5, 25)
    code, out, err = run("features", a, b, "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    f = read_table(tmp_path / "f.csv")
    assert sorted(f.index) == ["star@a", "star@b"] and f.loc["star@b", "n_points"] == 25
    code, out, err = run("features", tmp_path, "-o", tmp_path / "g.csv", "-q")   # the folder (f.csv ignored: a feature table)
    assert code == 0, err
    assert sorted(read_table(tmp_path / "g.csv").index) == ["star@a", "star@b"]
    df = extract_features_batch([a, b], output=tmp_path / "parts", progress=False)
    assert sorted(df.index) == ["star@a", "star@b"] and df["error"].isna().all()
    assert sorted(read_features(tmp_path / "parts").index) == ["star@a", "star@b"]
    assert list(df.columns) == OUTPUT_COLUMNS


def test_resume_tied_to_input_and_force(tmp_path):
    star = ogle(tmp_path / "in" / "star.dat")
    df = extract_features_batch([star], output=tmp_path / "parts", progress=False)
    assert df.loc["star", "n_points"] == 30
    ogle(star, 0.0, 20)                                    # the file changes
    again = extract_features_batch([star], output=tmp_path / "parts", progress=False)
    assert again.attrs["summary"]["computed"] == 1 and again.loc["star", "n_points"] == 20
    assert len(extract_features_batch([star], output=tmp_path / "parts", progress=False, min_period=0.5)) == 1
    # CLI: kept parts of an older input are never returned; --force recomputes
    out = tmp_path / "f.csv"
    assert run("features", star, "-o", out, "-q", "--keep-work")[0] == 0
    ogle(star, 0.0, 25)
    code, o, err = run("features", star, "-o", out, "-q", "--force", "--keep-work")
    assert code == 0 and "1 computed now, 0 resumed" in o, (o, err)
    assert read_table(out).loc["star", "n_points"] == 25


def test_drops_counted_and_reported(tmp_path):
    rng = np.random.default_rng(0)
    t = np.sort(rng.uniform(0, 300, 200)); m = 15 + 0.3 * np.sin(2 * np.pi * t / 0.7) + rng.normal(0, 0.02, 200)
    t[:20] = np.nan; t[50:52] = t[49]; m[100] = 1e30
    np.savetxt(tmp_path / "drops.txt", np.c_[t, m, np.full(200, 0.02)], fmt="%.6f")
    code, out, err = run("features", tmp_path / "drops.txt", "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    row = read_table(tmp_path / "f.csv").loc["drops"]
    assert (row["nonfinite_dropped"], row["duplicate_dropped"], row["mag_range_dropped"], row["n_points"]) == (20, 2, 1, 177)
    assert "lost more than 5% of their points" in err and "20 nonfinite, 2 duplicate, 1 mag_range of 200 points" in err


def test_parts_folder_is_a_file(tmp_path):
    star = ogle(tmp_path / "star.dat")
    (tmp_path / "f.csv.parts").write_text("in the way")
    code, out, err = run("features", star, "-o", tmp_path / "f.csv")
    assert code == 1 and err.count("\n") == 1 and "f.csv.parts: a file is where the parts folder should go" in err
    assert "--work" in err
    with pytest.raises(FileExistsError, match="a file is where the feature folder should go"):
        extract_features_batch([star], output=tmp_path / "f.csv.parts", progress=False)


def test_reader_options(tmp_path):
    a = np.loadtxt(FIXTURES / "ogle_lmc_cep.dat")
    np.savetxt(tmp_path / "cols.txt", np.c_[np.arange(len(a)), a[:, 2], a[:, 0], a[:, 1]], fmt="%.5f")   # n, err, time, mag
    code, out, err = run("features", tmp_path / "cols.txt", "-o", tmp_path / "f.csv", "-q", "--format", "text",
                         "--time", "2", "--mag", "3", "--err", "1", "--band", "I", "--id", "cep1")
    assert code == 0, err
    f = read_table(tmp_path / "f.csv")
    ref = extract_features_batch([FIXTURES / "ogle_lmc_cep.dat"], progress=False, reader=dict(format="text"))
    assert list(f.index) == ["cep1"] and f.loc["cep1", "band"] == "I"
    assert np.allclose(f.loc["cep1", FEATURE_NAMES].to_numpy(float), ref[FEATURE_NAMES].iloc[0].to_numpy(float))


def test_ctrl_c_stops_at_once(mirror, tmp_path):
    "Ctrl-C twice (to the whole process group, as a terminal does) during --jobs 2: exit 130 at once, parts kept, resumable."
    with tarfile.open(mirror / "asas_richards2012" / "asas_training_set.tar.gz") as src, tarfile.open(tmp_path / "a.tar.gz", "w:gz") as dst:
        for m in [m for m in src if m.isfile()][:80]: dst.addfile(m, src.extractfile(m))
    cmd = [sys.executable, "-c", "import sys; from vartransfer.cli.main import main; sys.exit(main())",
           "features", str(tmp_path / "a.tar.gz"), "-o", str(tmp_path / "f.csv"), "--jobs", "2", "--chunk-size", "4", "-q"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    parts = tmp_path / "f.csv.parts"
    deadline = time.monotonic() + 120
    while not any(parts.glob("part-*.parquet")) and time.monotonic() < deadline and proc.poll() is None: time.sleep(0.1)
    assert proc.poll() is None, proc.communicate()
    os.killpg(proc.pid, signal.SIGINT); time.sleep(0.3)
    with contextlib.suppress(ProcessLookupError): os.killpg(proc.pid, signal.SIGINT)
    t0 = time.monotonic()
    try: out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL); proc.communicate()
        pytest.fail("features did not stop within 30 s of Ctrl-C")
    assert proc.returncode in (130, -signal.SIGINT) and "Traceback" not in err, err   # 130, or killed by the second Ctrl-C
    assert time.monotonic() - t0 < 15
    done = read_features(parts)
    assert len(done) >= 4 and done["error"].isna().all()
    code, out, err = run("features", tmp_path / "a.tar.gz", "-o", tmp_path / "f.csv", "-q", "--jobs", "2")
    assert code == 0 and f"{80 - len(done)} computed now, {len(done)} resumed, 0 failed" in out, (out, err)


def hats_catalogue(root: Path) -> Path:
    "A HATS catalogue folder as hats-import writes it (one partition, from the ZTF DR HATS fixture): metadata, thumbnail, point map."
    import pyarrow.parquet as pq
    from astropy.io import fits
    t = pq.read_table(FIXTURES / "ztf_dr23_lc-hats_Npix=3456.parquet")
    part = root / "dataset" / "Norder=5" / "Dir=0" / "Npix=3456.parquet"
    part.parent.mkdir(parents=True)
    pq.write_table(t, part)
    pq.write_metadata(t.schema, root / "dataset" / "_common_metadata")
    md = pq.read_metadata(part)
    md.set_file_path("Norder=5/Dir=0/Npix=3456.parquet")
    pq.write_metadata(t.schema, root / "dataset" / "_metadata", metadata_collector=[md])
    pq.write_table(t.slice(0, 1), root / "dataset" / "data_thumbnail.parquet")   # a copy of one row
    (root / "properties").write_text("obs_collection=ztf_dr23_lc\ndataproduct_type=object\nhats_nrows=3\nhats_order=5\n")
    (root / "partition_info.csv").write_text("Norder,Npix\n5,3456\n")
    fits.HDUList([fits.PrimaryHDU(), fits.BinTableHDU.from_columns([fits.Column("VALUE", "K", array=np.arange(12))])]).writeto(root / "point_map.fits")
    return root


def test_hats_catalogue_folder_reads_only_its_partitions(tmp_path):
    root = hats_catalogue(tmp_path / "ztf_dr23_lc")
    code, out, err = run("features", tmp_path, "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    f = read_table(tmp_path / "f.csv")
    assert "@" not in "".join(f.index) and f["source"].str.endswith("Npix=3456.parquet").all(), f[["band", "source"]]
    assert len(f) == 3 and f["error"].notna().sum() == 1 and "need at least 10" in f["error"].dropna().iloc[0]
    assert "skipped 6 file(s)" in err and "made unique" not in err, err
    notes = extract_features_batch(tmp_path / "ztf_dr23_lc", progress=False).attrs["ignored"]
    for name in ("properties", "partition_info.csv", "point_map.fits", "_metadata", "_common_metadata", "data_thumbnail.parquet"):
        assert any(f"{name}: part of the HATS catalogue ztf_dr23_lc" in n for n in notes), (name, notes)
    # the dataset folder alone, and the partition itself, read the same stars
    code, out, err = run("features", root / "dataset", "-o", tmp_path / "g.csv", "-q")
    assert code == 0 and sorted(read_table(tmp_path / "g.csv").index) == sorted(f.index), err


def test_one_star_in_two_inputs_keeps_one_id_across_its_bands(tmp_path):
    "ALeRCE forced photometry (zg, zr, zi) and ALeRCE detections (zg, zr) of one star: every band of an input gets the same id."
    (tmp_path / "ZTF18abcdefg_alerce_forced_photometry.json").write_bytes((FIXTURES / "ZTF18abcdefg_alerce_forced_photometry.json").read_bytes())
    a = pd.read_csv(FIXTURES / "alerce_detections.csv")
    a[a.oid == a.oid.iloc[0]].assign(oid="ZTF18abcdefg").to_csv(tmp_path / "ZTF18abcdefg_detections.csv", index=False)
    code, out, err = run("features", tmp_path, "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    f = read_table(tmp_path / "f.csv")
    ids = {src.rsplit("/", 1)[1]: sorted(set(g.index)) for src, g in f.groupby("source")}
    assert ids == {"ZTF18abcdefg_alerce_forced_photometry.json": ["ZTF18abcdefg@ZTF18abcdefg_alerce_forced_photometry.json"],
                   "ZTF18abcdefg_detections.csv": ["ZTF18abcdefg@ZTF18abcdefg_detections.csv"]}, f[["band", "source"]]
    assert sorted(f["band"]) == ["zg", "zg", "zi", "zr", "zr"]
    assert err.count("came from several inputs") == 1 and "1 id(s)" in err, err


def test_files_next_to_light_curves_are_skipped_not_failed(tmp_path):
    "MAST target pixel and DV files, Gaia vari_* tables, an OGLE parameter table, a labels CSV: notes, no failed rows."
    from astropy.io import fits
    ogle(tmp_path / "lmc" / "cep" / "phot" / "I" / "OGLE-LMC-CEP-0001.dat")
    (tmp_path / "lmc" / "cep" / "cepF.dat").write_text(
        "OGLE-LMC-CEP-0001  17.123 17.800  3.11826  2455000.12345  0.500  0.12  0.45  0.09  0.33  0.08\n"
        "OGLE-LMC-CEP-0002  16.023 16.700  4.21826  2455000.22345  0.400  0.11  0.44  0.08  0.32  0.07\n")
    (tmp_path / "labels.csv").write_text("id,class\nOGLE-LMC-CEP-0001,CEPH_F\n")
    head = "# %ECSV 1.0\n# ---\n# delimiter: ','\n# datatype:\n"
    cols = "solution_id,source_id,num_selected_g_fov,mean_obs_time_g_fov,mean_mag_g_fov,in_vari_rrlyrae"
    with gzip.open(tmp_path / "VariSummary_000000-003111.csv.gz", "wt") as fh:
        fh.write(head + "".join(f"# - {{name: {c}, datatype: string}}\n" for c in cols.split(",")) + cols
                 + "\n375316653866487564,4295806720,40,2200.5,15.0,False\n")
    with gzip.open(tmp_path / "vari_rrlyrae.csv.gz", "wt") as fh:     # an ADQL download: no bulk name
        fh.write("solution_id,source_id,pf,p1_o,epoch_g,best_classification\n375316653866487564,34361129088,0.5512,null,1700.1,RRab\n")
    mast = tmp_path / "mastDownload" / "TESS" / "tess-s0001"
    mast.mkdir(parents=True)
    (mast / "tess-s0001_lc.fits").write_bytes((FIXTURES / "tess_spoc_lc.fits").read_bytes())
    n, ph = 20, fits.PrimaryHDU()
    ph.header.update(TELESCOP="TESS", OBJECT="TIC 261136679", TICID=261136679, SECTOR=1)
    pix = [fits.Column("TIME", "D", array=np.linspace(1325, 1350, n)), fits.Column("FLUX", "25E", dim="(5,5)", array=np.ones((n, 5, 5), "f4"))]
    fits.HDUList([ph, fits.BinTableHDU.from_columns(pix, name="PIXELS")]).writeto(mast / "pixels.fits")   # no _tp name: told by its header
    fits.HDUList([ph, fits.BinTableHDU.from_columns(pix, name="PIXELS")]).writeto(mast / "tess-s0001_tp.fits")
    dv = [fits.Column(c, "D", array=np.linspace(1325, 1350, n)) for c in ("TIME", "PHASE", "LC_INIT", "LC_INIT_ERR")]
    fits.HDUList([ph, fits.BinTableHDU.from_columns(dv, name="TCE_1")]).writeto(mast / "tess-s0001-00001_dvt.fits")
    code, out, err = run("features", tmp_path, "-o", tmp_path / "f.csv", "-q")
    assert code == 0, err
    f = read_table(tmp_path / "f.csv")
    assert f["error"].isna().all(), f[["error"]]
    assert sorted(zip(f.index, f["band"])) == [("OGLE-LMC-CEP-0001", "I"), ("TIC 261136679", "TESS")]
    assert "skipped 7 file(s)" in err and "failed" not in err, err
    notes = extract_features_batch(tmp_path, progress=False).attrs["ignored"]
    for name, why in (("cepF.dat", "one row per star"), ("labels.csv", "a labels table"), ("pixels.fits", "a target pixel file"),
                      ("tess-s0001_tp.fits", "a target pixel file"), ("tess-s0001-00001_dvt.fits", "a data-validation file"),
                      ("VariSummary_000000-003111.csv.gz", "a Gaia vari_* table (summary values), not light curves"),
                      ("vari_rrlyrae.csv.gz", "a Gaia vari_* table (summary values), not light curves")):
        assert any(f"{name}: {why}" in n for n in notes), (name, notes)


def asas_like(path, n=40):
    "A light curve as ASAS-like `t,mag,err` text: n nights of a 0.7-day sine."
    t = 2450000.0 + np.arange(n) * 1.13
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savetxt(path, np.c_[t, 12 + 0.3 * np.sin(2 * np.pi * t / 0.7), np.full(n, 0.02)], fmt="%.5f", delimiter=",")
    return path


def test_failed_file_keeps_its_star_id(tmp_path):
    "A file that fails to read or validate is a row under its star's id (the stem), its path in `source`: labels find it."
    d = tmp_path / "small"
    for star in ("216354", "217550", "217586"): asas_like(d / f"{star}.dat")
    asas_like(d / "231266.dat", n=3)                                            # too few points
    (d / "231270.dat").write_text("".join(f"{i},{'1e30,-5,7' if i % 2 else '3'}\n" for i in range(30)))   # garbage rows
    asas_like(d / "216354.txt", n=3)                                            # a broken copy of a good star
    code, out, err = run("features", d, "-o", tmp_path / "f.csv", "-q", "--keep-work")
    assert code == 0, err
    f = read_table(tmp_path / "f.csv")
    ok, bad = f[f["error"].isna()], f[f["error"].notna()]
    assert sorted(ok.index) == ["216354", "217550", "217586"]                   # the good star keeps its id beside its broken copy
    assert sorted(bad.index) == ["216354@216354.txt", "231266", "231270"]
    assert dict(zip(bad.index, bad["source"])) == {"216354@216354.txt": str(d / "216354.txt"), "231266": str(d / "231266.dat"),
                                                   "231270": str(d / "231270.dat")}
    assert "need at least 10" in bad.loc["231266", "error"] and "231266.dat" in bad.loc["231266", "error"]
    # resumed from the parts: nothing computed again, the same rows and ids
    code, out, err = run("features", d, "-o", tmp_path / "g.csv", "-q", "--work", tmp_path / "f.csv.parts", "--keep-work")
    assert code == 0 and "0 computed now, 6 resumed, 3 failed" in out, (out, err)
    assert read_table(tmp_path / "g.csv").equals(f)
    df = extract_features_batch(d, output=tmp_path / "f.csv.parts", progress=False)   # the library the same way
    assert df.attrs["summary"]["computed"] == 0 and sorted(df.index) == sorted(f.index)
    # an archive that fails as a whole (several stars, ids unknown) keeps its path as id, and in `source`
    (tmp_path / "stars.zip").write_bytes(b"PK\x03\x04 not really a zip")
    df = extract_features_batch([tmp_path / "stars.zip"], progress=False, report=False)
    assert df.index.tolist() == [str(tmp_path / "stars.zip")] and df["source"].tolist() == [str(tmp_path / "stars.zip")]


def test_predict_counts_light_curves_and_stars(tmp_path):
    "Two bands of one star and a failed file: 'predicted 2 of 3 light curves (2 stars)', not '... of 3 stars'."
    ogle(tmp_path / "I" / "OGLE-LMC-CEP-0001.dat"); ogle(tmp_path / "V" / "OGLE-LMC-CEP-0001.dat", 0.4)
    ogle(tmp_path / "I" / "OGLE-LMC-CEP-0002.dat", n=5)
    code, out, err = run("predict", tmp_path, "-o", tmp_path / "p.csv", "-q")
    assert code == 0, err
    assert "predicted 2 of 3 light curves (2 stars)" in out, out
