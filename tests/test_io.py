"""Survey readers (`vartransfer.io`): acceptance on the real data mirror, fixtures, and bad input.

Fixture files in tests/fixtures/ are written by tests/fixtures/make_fixtures.py from the published
format descriptions named there (synthetic values, real layouts):
  OGLE OCVS photometry (Udalski et al. 2008), ASAS-3 light-curve files (astrouw.edu.pl/asas, Pojmanski 2002),
  ASAS-SN Sky Patrol CSV v1/v2 (asas-sn.osu.edu, pyasassn), IRSA ZTF light-curve API CSV, Gaia DR3
  EPOCH_PHOTOMETRY (long = DataLink INDIVIDUAL, wide = archive table), the IRSA ZTF light curve also as the
  service's default VOTable and as an IPAC table (make_fixtures_io.py), Hipparcos Epoch Photometry Annex
  (ESA SP-1200 Vol. 1 sect. 2.5), MACHO photometry dump READ_ME (macho.nci.org.au), Catalina CSDR2 CSV, ATLAS
  forced photometry (fallingstar-data.com/forcedphot/resultdesc), TESS and Kepler SPOC light-curve FITS (TESS SDPDD,
  Kepler Archive Manual), Rubin DP1 ForcedSource joined with Visit and an APDB DiaSource table (sdm_schemas),
  ANTARES loci (antares-client `Locus.lightcurve`, the API's JSON:API answer).
"""
import contextlib
import io
import re
import tarfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from astropy.table import Table

from vartransfer.io.asas import read_asas_acvs, read_asas_richards, read_asas_richards_tarball, read_asassn, read_catalina, read_hipparcos
from vartransfer.io.core import READERS
from vartransfer.io.photometry import read_eros1_ramp, read_eros2, read_macho, read_ogle
from vartransfer.io.read import guess_format, read_lightcurve
from vartransfer.io.tables import read_fits, read_parquet, read_text
from vartransfer.io.ztf import read_gaia_epoch, read_ztf
from vartransfer.lightcurve import LightCurveError, LightCurves

FIXTURES = Path(__file__).resolve().parent / "fixtures"


# ---------------------------------------------------------------- acceptance on the real data mirror

def test_asas_tarball_all_810_with_ids(mirror):
    coll = read_asas_richards_tarball(mirror / "asas_richards2012" / "asas_training_set.tar.gz")
    stems = pd.read_csv(mirror / "asas_richards2012" / "asas_training_set_classes.dat", dtype={"filename": str})["filename"]
    assert len(coll) == 810
    assert sorted(coll.ids) == sorted(stems)
    assert coll.bands == ["V"] and set(coll.meta["survey"]) == {"ASAS"}
    assert set(coll.meta["time_ref"]) == {"HJD"} and set(coll.meta["time_shift"]) == {50_000.0}
    counts = coll.data.groupby("id").size()
    assert counts.min() >= 10 and counts.max() <= 1772
    with tarfile.open(mirror / "asas_richards2012" / "asas_training_set.tar.gz") as tf:
        raw = tf.extractfile("asas_training_set/215153.dat").read()
    one = read_asas_richards(io.BytesIO(raw), id="215153")
    np.testing.assert_array_equal(one.mag, coll["215153"].mag)
    np.testing.assert_allclose(one.time[0], np.loadtxt(io.BytesIO(raw), delimiter=",")[0, 0] + 50_000)


def test_eros1_all_3641_stars_both_bands(mirror):
    ids, clamps = [], {"B": 0, "R": 0}
    for part, n in (("train", 2912), ("test", 729)):
        coll = read_eros1_ramp(mirror / "eros1_ramp" / f"{part}_varlength_features.csv.gz")
        assert len(coll.ids) == n and len(coll) == 2 * n
        assert coll.keys == [(i, b) for i in sorted(coll.ids) for b in "BR"]
        for b in "BR": clamps[b] += int(coll.meta.xs(b, level="band")["sentinel_dropped"].sum())
        assert (coll.data["mag"] < 25.0).all()
        ids += coll.ids
    assert len(set(ids)) == 3641
    assert clamps == {"B": 19, "R": 32}          # the README's count of 25.0 clamp values


def test_eros2_samples(mirror):
    red = read_eros2(mirror / "eros2_samples" / "lm0134l19756.time")
    assert (red.id, red.band, red.survey, len(red)) == ("lm0134l19756", "R", "EROS-2", 294)
    assert red.meta["time_ref"] == "HJD" and red.meta["time_shift"] == 50_000
    raw = np.loadtxt(mirror / "eros2_samples" / "lm0134l19756.time")
    np.testing.assert_allclose(red.time - 50_000, raw[raw[:, 1] < 99.999, 0])
    assert red.report["sentinel_dropped"] == int((raw[:, 1] >= 99.999).sum())
    for band in "RB":
        lc = read_eros2(mirror / "eros2_samples" / "lm0010n22323.time", band=band)
        assert len(lc) >= 10 and 50_200 < lc.time[0] < lc.time[-1] < 52_800   # 1996-2003


def test_parquet_round_trip_is_lossless(mirror, tmp_path):
    coll = read_asas_richards_tarball(mirror / "asas_richards2012" / "asas_training_set.tar.gz")
    path = coll.to_parquet(tmp_path / "asas.parquet")
    for back in (read_parquet(path), read_lightcurve(path), LightCurves.read_parquet(path)):
        pd.testing.assert_frame_equal(back.data, coll.data)
        pd.testing.assert_frame_equal(back.meta, coll.meta)
    assert back["215153"].meta["time_ref"] == "HJD"


def test_format_guessing_on_mirror(mirror):
    assert guess_format(mirror / "eros2_samples" / "lm0134l19756.time") == "eros2"
    assert guess_format(mirror / "asas_richards2012" / "asas_training_set.tar.gz") == "asas_richards_tarball"
    assert guess_format(mirror / "eros1_ramp" / "test_varlength_features.csv.gz") == "eros1_ramp"
    assert len(read_lightcurve(mirror / "eros2_samples" / "lm0134l19756.time")[0]) == 294   # always a LightCurves


# ---------------------------------------------------------------- fixtures (formats not in the mirror)

@pytest.mark.parametrize("name, fmt, time_ref", [
    ("ogle_lmc_cep.dat", "ogle", "HJD"), ("asas_acvs_053342-7012.3.txt", "asas", "HJD"),
    ("asassn_skypatrol_v1.csv", "asassn", "HJD"), ("asassn_skypatrol_v2.csv", "asassn", "JD"), ("asassn_skypatrol_v2_web.csv", "asassn", "JD"),
    ("ztf_irsa_lightcurve.csv", "ztf", "HJD"), ("ztf_irsa_lightcurve.xml", "ztf", "HJD"), ("ztf_irsa_lightcurve.tbl", "ztf", "HJD"),
    ("gaia_dr3_epoch_long.csv", "gaia", "BJD_TCB"),
    ("gaia_dr3_epoch_wide.csv", "gaia", "BJD_TCB"), ("hipparcos_ep_22792.txt", "hipparcos", "BJD"),
    ("macho_F_1.3441.csv", "macho", "JD"), ("catalina_1001004012176.csv", "catalina", "JD"),
    ("atlas_forced_phot.txt", "atlas", "JD"), ("tess_spoc_lc.fits", "tess_kepler", "BJD_TDB"), ("kepler_llc.fits", "tess_kepler", "BJD_TDB"),
    ("rubin_dp1_forcedsource_visit.csv", "rubin", "JD_TAI"), ("rubin_diasource.csv", "rubin", "JD_TAI")])
def test_fixture_formats(name, fmt, time_ref):
    if fmt != "ogle": assert guess_format(FIXTURES / name) == fmt
    out = read_lightcurve(FIXTURES / name, format=fmt)
    curves = list(out) if isinstance(out, LightCurves) else [out]
    for lc in curves:
        assert lc.meta["time_ref"] == time_ref
        assert 40_000 < lc.time[0] < 70_000                      # reduced JD: 1968 to 2050
        assert np.all(np.diff(lc.time) > 0) and np.all(np.isfinite(lc.mag)) and np.all(lc.err > 0)


def test_fixture_flags_counted():
    acvs = read_asas_acvs(FIXTURES / "asas_acvs_053342-7012.3.txt")
    assert (len(acvs), acvs.report["grade_rejected"], acvs.report["sentinel_dropped"]) == (28, 3, 1)
    assert acvs.meta["grades_rejected"] == {"C": 2, "D": 1} and acvs.meta["aperture"] == 1
    sn = read_asassn(FIXTURES / "asassn_skypatrol_v1.csv")
    assert sn.bands == ["V", "g"] and sn.meta["upper_limits_dropped"].tolist() == [2, 1]
    ztf = read_ztf(FIXTURES / "ztf_irsa_lightcurve.csv")
    assert ztf.bands == ["zg", "zi", "zr"] and ztf.meta["catflags_rejected"].tolist() == [2, 0, 1]
    long, wide = read_gaia_epoch(FIXTURES / "gaia_dr3_epoch_long.csv"), read_gaia_epoch(FIXTURES / "gaia_dr3_epoch_wide.csv")
    pd.testing.assert_frame_equal(long.data, wide.data)
    assert long.meta[["variability_rejected", "photometry_rejected"]].values.tolist() == [[0, 1], [1, 0], [0, 0]]
    g = long["4111834567779557376", "G"]
    raw = pd.read_csv(FIXTURES / "gaia_dr3_epoch_long.csv").query("band == 'G' and not rejected_by_variability")
    np.testing.assert_allclose(g.err, 2.5 / np.log(10) / raw["flux_over_error"])
    np.testing.assert_allclose(g.time, raw["time"] + 55_197.5)
    hip = read_hipparcos(FIXTURES / "hipparcos_ep_22792.txt")
    assert (hip.id, len(hip), hip.report["flag_rejected"]) == ("HIP 22792", 22, 3)
    macho = read_macho(FIXTURES / "macho_F_1.3441.csv")
    assert macho.meta[["missing_dropped", "bad_error_dropped"]].sum().tolist() == [2, 1]
    css = read_catalina(FIXTURES / "catalina_1001004012176.csv")
    assert (len(css[0]), int(css.meta["blend_rejected"].iloc[0])) == (20, 2)


def test_parquet_from_elsewhere_is_validated(tmp_path):
    t = np.arange(20.)
    df = pd.DataFrame({"id": "x", "band": "V", "time": t, "mag": np.r_[np.nan, np.sin(t[1:])], "err": 0.1})
    df.to_parquet(tmp_path / "raw.parquet")
    coll = read_parquet(tmp_path / "raw.parquet")
    assert len(coll[0]) == 19 and coll.meta["nonfinite_dropped"].tolist() == [1]


# ---------------------------------------------------------------- bad input: one builder per reader and defect

def _lines(name):
    return (FIXTURES / name).read_text().splitlines()


def _edit(name, sep, is_data, field, defect):
    "A fixture's text with one defect applied to its data rows."
    lines = _lines(name)
    data = [i for i, l in enumerate(lines) if is_data(l)]
    split = (lambda l: l.split()) if sep is None else (lambda l: l.split(sep))
    join = (lambda f: " ".join(f)) if sep is None else (lambda f: sep.join(f))
    if defect == "truncated":
        f = split(lines[data[-1]]); lines[data[-1]] = join(f[:len(f) // 2])
    elif defect == "columns":
        k = data[len(data) // 2]; lines[k] = join(split(lines[k]) + ["1.0"])
    elif defect == "text":
        k = data[len(data) // 2]; f = split(lines[k]); f[field] = "abc"; lines[k] = join(f)
    elif defect == "nan":
        for k in data: f = split(lines[k]); f[field] = "nan"; lines[k] = join(f)
    elif defect == "one":
        lines = [l for i, l in enumerate(lines) if i not in data[1:]]
    return "\n".join(lines) + "\n"


DEFECTS = {"truncated": "truncated", "columns": r"column|field", "text": "is not a number",
           "nan": r"0 valid point\(s\)", "one": r"1 valid point\(s\)"}

# reader, fixture, separator, data-row test, index of the magnitude field
LINE_FORMATS = {
    "ogle": (read_ogle, "ogle_lmc_cep.dat", None, lambda l: bool(l.strip()), 1),
    "asas": (read_asas_acvs, "asas_acvs_053342-7012.3.txt", None, lambda l: l.strip() and not l.startswith("#"), 2),
    "asassn": (read_asassn, "asassn_skypatrol_v1.csv", ",", lambda l: not l.startswith("HJD"), 5),
    "ztf": (read_ztf, "ztf_irsa_lightcurve.csv", ",", lambda l: not l.startswith("oid"), 4),
    "gaia_long": (read_gaia_epoch, "gaia_dr3_epoch_long.csv", ",", lambda l: not l.startswith("source_id"), 4),
    "hipparcos": (read_hipparcos, "hipparcos_ep_22792.txt", "|", lambda l: l[:1].isdigit(), 1),
    "macho": (read_macho, "macho_F_1.3441.csv", ";", lambda l: bool(l.strip()), 9),
    "catalina": (read_catalina, "catalina_1001004012176.csv", ",", lambda l: not l.startswith("MasterID"), 1),
    "text": (read_text, "ogle_lmc_cep.dat", None, lambda l: bool(l.strip()), 1),
}


@pytest.mark.parametrize("defect", list(DEFECTS))
@pytest.mark.parametrize("fmt", list(LINE_FORMATS))
def test_bad_input_line_formats(fmt, defect, tmp_path):
    reader, name, sep, is_data, field = LINE_FORMATS[fmt]
    bad = tmp_path / f"bad_{fmt}_{defect}{Path(name).suffix}"
    bad.write_text(_edit(name, sep, is_data, field, defect))
    with pytest.raises(LightCurveError, match=re.escape(bad.name) + ".*(" + DEFECTS[defect] + ")"):
        reader(bad)


def test_bad_input_eros2(mirror, tmp_path):
    lines = (mirror / "eros2_samples" / "lm0134l19756.time").read_text().splitlines()
    head, data = [l for l in lines if l.startswith("#")], [l for l in lines if not l.startswith("#")]
    cases = {"truncated": head + data[:-1] + [data[-1][:20]], "columns": head + data[:5] + [data[5] + " 1.0"] + data[6:],
             "text": head + data[:5] + [data[5].replace("19.", "abc", 1)] + data[6:],
             "nan": head + [" ".join([l.split()[0], "nan", "nan", "nan", "nan"]) for l in data], "one": head + data[1:2]}
    for defect, text in cases.items():
        bad = tmp_path / f"{defect}.time"
        bad.write_text("\n".join(text) + "\n")
        with pytest.raises(LightCurveError, match=re.escape(bad.name) + ".*(" + DEFECTS[defect] + ")"):
            read_eros2(bad)


def _ramp_table(rows):
    header = ",time_points_b,time_points_r,light_points_b,light_points_r,error_points_b,error_points_r"
    return header + "\n" + "\n".join(f'{k},' + ",".join(f'"{v}"' for v in cols) for k, cols in rows) + "\n"


def test_bad_input_eros1_ramp(mirror, tmp_path):
    t = [f"{x:.2f}" for x in np.linspace(290, 1100, 12)]
    m = [f"{18 + np.sin(i):.2f}" for i in range(12)]
    e = ["0.1"] * 12
    lst = lambda v: "[" + ", ".join(v) + "]"
    good = ("1_1", [lst(t), lst(t), lst(m), lst(m), lst(e), lst(e)])
    (tmp_path / "ok.csv").write_text(_ramp_table([good]))
    assert len(read_eros1_ramp(tmp_path / "ok.csv")) == 2
    cases = {
        "truncated": _ramp_table([good, good])[:-40],
        "columns": _ramp_table([good]) + '2_2,' + ",".join(f'"{v}"' for v in good[1]) + ',"[1]"\n',
        "text": _ramp_table([("1_1", [lst(t), lst(t), lst(m[:5] + ["abc"] + m[6:]), lst(m), lst(e), lst(e)])]),
        "nan": _ramp_table([("1_1", [lst(t), lst(t), lst(["nan"] * 12), lst(m), lst(e), lst(e)])]),
        "one": _ramp_table([("1_1", [lst(t[:1]), lst(t), lst(m[:1]), lst(m), lst(e[:1]), lst(e)])]),
    }
    for defect, text in cases.items():
        bad = tmp_path / f"{defect}_varlength_features.csv"
        bad.write_text(text)
        with pytest.raises(LightCurveError, match=re.escape(bad.name) + ".*(" + DEFECTS[defect] + ")"):
            read_eros1_ramp(bad)
    (tmp_path / "missing.csv").write_text(_ramp_table([good]).replace("error_points_r", "other"))
    with pytest.raises(LightCurveError, match=r"missing\.csv: missing column\(s\) \['error_points_r'\]"):
        read_eros1_ramp(tmp_path / "missing.csv")
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes((mirror / "eros1_ramp" / "test_varlength_features.csv.gz").read_bytes()[:50_000])
    with pytest.raises(LightCurveError, match=r"cut\.csv\.gz: truncated or corrupt gzip"):
        read_eros1_ramp(cut)


def _tarball(path, members):
    with tarfile.open(path, "w:gz") as tf:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"asas_training_set/{name}.dat"); info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    return path


def test_bad_input_asas_richards(mirror, tmp_path):
    good = "".join(f"{1868.5 + 3 * i:.5f},{12 + 0.3 * np.sin(i):.3f},0.05\n" for i in range(20))
    rows = good.splitlines()
    cases = {"truncated": good + "1950.0,12.1\n", "columns": "\n".join(r + ",7" for r in rows) + "\n",
             "text": good.replace("0.05", "x0.05", 1), "nan": "".join(r.split(",")[0] + ",nan,nan\n" for r in rows),
             "one": rows[0] + "\n"}
    for defect, text in cases.items():
        single = tmp_path / f"{defect}.dat"
        single.write_text(text)
        with pytest.raises(LightCurveError, match=re.escape(single.name) + ".*(" + DEFECTS[defect] + ")"):
            read_asas_richards(single)
        tar = _tarball(tmp_path / f"{defect}.tar.gz", {"100001": good, "100002": text})
        with pytest.raises(LightCurveError, match=re.escape(tar.name) + ".*(" + DEFECTS[defect] + ")"):
            read_asas_richards_tarball(tar)
    whole = (mirror / "asas_richards2012" / "asas_training_set.tar.gz").read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(LightCurveError, match=r"cut\.tar\.gz: truncated or corrupt gzip"):
        read_asas_richards_tarball(cut)
    with pytest.warns(UserWarning, match="skipped 1 light curve"):
        part = read_asas_richards_tarball(tmp_path / "text.tar.gz", errors="skip")
    assert part.ids == ["100001"] and list(part.skipped) == ["100002"]


def test_bad_input_gaia_wide(tmp_path):
    text = (FIXTURES / "gaia_dr3_epoch_wide.csv").read_text()
    header, row = text.splitlines()
    cases = {"truncated": text[: len(text) // 2], "columns": text.rstrip("\n") + ",1\n",
             "text": header + "\n" + row.replace("[1740.61756187", "[abc", 1) + "\n"}
    for defect, t in cases.items():
        bad = tmp_path / f"{defect}_wide.csv"
        bad.write_text(t)
        with pytest.raises(LightCurveError, match=re.escape(bad.name) + ".*(" + DEFECTS[defect] + ")"):
            read_gaia_epoch(bad)
    short = header + "\n" + re.sub(r'"\[([^,\]]*)(, [^\]]*)?\]"', r'"[\1]"', row) + "\n"     # every array cut to 1 value
    (tmp_path / "one_wide.csv").write_text(short)
    with pytest.raises(LightCurveError, match=r"one_wide\.csv.*1 valid point\(s\)"):
        read_gaia_epoch(tmp_path / "one_wide.csv")
    (tmp_path / "nothing.csv").write_text("source_id,ra,dec\n1,2,3\n")
    with pytest.raises(LightCurveError, match=r"nothing\.csv: missing column"):
        read_gaia_epoch(tmp_path / "nothing.csv")


@pytest.mark.parametrize("reader, name, column", [
    (read_ztf, "ztf_irsa_lightcurve.csv", "catflags"), (read_catalina, "catalina_1001004012176.csv", "MJD"),
    (read_asassn, "asassn_skypatrol_v1.csv", "mag_err"), (read_gaia_epoch, "gaia_dr3_epoch_long.csv", "flux_over_error")])
def test_bad_input_missing_column(reader, name, column, tmp_path):
    df = pd.read_csv(FIXTURES / name, dtype=str, keep_default_na=False).drop(columns=[column])
    bad = tmp_path / name
    df.to_csv(bad, index=False)
    with pytest.raises(LightCurveError, match=re.escape(name) + r": missing column\(s\) \['" + column):
        reader(bad)


def test_bad_input_fits(mirror, tmp_path):
    lc = read_eros2(mirror / "eros2_samples" / "lm0134l19756.time")
    def write(name, **cols):
        Table({"TIME": lc.time[:len(next(iter(cols.values())))] + 2_400_000, **cols}).write(tmp_path / name, overwrite=True)
        return tmp_path / name
    good = write("good.fits", MAG=lc.mag, MAG_ERR=lc.err)
    assert len(read_fits(good)) == 294
    cut = tmp_path / "cut.fits"; cut.write_bytes(good.read_bytes()[:-3000])
    cases = {"truncated": cut, "text": write("text.fits", MAG=lc.mag.astype(str), MAG_ERR=lc.err),
             "nan": write("nan.fits", MAG=np.full(294, np.nan), MAG_ERR=lc.err),
             "one": write("one.fits", MAG=lc.mag[:1], MAG_ERR=lc.err[:1])}
    expect = {**DEFECTS, "text": "not a number column"}
    for defect, path in cases.items():
        with pytest.raises(LightCurveError, match=re.escape(path.name) + ".*(" + expect[defect] + ")"):
            read_fits(path)
    with pytest.raises(LightCurveError, match=r"good\.fits: missing column\(s\) \['FLUX'\]"):
        read_fits(good, mag="FLUX")


def test_bad_input_parquet(mirror, tmp_path):
    coll = read_asas_richards_tarball(mirror / "asas_richards2012" / "asas_training_set.tar.gz").subset(["215153", "215181"])
    path = coll.to_parquet(tmp_path / "two.parquet")
    cut = tmp_path / "cut.parquet"; cut.write_bytes(path.read_bytes()[:-500])
    with pytest.raises(LightCurveError, match=r"cut\.parquet: not a readable parquet file"):
        read_parquet(cut)
    pd.DataFrame({"id": ["a"], "time": [1.0], "mag": [10.0]}).to_parquet(tmp_path / "nocol.parquet")
    with pytest.raises(LightCurveError, match=r"nocol\.parquet: .*missing column\(s\) \['err'\]"):
        read_parquet(tmp_path / "nocol.parquet")
    for defect, mag in (("nan", np.full(20, np.nan)), ("one", np.r_[10.0, np.full(19, np.nan)])):
        pd.DataFrame({"id": "a", "band": "V", "time": np.arange(20.), "mag": mag, "err": 0.1}).to_parquet(tmp_path / f"{defect}.parquet")
        with pytest.raises(LightCurveError, match=re.escape(f"{defect}.parquet") + ".*" + DEFECTS[defect]):
            read_parquet(tmp_path / f"{defect}.parquet")


def test_unknown_format_and_missing_file(tmp_path):
    with pytest.raises(KeyError, match="unknown format 'kepler'"):
        read_lightcurve(FIXTURES / "ogle_lmc_cep.dat", format="kepler")
    with pytest.raises(FileNotFoundError, match="no such file"):
        read_lightcurve(tmp_path / "absent.csv", format="ztf")
    (tmp_path / "mystery.bin").write_bytes(b"\x00\x01\x02")
    with pytest.raises(ValueError, match="cannot tell the light-curve format"):
        guess_format(tmp_path / "mystery.bin")
    assert {"ogle", "eros2", "eros1_ramp", "asas", "asas_richards", "asas_richards_tarball", "asassn", "ztf", "gaia",
            "hipparcos", "macho", "catalina", "text", "fits", "parquet"} <= set(READERS)


# ---------------------------------------------------------------- issue 12: layouts as published, detection, failures

from vartransfer.features import extract_features  # noqa: E402
from vartransfer.io.core import NotALightCurve  # noqa: E402
from vartransfer.io.read import read_archive  # noqa: E402
from vartransfer.io.tables import read_table  # noqa: E402
from vartransfer.io.ztf import read_alerce  # noqa: E402


def test_ogle_by_name_and_generic_text_give_identical_features():
    path = FIXTURES / "OGLE-LMC-CEP-0001.dat"
    assert guess_format(path) == "ogle"
    by_name = read_lightcurve(path)
    generic = read_lightcurve(path, format="text", time_format="hjd-2450000")
    assert (by_name[0].survey, by_name.bands, by_name[0].meta["time_shift"]) == ("OGLE", ["I"], 50_000.0)
    np.testing.assert_array_equal(generic[0].time, by_name[0].time)
    assert extract_features(generic[0]) == extract_features(by_name[0])
    inferred = read_lightcurve(path, format="text")                 # values < 12,000: HJD-2450000 inferred, same times
    np.testing.assert_array_equal(inferred[0].time, by_name[0].time)


@pytest.mark.parametrize("name, fmt, keys", [
    ("alerce_detections.csv", "alerce", 4), ("macho_photometry_header.csv", "macho", 4),
    ("asassn_skypatrol_nofilter.csv", "asassn", 1), ("long_table.csv", "table", 4), ("sdss_s82_rrlyr_4099.dat", "table", 5)])
def test_new_layouts_detected_and_read(name, fmt, keys):
    assert guess_format(FIXTURES / name) == fmt
    out = read_lightcurve(FIXTURES / name)
    assert isinstance(out, LightCurves) and len(out) == keys and out.skipped == {}
    for lc in out:
        assert 40_000 < lc.time[0] < 70_000 and np.all(lc.err > 0) and np.all(np.abs(lc.mag) < 90)


def test_alerce_prefers_corrected_magnitudes(tmp_path):
    raw = pd.read_csv(FIXTURES / "alerce_detections.csv")
    det = read_alerce(FIXTURES / "alerce_detections.csv")
    assert det.meta["magnitudes"].to_dict() == {("ZTF18abtmwqf", "zg"): "magpsf_corr", ("ZTF18abtmwqf", "zr"): "magpsf_corr",
                                                ("ZTF20acqgnyl", "zg"): "magpsf", ("ZTF20acqgnyl", "zr"): "magpsf"}
    g = raw.query("oid == 'ZTF18abtmwqf' and fid == 1 and corrected").sort_values("mjd")
    np.testing.assert_allclose(det["ZTF18abtmwqf", "zg"].mag, g["magpsf_corr"])
    raw.to_parquet(tmp_path / "det.parquet")
    assert guess_format(tmp_path / "det.parquet") == "alerce"
    pd.testing.assert_frame_equal(read_lightcurve(tmp_path / "det.parquet").data, det.data)
    pd.testing.assert_frame_equal(read_lightcurve(raw).data, det.data)


def test_skip_lists_every_failure_and_raise_names_file_star_band(tmp_path):
    raw = pd.read_csv(FIXTURES / "alerce_detections.csv")
    keep = ~((raw.oid == "ZTF20acqgnyl") & (raw.fid == 2)) | (raw.index.isin(raw[(raw.oid == "ZTF20acqgnyl") & (raw.fid == 2)].index[:9]))
    raw[keep].to_csv(tmp_path / "ztf.csv", index=False)                 # one band with 9 points
    part = read_lightcurve(tmp_path / "ztf.csv", errors="skip")
    assert len(part) == 3 and list(part.skipped) == ["ztf.csv:ZTF20acqgnyl (zr)"]
    assert "9 valid point(s), need at least 10" in part.skipped["ztf.csv:ZTF20acqgnyl (zr)"]
    with pytest.raises(LightCurveError, match=r"ztf\.csv: ZTF20acqgnyl \(zr\): 9 valid point\(s\)") as e:
        read_lightcurve(tmp_path / "ztf.csv")
    assert "\n" not in str(e.value)
    raw[(raw.oid == "ZTF20acqgnyl") & (raw.fid == 2)].head(9).to_csv(tmp_path / "bad.csv", index=False)
    with pytest.raises(LightCurveError, match=r"bad\.csv: no valid light curve \(1 skipped: ZTF20acqgnyl \(zr\): .*9 valid point"):
        read_lightcurve(tmp_path / "bad.csv", errors="skip")


def test_not_a_light_curve(tmp_path):
    files = {"README.txt": b"Our light curves.\nSee the paper.\n", "notes.md": b"# notes\n", ".DS_Store": b"\x00\x00\x00\x01Bud1",
             "empty.csv": b"", "figure.png": b"\x89PNG\r\n\x1a\n\x00\x00", "paper.pdf": b"%PDF-1.4\n", "words.dat": b"no numbers here\nnone\n"}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        with pytest.raises(NotALightCurve, match="not a light curve"):
            read_lightcurve(tmp_path / name)


def test_ambiguous_or_unknown_columns_are_refused_with_the_options(tmp_path):
    macho = tmp_path / "macho_noname.csv"                     # MACHO-like names the reader does not know: never fieldid as time
    macho.write_text("field,tile,seq,date,red,rerr\n" + "".join(f"13,5961,{i},{49000 + i}.5,-5.{i},0.02\n" for i in range(12)))
    with pytest.raises(LightCurveError, match=r"macho_noname\.csv: cannot tell which column is the magnitude; "
                                              r"columns \['field', 'tile', 'seq', 'date', 'red', 'rerr'\].*--time/--mag/--err.*--format"):
        read_lightcurve(macho)
    one = read_lightcurve(macho, time="date", mag="red", err="rerr", id="field", time_format="mjd")
    assert (one.ids, len(one[0]), one[0].meta["columns"]) == (["13"], 12, {"time": "date", "mag": "red", "err": "rerr"})
    both = tmp_path / "both.csv"
    both.write_text("mjd,hjd,mag\n" + "".join(f"{55000 + i}.1,{2455000 + i}.6,{15 + np.sin(i):.3f}\n" for i in range(12)))
    with pytest.raises(LightCurveError, match=r"cannot tell which column is the time: \['mjd', 'hjd'\] all could be"):
        read_lightcurve(both)
    s82 = tmp_path / "s82.dat"                                 # the wide table without its header: RA is not the time
    s82.write_text("\n".join(l for l in (FIXTURES / "sdss_s82_rrlyr_4099.dat").read_text().splitlines() if not l.startswith("#")) + "\n")
    with pytest.raises(LightCurveError, match=r"16 columns without names: cannot tell which is the time"):
        read_lightcurve(s82)
    wide = read_lightcurve(s82, time="1,4,7,10,13", mag="2,5,8,11,14", err="3,6,9,12,15", band="u,g,r,i,z")
    assert wide.bands == ["g", "i", "r", "u", "z"] and wide.meta["sentinel_dropped"].sum() == 6
    odd = tmp_path / "odd.txt"
    odd.write_text("".join(f"{20000 + i} {15 + np.sin(i):.3f} 0.02\n" for i in range(12)))
    with pytest.raises(LightCurveError, match=r"cannot tell the time convention .*--time-format"):
        read_lightcurve(odd)
    with pytest.raises(ValueError, match=r"format 'ztf' does not take time"):
        read_lightcurve(FIXTURES / "ztf_irsa_lightcurve.csv", format="ztf", time_format="mjd")


def test_truncated_and_bad_values_are_one_line_errors(tmp_path):
    text = (FIXTURES / "catalina_multi.csv").read_text()
    cut = tmp_path / "cut.csv"; cut.write_text(text[: len(text) - 25])                       # partial last row
    gz = tmp_path / "cut.csv.gz"
    import gzip
    gz.write_bytes(gzip.compress(text.encode())[:300])                                       # truncated gzip
    word = tmp_path / "word.csv"; word.write_text(text.replace("15.", "oops", 1))
    for path, what in ((cut, r"cut\.csv: line \d+ has \d field\(s\), expected 7 \(truncated file\?\)"),
                       (gz, r"cut\.csv\.gz: truncated or corrupt gzip data"),
                       (word, r"word\.csv: column 'Mag', data row \d+: 'oops.*' is not a number")):
        with pytest.raises(LightCurveError, match=what) as e:
            read_lightcurve(path)
        assert "\n" not in str(e.value)


def test_archives_of_any_layout(tmp_path, mirror):
    other = tmp_path / "ogle_set.tar.gz"                      # per-star .dat files, not the ASAS layout
    with tarfile.open(other, "w:gz") as tf:
        for i in range(3): tf.add(FIXTURES / "OGLE-LMC-CEP-0001.dat", arcname=f"phot/I/OGLE-LMC-CEP-000{i + 1}.dat")
        tf.add(FIXTURES / "make_fixtures.py", arcname="phot/README.md")
    assert guess_format(other) == "archive"
    coll = read_lightcurve(other)
    assert coll.ids == ["OGLE-LMC-CEP-0001", "OGLE-LMC-CEP-0002", "OGLE-LMC-CEP-0003"] and set(coll.meta["survey"]) == {"OGLE"}
    assert list(coll.skipped) == ["phot/README.md"]
    bad = tmp_path / "bad.zip"
    import zipfile
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("a/star.dat", "1 2 3 4\n5 6 7 8\n")
        zf.writestr("b/cat.csv", (FIXTURES / "catalina_multi.csv").read_text())
    with pytest.raises(LightCurveError, match=r"bad\.zip:a/star\.dat: 4 columns without names"):
        read_archive(bad)
    part = read_lightcurve(bad, errors="skip")
    assert sorted(part.skipped) == ["a/star.dat", "b/cat.csv:1135052040473 (V)"] and len(part) == 2
    import time
    start = time.perf_counter()
    asas = read_lightcurve(mirror / "asas_richards2012" / "asas_training_set.tar.gz")
    assert len(asas) == 810 and time.perf_counter() - start < 10


# ---------------------------------------------------------------- archive tables: VOTable, IPAC, ECSV

@pytest.mark.parametrize("name, fmt", [("ztf_irsa_lightcurve.csv", "ztf"), ("gaia_dr3_epoch_long.csv", "gaia"),
                                       ("alerce_detections.csv", "alerce"), ("long_table.csv", "table")])
def test_survey_layouts_in_votable_ipac_ecsv(tmp_path, name, fmt):
    "The layout decides the reader whatever the container; the curves equal those of the CSV."
    ref = read_lightcurve(FIXTURES / name)
    table = Table.from_pandas(pd.read_csv(FIXTURES / name, comment="#"))
    for astropy_format, ext in (("votable", "xml"), ("ascii.ipac", "tbl"), ("ascii.ecsv", "ecsv")):
        path = tmp_path / f"{Path(name).stem}.{ext}"
        table.write(path, format=astropy_format, overwrite=True)
        assert guess_format(path) == fmt
        got = read_lightcurve(path)
        assert got.keys == ref.keys
        for a, b in zip(got, ref):
            np.testing.assert_allclose(a.time, b.time, rtol=0, atol=1e-9)
            np.testing.assert_allclose(a.mag, b.mag, rtol=0, atol=1e-9)
            np.testing.assert_allclose(a.err, b.err, rtol=0, atol=1e-9)


def test_archive_tables_of_other_layouts_and_damage(tmp_path):
    t = np.linspace(58_000, 58_300, 80)
    Table({"obs_mjd": t, "vmag": 12 + 0.3 * np.sin(t / 0.37), "vmag_err": np.full(80, 0.02)}).write(tmp_path / "star.xml", format="votable")
    assert guess_format(tmp_path / "star.xml") == "table"
    lc = read_lightcurve(tmp_path / "star.xml", time="obs_mjd", mag="vmag", err="vmag_err", time_format="mjd")[0]
    np.testing.assert_allclose(lc.time, t + 0.5)
    np.testing.assert_allclose(lc.err, 0.02)
    whole = (FIXTURES / "ztf_irsa_lightcurve.xml").read_bytes()
    (tmp_path / "cut.xml").write_bytes(whole[: len(whole) // 2])
    (tmp_path / "cut.tbl").write_text("\n".join((FIXTURES / "ztf_irsa_lightcurve.tbl").read_text().splitlines()[:2]) + "\n")
    for bad in ("cut.xml", "cut.tbl"):
        assert guess_format(tmp_path / bad) == "ztf"
        with pytest.raises(LightCurveError, match=re.escape(bad)) as e: read_lightcurve(tmp_path / bad)
        assert "\n" not in str(e.value)


def test_cli_features_of_the_ztf_votable_equal_the_csv(tmp_path):
    from vartransfer.cli.main import main
    out = {}
    for ext in ("csv", "xml", "tbl"):
        assert main(["features", str(FIXTURES / f"ztf_irsa_lightcurve.{ext}"), "-o", str(tmp_path / f"{ext}.parquet")]) == 0
        out[ext] = pd.read_parquet(tmp_path / f"{ext}.parquet").drop(columns=["source", "id"])
    assert len(out["csv"]) == 3 and out["csv"]["error"].isna().all()
    pd.testing.assert_frame_equal(out["xml"], out["csv"])
    pd.testing.assert_frame_equal(out["tbl"], out["csv"])


def test_list_formats_from_the_package(tmp_path):
    "`vartransfer.io.list_formats()` in a fresh process lists every reader (they register on import)."
    import subprocess, sys
    code = "from vartransfer.io import list_formats, READERS; f = list_formats(); print(len(f), len(READERS), 'ztf' in f.index)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    n, m, ztf = r.stdout.split()
    assert int(n) == int(m) >= 18 and ztf == "True"


# ---------------------------------------------------------------- ATLAS, TESS and Kepler through the command line

def test_cli_features_of_atlas_tess_kepler(tmp_path):
    "Each file as published gives feature rows with no options; counts of what was dropped reach the output."
    from vartransfer.cli.main import main
    out = tmp_path / "f.parquet"
    files = [FIXTURES / n for n in ("atlas_forced_phot.txt", "tess_spoc_lc.fits", "kepler_llc.fits")]
    assert main(["features", *map(str, files), "-o", str(out)]) == 0
    f = pd.read_parquet(out).set_index(["id", "band"])
    assert sorted(f.index) == [("KIC 9832227", "Kepler"), ("TIC 261136679", "TESS"), ("atlas_forced_phot", "c"), ("atlas_forced_phot", "o")]
    assert f["error"].isna().all()
    assert f.loc[("TIC 261136679", "TESS"), "n_points"] == 200 - 6 - 1 - 3
    np.testing.assert_allclose(f.loc[("TIC 261136679", "TESS"), "period"], 1.27, rtol=0.03)   # not an alias of the 2-min cadence
    np.testing.assert_allclose(f.loc[("atlas_forced_phot", "o"), "period"], 0.5712, rtol=1e-3)


def test_bad_atlas_and_space_files(tmp_path):
    whole = (FIXTURES / "atlas_forced_phot.txt").read_text().splitlines()
    (tmp_path / "cut.txt").write_text("\n".join(whole[:5] + [whole[5][:40]]) + "\n")
    with pytest.raises(LightCurveError, match=r"cut\.txt: line 6 has \d+ field\(s\), expected 20 \(truncated file\?\)"):
        read_lightcurve(tmp_path / "cut.txt")
    (tmp_path / "cut.fits").write_bytes((FIXTURES / "kepler_llc.fits").read_bytes()[:9000])
    assert guess_format(tmp_path / "cut.fits") == "tess_kepler"
    with pytest.raises(LightCurveError, match=r"cut\.fits: truncated or corrupt FITS file"): read_lightcurve(tmp_path / "cut.fits")
    part = read_lightcurve(FIXTURES / "tess_spoc_lc.fits", flux="SAP_FLUX", quality_bitmask=128)
    assert part.meta["quality_rejected"].tolist() == [1] and part.meta["flux_column"].tolist() == ["SAP_FLUX"]


def test_rubin_rows_as_the_science_platform_serves_them(tmp_path):
    "Rubin rows as a TAP VOTable and as parquet read like the CSV; the CLI's --flux picks the difference flux on purpose."
    from vartransfer.cli.main import main
    ref = read_lightcurve(FIXTURES / "rubin_dp1_forcedsource_visit.csv")
    df = pd.read_csv(FIXTURES / "rubin_dp1_forcedsource_visit.csv")
    Table.from_pandas(df).write(tmp_path / "tap.xml", format="votable")
    df.to_parquet(tmp_path / "dp1.parquet")
    for path in (tmp_path / "tap.xml", tmp_path / "dp1.parquet"):
        assert guess_format(path) == "rubin"
        got = read_lightcurve(path)
        assert got.keys == ref.keys
        pd.testing.assert_frame_equal(got.data.reset_index(drop=True), ref.data.reset_index(drop=True))
    dia = pd.read_csv(FIXTURES / "rubin_diasource.csv").drop(columns=["scienceFlux", "scienceFluxErr"])
    dia.to_csv(tmp_path / "diff.csv", index=False)
    out = tmp_path / "f.csv"
    assert main(["features", str(tmp_path / "diff.csv"), "-o", str(out)]) == 1      # refused: a difference flux is no brightness
    assert main(["features", str(tmp_path / "diff.csv"), "-o", str(out), "--flux", "psfFlux", "--force"]) == 0
    f = pd.read_csv(out)
    assert f["error"].isna().all() and f["other_dropped"].iloc[0] > 0               # the negative difference fluxes, counted


# ---------------------------------------------------------------- broker JSON (Fink, Lasair, ALeRCE) through the command line

def test_cli_features_of_broker_json(tmp_path, capsys):
    "Fink's and Lasair's JSON as the APIs answer give apparent-magnitude curves whose periods are the stars'; a JSON of metadata is skipped."
    from vartransfer.cli.main import main
    folder = tmp_path / "brokers"
    folder.mkdir()
    for n in ("fink_ztf_objects.json", "lasair_ztf_objects.json"): (folder / n).write_bytes((FIXTURES / n).read_bytes())
    (folder / "query.json").write_text('{"objectId": "ZTF19aapaxiu", "output-format": "json", "withupperlim": true}')
    out = tmp_path / "f.parquet"
    assert main(["features", str(folder), "-o", str(out)]) == 0
    f = pd.read_parquet(out).set_index(["id", "band"])
    assert sorted(f.index) == [("ZTF18aaxsioa", "zr"), ("ZTF19aapaxiu", "zg"), ("ZTF19aapaxiu", "zr"), ("ZTF21abcdefg", "zg")]
    assert f["error"].isna().all() and f.loc[("ZTF19aapaxiu", "zg"), "n_points"] == 21     # 3 upper limits, 1 bad-quality row dropped
    np.testing.assert_allclose(f.loc[[("ZTF19aapaxiu", "zg"), ("ZTF19aapaxiu", "zr")], "period"], 0.5672, rtol=1e-3)
    np.testing.assert_allclose(f.loc[("ZTF18aaxsioa", "zr"), "period"], 0.3871, rtol=1e-3)
    np.testing.assert_allclose(f.loc[("ZTF19aapaxiu", "zg"), "amplitude"], 0.35, atol=0.03)   # the star's, not the difference's
    err = capsys.readouterr().err                # the object without a reference source is said, not passed off as a light curve
    assert "1 curve(s) keep difference-image magnitudes" in err and "ZTF21abcdefg (zg)" in err


def test_cli_features_of_ogle_ews_events(tmp_path):
    "OGLE EWS photometry as served (<event>/phot.dat: HJD, I, err, seeing, sky) is read as OGLE, each star named by its event folder."
    from vartransfer.cli.main import main
    rng = np.random.default_rng(5)
    for event, period in (("blg-0007", 0.513), ("blg-1234", 3.87)):
        hjd = np.sort(rng.uniform(2_458_550, 2_458_800, 150))
        rows = [f"{t:.5f} {16.5 + 0.25 * np.sin(2 * np.pi * t / period) + rng.normal(0, 0.01):.3f} 0.010 {rng.uniform(4, 7):.2f} "
                f"{rng.uniform(900, 1500):.1f}" for t in hjd]
        (tmp_path / "ews" / event).mkdir(parents=True)
        (tmp_path / "ews" / event / "phot.dat").write_text("\n".join(rows) + "\n")
    assert guess_format(tmp_path / "ews" / "blg-0007" / "phot.dat") == "ogle"
    out = tmp_path / "f.csv"
    assert main(["features", str(tmp_path / "ews"), "-o", str(out), "-q"]) == 0
    f = pd.read_csv(out).set_index("id")
    assert sorted(f.index) == ["blg-0007", "blg-1234"] and f["error"].isna().all() and (f["band"] == "I").all()
    np.testing.assert_allclose(f.loc[["blg-0007", "blg-1234"], "period"], [0.513, 3.87], rtol=0.01)

def test_cli_features_of_wise_tables(tmp_path, capsys):
    "IRSA's NEOWISE-R single-exposure IPAC table and AllWISE multiepoch CSV: W1/W2 (W3, W4) curves; the RR Lyrae period; a band never detected is a row."
    from vartransfer.cli.main import main
    folder = tmp_path / "wise"
    folder.mkdir()
    for n in ("neowise_single_exposure.tbl", "allwise_mep.csv"): (folder / n).write_bytes((FIXTURES / n).read_bytes())
    assert guess_format(folder / "neowise_single_exposure.tbl") == "wise" and guess_format(folder / "allwise_mep.csv") == "wise"
    out = tmp_path / "f.csv"
    assert main(["features", str(folder), "-o", str(out)]) == 0
    f = pd.read_csv(out, dtype={"id": str}).set_index(["id", "band"])
    assert len(f) == 10 and f["error"].notna().sum() == 1
    assert "1 (W4): no detection, 26 upper limit(s)" in f.loc[("1", "W4"), "error"]
    np.testing.assert_allclose(f.loc[[("neowise_single_exposure", "W1"), ("neowise_single_exposure", "W2")], "period"], 0.5437, rtol=1e-3)
    np.testing.assert_allclose(f.loc[("neowise_single_exposure", "W1"), "amplitude"], 0.15, atol=0.02)
    assert f.loc[("neowise_single_exposure", "W1"), "n_points"] == 189       # 20 of the 209 exposures dropped for poor frames or artifacts
    assert "1 x no detection" in capsys.readouterr().err

def test_asassn_skypatrol_v2_web_download():
    "The Sky Patrol v2 web CSV (# metadata lines, blank lines, then its header) is ASAS-SN: limits and Quality B dropped and counted, one curve per filter."
    path = FIXTURES / "asassn_skypatrol_v2_web.csv"
    assert guess_format(path) == "asassn"
    raw = pd.read_csv(path, comment="#")
    for got in (read_lightcurve(path), read_asassn(path), read_lightcurve(path, format="asassn")):
        assert got.keys == [("661425129485", "V"), ("661425129485", "g")] and [len(lc) for lc in got] == [21, 17]
        assert got.meta[["upper_limits_dropped", "quality_rejected"]].values.tolist() == [[2, 1], [1, 2]]
        for band in ("V", "g"):
            good = raw[(raw["Filter"] == band) & (raw["Mag Error"] < 99) & (raw["Quality"] == "G")]
            lc = got["661425129485", band]
            np.testing.assert_allclose(lc.time, good["JD"] - 2_400_000)
            np.testing.assert_allclose(lc.mag, good["Mag"]); np.testing.assert_allclose(lc.err, good["Mag Error"])
        assert got[0].meta["time_ref"] == "JD" and (got[0].meta["ra"], got[0].meta["dec"]) == (246.61297, -29.3245)
    assert raw["Mag"].max() > 17 and (raw["Mag Error"] > 99).sum() == 3          # the limits the curves leave out


def test_asassn_files_with_a_byte_order_mark(tmp_path):
    "A UTF-8 byte-order mark before the header or the # lines changes neither the detection nor the curves."
    for name in ("asassn_skypatrol_v2_web.csv", "asassn_skypatrol_v1.csv"):
        (tmp_path / name).write_bytes(b"\xef\xbb\xbf" + (FIXTURES / name).read_bytes())
        assert guess_format(tmp_path / name) == "asassn"
        got, want = read_lightcurve(tmp_path / name), read_asassn(FIXTURES / name)
        pd.testing.assert_frame_equal(got.data.assign(id="x"), want.data.assign(id="x"))
        assert got.bands == ["V", "g"]


def test_neowise_cone_search_gives_one_star_per_source(tmp_path):
    "A NEOWISE cone search holding a brighter neighbour, a faint unlisted source and a moving object: one star per source, never merged."
    from vartransfer.io.wise import read_wise
    path = FIXTURES / "neowise_cone_search.tbl"
    assert guess_format(path) == "wise"
    raw = Table.read(path, format="ascii.ipac").to_pandas()
    target, neighbour, faint = "1213104401351011", "1213104401351012", "J080604.79-041751.8"
    for got in (read_lightcurve(path, errors="skip"), read_wise(path, errors="skip")):
        assert sorted(got.ids) == [target, neighbour, faint] and got.bands == ["W1", "W2"]
        assert {k: len(got[k]) for k in got.keys} == {(target, "W1"): 144, (target, "W2"): 144, (neighbour, "W1"): 144,
                                                       (neighbour, "W2"): 144, (faint, "W1"): 14, (faint, "W2"): 14}
        assert [k.rsplit(":", 1)[-1] for k in got.skipped] == ["J080604.20-041758.0"]     # the moving object: said, not a curve
        assert "1 detection(s) with no AllWISE source" in list(got.skipped.values())[0]
        for star, rows in ((target, raw[raw.dist < 1]), (neighbour, raw[(raw.dist > 5) & (raw.dist < 7)])):
            rows = rows.sort_values("mjd")
            np.testing.assert_allclose(got[star, "W1"].time, rows.mjd + 0.5)
            np.testing.assert_allclose(got[star, "W1"].mag, rows.w1mpro); np.testing.assert_allclose(got[star, "W2"].mag, rows.w2mpro)
    assert raw[raw.dist < 1].allwise_cntr.isna().sum() == 5                    # the target's unassociated detections joined it
    with pytest.raises(LightCurveError, match=r"exposure\(s\) hold two or more detections"):
        read_wise(raw.drop(columns=["allwise_cntr", "ra", "dec"]))               # nothing tells the sources apart: refused


@pytest.mark.parametrize("name, stars", [("neowise_cone_search.tbl", ["1213104401351011", "1213104401351012", "J080604.20-041758.0",
                                                                      "J080604.79-041751.8"]),
                                          ("asassn_skypatrol_v2_web.csv", ["661425129485"])])
def test_cli_features_lists_every_star(tmp_path, name, stars):
    "`vartransfer features` on a cone search or a Sky Patrol web download: a row for every star and band; the lone detection is a row with its reason."
    from vartransfer.cli.main import main
    out = tmp_path / "f.csv"
    assert main(["features", str(FIXTURES / name), "-o", str(out), "-f", "-q"]) == 0
    f = pd.read_csv(out, dtype={"id": str})
    assert sorted(set(f["id"])) == stars
    assert f["error"].isna().sum() == 2 * len([s for s in stars if not s.startswith("J080604.20")])


def test_cli_features_of_antares_loci(tmp_path, capsys):
    "A saved ANTARES `Locus.lightcurve` and the API's JSON of loci give the stars' periods in apparent magnitudes; the locus without reference magnitudes is said."
    from vartransfer.cli.main import main
    folder = tmp_path / "antares"
    folder.mkdir()
    for n in ("antares_ANT2020ab3cdef.csv", "antares_loci.json"): (folder / n).write_bytes((FIXTURES / n).read_bytes())
    out = tmp_path / "f.parquet"
    assert main(["features", str(folder), "-o", str(out)]) == 0
    f = pd.read_parquet(out).set_index(["id", "band"])
    assert sorted(f.index) == [("ANT2019xk2pq7a", "zr"), ("ANT2021bb7mn3c", "zg"), ("antares_ANT2020ab3cdef", "zg"),
                               ("antares_ANT2020ab3cdef", "zr")]
    assert f["error"].isna().all() and (f["n_points"] == 24).all()                 # 3 upper limits per curve dropped
    np.testing.assert_allclose(f.loc[[("antares_ANT2020ab3cdef", "zg"), ("antares_ANT2020ab3cdef", "zr")], "period"], 0.4712, rtol=1e-3)
    np.testing.assert_allclose(f.loc[("ANT2019xk2pq7a", "zr"), "period"], 0.2861, rtol=1e-3)
    np.testing.assert_allclose(f.loc[("antares_ANT2020ab3cdef", "zg"), "amplitude"], 0.35, atol=0.03)   # the star's, not the difference's
    err = capsys.readouterr().err
    assert "1 curve(s) keep difference-image magnitudes" in err and "ANT2021bb7mn3c (zg)" in err


def test_cli_features_of_a_ztf_data_release_file(tmp_path):
    "IRSA's data-release parquet as published: one feature row per object, the periods the stars have, the short one listed."
    from vartransfer.cli.main import main
    out = tmp_path / "dr.parquet"
    assert main(["features", str(FIXTURES / "ztf_000385_zr_c11_q2_dr23.parquet"), "-o", str(out)]) == 0
    f = pd.read_parquet(out).set_index("id")
    assert list(f.index) == ["385211100000000", "385211100000017", "385211100000034"] and (f["band"] == "zr").all()
    np.testing.assert_allclose(f.loc[["385211100000000", "385211100000017"], "period"], [0.6134, 2.871], rtol=2e-3)
    assert f["error"].iloc[:2].isna().all() and "8 valid point(s), need at least 10" in f.loc["385211100000034", "error"]


def test_cli_features_of_ps1_detections_csv_and_mast_json(tmp_path):
    "Pan-STARRS1 DR2 detections as MAST serves them (CSV, and its JSON of column info and value rows) give the same features."
    import json
    from vartransfer.cli.main import main
    det = pd.read_csv(FIXTURES / "ps1_dr2_detections.csv")
    mast = {"info": [{"name": c, "type": "float"} for c in det.columns], "data": det.astype(object).values.tolist()}
    (tmp_path / "detection.json").write_text(json.dumps(mast))
    out = {}
    for name, path in (("csv", FIXTURES / "ps1_dr2_detections.csv"), ("json", tmp_path / "detection.json")):
        assert main(["features", str(path), "-o", str(tmp_path / f"{name}.parquet")]) == 0
        out[name] = pd.read_parquet(tmp_path / f"{name}.parquet").set_index(["id", "band"]).drop(columns="source")
    assert list(out["csv"].index) == [("110741234567890123", "g"), ("110741234567890123", "r")]
    assert out["csv"]["error"].isna().all() and out["csv"]["n_points"].tolist() == [14, 14]   # 2 poor PSFs, 1 flux <= 0 dropped
    pd.testing.assert_frame_equal(out["json"], out["csv"])


def test_cli_features_of_ztf_forced_photometry(tmp_path):
    "The ZTF forced-photometry service's file as mailed: apparent-magnitude curves per filter with the star's period; failures counted."
    from vartransfer.cli.main import main
    out = tmp_path / "fps.parquet"
    assert main(["features", str(FIXTURES / "forcedphotometry_req00012345_lc.txt"), "-o", str(out)]) == 0
    f = pd.read_parquet(out).set_index("band")
    assert list(f.index) == ["zg", "zr"] and f["error"].isna().all() and f.loc["zr", "n_points"] == 30   # 2 failed epochs
    np.testing.assert_allclose(f["period"], 0.8374, rtol=1e-3)
    np.testing.assert_allclose(f["amplitude"], 0.3, atol=0.05)              # the pulsation (first harmonic), not the difference


def test_cli_features_of_an_aavso_download(tmp_path):
    "An AAVSO International Database download as written: a curve per band, the Mira's period, limits and failed validations counted."
    from vartransfer.cli.main import main
    out = tmp_path / "aid.parquet"
    assert main(["features", str(FIXTURES / "aavsodata_5f3c2a1b9d0e7.txt"), "-o", str(out)]) == 0
    f = pd.read_parquet(out).set_index("band")
    assert list(f.index) == ["V", "Vis."] and (f["id"] == "R LEO").all() and f["error"].isna().all()
    assert f.loc["V", "n_points"] == 39 and f.loc["Vis.", "n_points"] == 43
    np.testing.assert_allclose(f["period"], 332.0, rtol=0.03)


def test_pyasassn_dataframe_and_parquet_are_read_as_asassn(tmp_path):
    "A pyasassn DataFrame (typed columns) or its parquet goes to the ASAS-SN reader: its quality flags and upper limits are applied."
    df = pd.read_csv(FIXTURES / "asassn_skypatrol_v2.csv")
    df.to_parquet(tmp_path / "skypatrol.parquet")
    assert guess_format(tmp_path / "skypatrol.parquet") == "asassn"
    for given in (df, tmp_path / "skypatrol.parquet"):
        got = read_lightcurve(given)
        assert got.meta[["quality_rejected", "upper_limits_dropped"]].iloc[0].tolist() == [1, 1] and len(got[0]) == 14


@pytest.mark.parametrize("name", ["ztf_irsa_lightcurve.csv", "ps1_dr2_detections.csv", "gaia_dr3_epoch_long.csv", "alerce_detections.csv",
                                  "allwise_mep.csv", "rubin_diasource.csv", "antares_ANT2020ab3cdef.csv"])
def test_a_survey_dataframe_goes_to_its_reader(name):
    "A DataFrame with a survey's columns (from its Python client) is read by that survey's reader: the same curves and cuts as its file."
    import warnings
    df = pd.read_csv(FIXTURES / name, comment="#" if name.startswith("gaia") else None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got, want = read_lightcurve(df, errors="skip"), read_lightcurve(FIXTURES / name, errors="skip")
    cols = ["band", "time", "mag", "err"]
    assert len(got) == len(want) > 0
    pd.testing.assert_frame_equal(got.data[cols], want.data[cols])
    counts = [c for c in want.meta.columns if c.endswith(("_rejected", "_dropped"))]
    assert got.meta[counts].to_numpy().tolist() == want.meta[counts].to_numpy().tolist()


# ---------------------------------------------------------------- Gaia COMBINED, ALeRCE forced photometry, ZTF HATS (make_fixtures_ztf_gaia.py)

GAIA_SOURCES = ("4111834567779557376", "5853498713190525696")


@pytest.mark.parametrize("name", ["gaia_dr3_epoch_combined.csv", "gaia_dr3_epoch_combined.xml"])
def test_gaia_one_row_per_transit_of_two_sources(name):
    "DataLink's COMBINED layout since Dec 2024 (one row per transit, bands side by side): each source its own star, rejections counted."
    assert guess_format(FIXTURES / name) == "gaia"
    for got in (read_lightcurve(FIXTURES / name), read_gaia_epoch(FIXTURES / name)):
        assert got.keys == [(s, b) for s in GAIA_SOURCES for b in ("BP", "G", "RP")]
        assert [len(lc) for lc in got] == [22, 20, 22, 17, 18, 18]
        assert got.meta[["variability_rejected", "photometry_rejected", "nonfinite_dropped"]].sum().tolist() == [1, 1, 1]
        assert got.meta.loc[(GAIA_SOURCES[0], "G"), ["variability_rejected", "photometry_rejected"]].tolist() == [1, 1]
        rows = pd.read_csv(FIXTURES / "gaia_dr3_epoch_combined.csv", dtype={"source_id": str})
        for s in GAIA_SOURCES:
            mine = rows[rows.source_id == s]
            np.testing.assert_allclose(got[s, "RP"].time, mine["rp_obs_time"] + 55_197.5)
            np.testing.assert_allclose(got[s, "RP"].mag, mine["rp_mag"])
            np.testing.assert_allclose(got[s, "RP"].err, 2.5 / np.log(10) / mine["rp_flux_over_error"])
        assert set(got.meta["time_ref"]) == {"BJD_TCB"}


def test_gaia_combined_rows_interleaved_and_fits():
    "Rows of several sources in any order give the same curves; the FITS DataLink answer (big-endian columns) is read too."
    want = read_gaia_epoch(FIXTURES / "gaia_dr3_epoch_combined.csv")
    rows = pd.read_csv(FIXTURES / "gaia_dr3_epoch_combined.csv")
    pd.testing.assert_frame_equal(read_gaia_epoch(rows.sample(frac=1, random_state=3)).data, want.data)
    buf = io.BytesIO()
    Table.read(FIXTURES / "gaia_dr3_epoch_combined.xml").write(buf, format="fits")
    buf.seek(0)
    pd.testing.assert_frame_equal(read_gaia_epoch(buf).data, want.data)


def test_alerce_forced_photometry_json(tmp_path):
    "ALeRCE's forced photometry (mag, e_mag, mag_corr, ...) is ALeRCE: apparent magnitudes, bands zg zr zi, 100 +- 100 epochs counted."
    import json
    import warnings
    path = FIXTURES / "ZTF18abcdefg_alerce_forced_photometry.json"
    assert guess_format(path) == "alerce"
    raw = pd.DataFrame(json.loads(path.read_text()))
    for got in (read_lightcurve(path), read_alerce(path)):
        assert got.keys == [("ZTF18abcdefg", "zg"), ("ZTF18abcdefg", "zi"), ("ZTF18abcdefg", "zr")]
        assert [len(lc) for lc in got] == [22, 12, 24] and got.meta["no_magnitude_dropped"].tolist() == [2, 0, 2]
        assert set(got.meta["magnitudes"]) == {"mag_corr"} and set(got.meta["survey"]) == {"ZTF (ALeRCE)"}
        r = raw.query("fid == 2 and mag < 99").sort_values("mjd")
        np.testing.assert_allclose(got["ZTF18abcdefg", "zr"].mag, r["mag_corr"])
        np.testing.assert_allclose(got["ZTF18abcdefg", "zr"].err, r["e_mag_corr"])
        np.testing.assert_allclose(got["ZTF18abcdefg", "zr"].time, r["mjd"] + 0.5)
    raw.to_parquet(tmp_path / "forced.parquet")
    assert guess_format(tmp_path / "forced.parquet") == "alerce"
    two = read_lightcurve(pd.concat([raw, raw.assign(oid="ZTF19aaaaaaa")]))
    assert two.ids == ["ZTF18abcdefg", "ZTF19aaaaaaa"] and len(two) == 6
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        diff = read_alerce(raw.assign(mag_corr=None, e_mag_corr=None, corrected=False))
    assert set(diff.meta["magnitudes"]) == {"mag"} and diff.meta["no_magnitude_dropped"].tolist() == [2, 0, 2]
    assert len(caught) == 1 and "3 curve(s) keep difference-image magnitudes" in str(caught[0].message)
    np.testing.assert_allclose(diff["ZTF18abcdefg", "zr"].mag, raw.query("fid == 2 and mag < 99").sort_values("mjd")["mag"])


def test_ztf_hats_partition(tmp_path):
    "A partition of IRSA's ZTF HATS catalogue (epochs nested in `lightcurve`) is ztf_dr: one curve per object row, catflags counted."
    import pyarrow as pa
    import pyarrow.parquet as pq
    path = FIXTURES / "ztf_dr23_lc-hats_Npix=3456.parquet"
    assert guess_format(path) == "ztf_dr"
    table = pq.read_table(path)
    with pytest.warns(UserWarning, match=r"skipped 1 light curve\(s\) that failed validation: 1633207400009999 \(zg\)"):
        direct = READERS["ztf_dr"](path, errors="skip")               # called directly, the reader says what it skipped
    for got in (read_lightcurve(path, errors="skip"), direct):
        assert got.keys == [("1633107400004738", "zr"), ("1633207400004730", "zg")]
        assert list(got.skipped)[0].endswith("1633207400009999 (zg)") and [len(lc) for lc in got] == [41, 37]
        assert got.meta["catflags_rejected"].tolist() == [4, 3] and set(got.meta["time_ref"]) == {"HJD"}
        ep = pd.DataFrame(table.column("lightcurve")[1].as_py()).query("catflags == 0")
        np.testing.assert_allclose(got["1633107400004738", "zr"].time, ep["hmjd"] + 0.5)
        np.testing.assert_allclose(got["1633107400004738", "zr"].mag, ep["mag"], rtol=1e-6)
    with pytest.raises(LightCurveError, match=r"1633207400009999 \(zg\): 6 valid point"):
        read_lightcurve(path)
    rows = table.column("lightcurve").to_pylist()
    col = table.schema.get_field_index("lightcurve")
    pq.write_table(table.set_column(col, "lightcurve", pa.array([{k: [e[k] for e in r] for k in r[0]} for r in rows])),
                   tmp_path / "struct_of_lists.parquet")
    pd.testing.assert_frame_equal(read_lightcurve(tmp_path / "struct_of_lists.parquet", errors="skip").data,
                                  read_lightcurve(path, errors="skip").data)
    pq.write_table(table.set_column(col, "lightcurve", pa.array([[{k: v for k, v in e.items() if k != "mag"} for e in r] for r in rows])),
                   tmp_path / "nomag.parquet")
    with pytest.raises(LightCurveError, match=r"column 'lightcurve' lacks the epoch field\(s\) \['mag'\]"):
        read_lightcurve(tmp_path / "nomag.parquet")


@pytest.mark.parametrize("name, stars, ok", [("gaia_dr3_epoch_combined.csv", 6, 6), ("ZTF18abcdefg_alerce_forced_photometry.json", 3, 3),
                                             ("ztf_dr23_lc-hats_Npix=3456.parquet", 3, 2), ("gaia_dr3_epoch_long.fits", 6, 6),
                                             ("astropy_time_long.fits", 4, 4), ("astropy_time_long.parquet", 4, 4), ("astropy_time_long.ecsv", 4, 4)])
def test_cli_features_of_every_star(tmp_path, name, stars, ok):
    "Through the command line every star and band of these files is a feature row (a too-short one with its error)."
    from vartransfer.cli.main import main
    out = tmp_path / "f.csv"
    assert main(["features", str(FIXTURES / name), "-o", str(out), "-f", "-q"]) == 0
    f = pd.read_csv(out, dtype={"id": str})
    assert len(f) == stars and f["error"].isna().sum() == ok


# Generic tables in FITS, astropy ECSV/parquet with Time columns, and time columns named by their offset
# (fixtures written by tests/fixtures/make_fixtures_tables.py).

def test_gaia_datalink_fits_long_layout_reads_like_the_csv():
    "Gaia DataLink FITS (long layout, two sources): detected as Gaia and read per source and band, as the CSV is."
    from vartransfer.io.read import _fits_format
    path = FIXTURES / "gaia_dr3_epoch_long.fits"
    assert guess_format(path) == "gaia" and _fits_format(["source_id", "band", "time", "mag", "flux_over_error"]) == "gaia"
    for coll in (read_lightcurve(path), read_gaia_epoch(path)):
        assert coll.ids == ["4111834567779557376", "5853498713190525696"] and coll.bands == ["BP", "G", "RP"]
        assert [len(lc) for lc in coll] == [13] * 6                  # one rejected transit (or no magnitude) per band
        csv = read_gaia_epoch(FIXTURES / "gaia_dr3_epoch_long.csv")
        pd.testing.assert_frame_equal(coll.data.query("id == '4111834567779557376'"), csv.data)
        np.testing.assert_allclose(coll["5853498713190525696", "G"].time, csv["4111834567779557376", "G"].time + 0.37, atol=1e-9)
        np.testing.assert_allclose(coll["5853498713190525696", "G"].mag, csv["4111834567779557376", "G"].mag + 0.5, atol=1e-9)


@pytest.mark.parametrize("ext", ["fits", "ecsv", "parquet"])
def test_astropy_time_tables_give_every_star_and_band(ext):
    "A long table with an astropy Time column, as astropy writes it in FITS, ECSV and parquet: 2 stars x 2 bands, times exact."
    from vartransfer.io.tables import read_table
    path = FIXTURES / f"astropy_time_long.{ext}"
    truth = Table.read(FIXTURES / "astropy_time_long.ecsv")
    assert guess_format(path) == "table"
    for coll in (read_lightcurve(path), read_table(path)):
        assert coll.keys == [("V1", "g"), ("V1", "r"), ("V2", "g"), ("V2", "r")] and [len(lc) for lc in coll] == [25] * 4
        for (star, band), lc in zip(coll.keys, coll):
            sel = (truth["star"] == star) & (truth["band"] == band)
            np.testing.assert_allclose(lc.time, truth["time"][sel].jd - 2_400_000, rtol=0, atol=1e-8)
            np.testing.assert_allclose(lc.mag, truth["mag"][sel], rtol=0, atol=1e-12)
        assert set(coll.meta["time_format"]) == {"JD"} and set(coll.meta["time_ref"]) == {"JD_TDB"}   # the Time's own, not inferred


def test_astropy_time_in_mjd_one_star_ecsv():
    "A one-star ECSV whose Time is in MJD (UTC): read with that format, the same dates as the JD table."
    one = read_lightcurve(FIXTURES / "astropy_time_onestar.ecsv")
    assert one.ids == ["astropy_time_onestar"] and len(one[0]) == 25
    assert (one[0].meta["time_format"], one[0].meta["time_ref"]) == ("MJD", "JD_UTC")
    truth = Table.read(FIXTURES / "astropy_time_onestar.ecsv")
    np.testing.assert_allclose(one[0].time, truth["time"].mjd + 0.5, rtol=0, atol=1e-8)


def test_fits_bare_time_column_of_julian_dates_is_jd(tmp_path):
    "A TIME column in days with full JDs and no MJDREF/JDREF: JD (inferred), not astropy's MJD; with MJDREF it is honoured."
    from astropy.io import fits
    path = FIXTURES / "bare_time_jd.fits"
    jd = fits.getdata(path, 1)["TIME"]
    assert guess_format(path) == "fits"
    for lc in (read_fits(path), read_lightcurve(path)[0]):
        assert (lc.id, len(lc), lc.meta["time_format"]) == ("ASASSN-V J060000.00+100000.0", 40, "JD (inferred)")
        np.testing.assert_allclose(lc.time, jd - 2_400_000, rtol=0, atol=1e-9)
    with fits.open(path) as h:                                   # the same values as days since MJDREF = 0 (a header that says so)
        h[1].header["MJDREF"] = 0.0; h[1].header["TIMESYS"] = "TDB"
        h[1].data["TIME"] = jd - 2_400_000.5
        h.writeto(tmp_path / "mjdref.fits")
    lc = read_fits(tmp_path / "mjdref.fits")
    assert lc.meta["time_format"] == "Time (mjd)" and lc.meta["time_ref"] == "JD_TDB"
    np.testing.assert_allclose(lc.time, jd - 2_400_000, rtol=0, atol=1e-8)


def test_fits_several_stars_refused_as_one_curve_read_as_table(tmp_path):
    "read_fits refuses a table of several stars or bands (named or implied id column); read_lightcurve reads them all."
    from vartransfer.io.tables import SeveralStars
    with pytest.raises(SeveralStars, match=r"astropy_time_long\.fits: several stars or bands .*\['star', 'band'\]"):
        read_fits(FIXTURES / "astropy_time_long.fits")
    Table({"designation": np.repeat(["V1", "V2", "V3"], 20), "TIME": np.tile(2_459_001.5 + np.arange(20.), 3),
           "MAG": 14 + np.sin(np.arange(60.))}).write(tmp_path / "blocks.fits")
    assert guess_format(tmp_path / "blocks.fits") == "fits"
    with pytest.raises(SeveralStars, match="column 'designation' changes in blocks"):
        read_fits(tmp_path / "blocks.fits")
    coll = read_lightcurve(tmp_path / "blocks.fits")
    assert coll.ids == ["V1", "V2", "V3"] and [len(lc) for lc in coll] == [20] * 3


@pytest.mark.parametrize("name, column, start, fmt", [("tess_btjd.csv", "btjd", 58_325.3, "BJD-2457000 (inferred)"),
                                                      ("hipparcos_bjd2440000.txt", "BJD-2440000", 47_900, "BJD-2440000 (inferred)")])
def test_time_column_named_by_its_offset(name, column, start, fmt):
    "A time column whose name states its offset (BTJD, BJD-2440000) decides the convention, not the 0..12000 range rule."
    csv = name.endswith(".csv")
    assert (FIXTURES / name).read_text().splitlines()[0 if csv else 1].lstrip("# ").startswith(column)
    t = np.loadtxt(FIXTURES / name, delimiter="," if csv else None, skiprows=1 if csv else 0, comments="#")[:, 0]
    for lc in (read_text(FIXTURES / name), read_lightcurve(FIXTURES / name)[0]):
        assert lc.meta["time_format"] == fmt and len(lc) == len(t)
        assert start <= lc.time.min() < start + 50
        np.testing.assert_allclose(lc.time, t + (57_000 if "btjd" in name else 40_000), rtol=0, atol=1e-9)




# Hostile inputs (issue: silent losses in the io readers): every star of the input is a curve or a skipped entry with its reason.
def _dat_tar(path, names, mode='w:gz'):
    "A tarball of ASAS-layout `t,mag,err` members (t = HJD - 2450000)."
    with tarfile.open(path, mode) as tf:
        for k, name in enumerate(names):
            text = '\n'.join(f"{1000 + t + 0.5 * k},{10 + np.sin(t + k)},0.02" for t in range(20)).encode()
            info = tarfile.TarInfo(name); info.size = len(text); tf.addfile(info, io.BytesIO(text))
    return path


def test_asas_like_tarball_with_other_members_reads_all(tmp_path):
    tar = _dat_tar(tmp_path/'nondat.tar.gz', ['s/1.dat', 's/2.dat', 's/3.txt', 's/4.csv'])
    assert guess_format(tar) == 'archive'
    got = read_lightcurve(tar, errors='skip')
    assert got.ids == ['1', '2', '3', '4'] and got.skipped == {}
    with pytest.warns(UserWarning, match='skipped 2'): direct = read_asas_richards_tarball(tar, errors='skip')   # its own reader: the others listed
    assert direct.ids == ['1', '2'] and sorted(direct.skipped) == ['s/3.txt', 's/4.csv']
    assert all('not a .dat light curve' in v for v in direct.skipped.values())


def test_asas_tarball_duplicate_star_fails_alone(tmp_path):
    tar = _dat_tar(tmp_path/'dup.tar.gz', ['s/1.dat', 's/2.dat', 's/3.dat', 't/1.dat'])
    got = read_lightcurve(tar, errors='skip')
    assert got.ids == ['1', '2', '3'] and list(got.skipped) == ['dup.tar.gz:t/1.dat']
    assert 'both hold star 1' in got.skipped['dup.tar.gz:t/1.dat']
    with pytest.raises(LightCurveError, match='t/1.dat and s/1.dat both hold star 1'): read_asas_richards_tarball(tar)


@pytest.mark.parametrize('mode,ext', [('w:bz2', 'tar.bz2'), ('w:xz', 'tar.xz'), ('w:bz2', 'tbz2'), ('w:xz', 'txz')])
def test_bzip2_xz_tarballs_are_archives(tmp_path, mode, ext):
    tar = _dat_tar(tmp_path/f'set.{ext}', [f's/{k}.dat' for k in range(5)] + ['s/5.txt'], mode)
    got = read_lightcurve(tar, errors='skip')
    assert got.ids == [str(k) for k in range(6)] and got.skipped == {}


@pytest.mark.parametrize('pack,ext', [('bz2', 'bz2'), ('lzma', 'xz')])
def test_bzip2_xz_single_files(tmp_path, pack, ext):
    import bz2, lzma
    f = tmp_path/f'star.csv.{ext}'
    f.write_bytes({'bz2': bz2, 'lzma': lzma}[pack].compress(b'time,mag,err\n' + b''.join(b'%d,%.3f,0.02\n' % (2450000 + t, 12 + t / 100) for t in range(20))))
    lc = read_lightcurve(f)
    assert lc.ids == ['star'] and len(lc[0]) == 20 and np.allclose(lc[0].mag[:2], [12.0, 12.01])


_ROWS = [(2450000.5 + t, 12 + t / 100, 0.02) for t in range(20)]


@pytest.mark.parametrize('name,content', [
    ('utf16.csv', 'time,mag,err\n'.encode('utf-16') + ''.join(f"{t},{m},{e}\n" for t, m, e in _ROWS).encode('utf-16-le')),
    ('bom.csv', b'\xef\xbb\xbf' + ''.join(f"{t},{m},{e}\n" for t, m, e in _ROWS).encode()),
    ('bom_header.csv', b'\xef\xbb\xbftime,mag,err\n' + ''.join(f"{t},{m},{e}\n" for t, m, e in _ROWS).encode()),
    ('latin1.csv', '# étoile ÿ\n'.encode('latin-1') + ''.join(f"{t},{m},{e}\n" for t, m, e in _ROWS).encode()),
    ('semicolon.csv', ''.join(f"{t};{m};{e}\n" for t, m, e in _ROWS).encode()),
    ('comma_decimal.csv', ''.join(f"{t};{m};{e}\n".replace('.', ',') for t, m, e in _ROWS).encode()),
    ('comma_decimal_header.csv', ('time;mag;err\n' + ''.join(f"{t};{m};{e}\n".replace('.', ',') for t, m, e in _ROWS)).encode()),
    ('comma_decimal_tab.txt', ''.join(f"{t}\t{m}\t{e}\n".replace('.', ',') for t, m, e in _ROWS).encode())])
def test_text_encodings_and_european_csv(tmp_path, name, content):
    f = tmp_path/name; f.write_bytes(content)
    with pytest.warns(UserWarning, match='not UTF-8') if 'latin1' in name else contextlib.nullcontext():
        lc = read_lightcurve(f)
    assert lc.ids == [Path(name).stem] and len(lc[0]) == 20
    assert np.allclose(lc[0].time, [t - 2400000 for t, _, _ in _ROWS]) and np.allclose(lc[0].mag, [m for _, m, _ in _ROWS])


def test_blank_ids_are_no_star(tmp_path):
    f = tmp_path/'tab.csv'
    f.write_text('id,time,mag,err\n' + ''.join(f"{s},{2450000 + t},{12 + t / 100},0.02\n" for s in ('s1', '', 's2', '') for t in range(20)))
    got = read_lightcurve(f, errors='skip')
    assert got.ids == ['s1', 's2'] and list(got.skipped) == ['tab.csv:rows without id']
    assert "40 row(s) without a star id in column 'id'" in got.skipped['tab.csv:rows without id']
    with pytest.raises(LightCurveError, match="40 row"): read_lightcurve(f)


def test_missing_looking_ids_kept_verbatim(tmp_path):
    ids = ['NA', 'NULL', 'None', 'nan', 'null', '-nan', 'n/a']
    for sep, name in ((',', 'ids.csv'), (' ', 'ids.txt')):
        f = tmp_path/name
        f.write_text(f'id{sep}time{sep}mag{sep}err\n' + ''.join(f"{s}{sep}{2450000 + t}{sep}{12 + t / 100}{sep}0.02\n" for s in ids for t in range(20)))
        assert sorted(read_lightcurve(f).ids) == sorted(ids)


def test_column_lists_are_capped(tmp_path):
    f = tmp_path/'wide.dat'
    f.write_text(' '.join(f'c{i}' for i in range(200_000)) + '\n' + ' '.join(['2'] * 200_000) + '\n')
    for reader in (read_text, lambda f: read_lightcurve(f, format='table')):
        with pytest.raises(LightCurveError) as e: reader(f)
        assert len(str(e.value)) < 600 and '(200000 in all)' in str(e.value)


# --- probe of hostile inputs, third round: ids, '#' in fields, sentinels, bands, missing times, dates, archives ---

def _curve(star, band, period, n=30):
    "Rows 'id,band,time,mag,err' of one sinusoid, times in JD."
    t = np.sort(np.random.default_rng(n).uniform(0, 60, n))
    return [f"{star},{band},{2455000 + x:.5f},{12 + 0.3 * np.sin(2 * np.pi * x / period):.4f},0.02" for x in t]


def _features(*argv):
    "Run `vartransfer features` in-process; the exit code and its output table."
    from vartransfer.cli.main import main
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err: code = main(['features'] + [str(a) for a in argv])
    return code, err.getvalue()


def test_ids_differing_by_spaces_are_two_stars(tmp_path):
    f = tmp_path / 'ws.csv'
    f.write_text('id,band,time,mag,err\n' + '\n'.join(_curve('a', 'V', 0.7, 100) + _curve('a ', 'V', 3.3, 100) + _curve(' b ', 'V ', 1.1)) + '\n')
    with pytest.warns(UserWarning) as seen: got = read_lightcurve(f)
    said = [str(w.message).split(': ', 1)[1] for w in seen]
    assert said == ["star ids ['a', 'a '] differ only by surrounding spaces: kept apart, as written",
                    "bands ['V', 'V '] differ only by surrounding spaces: kept apart, as written"]
    assert got.keys == [('a', 'V'), ('a ', 'V'), ('b', 'V ')]          # bands 'V' and 'V ' kept apart too
    code, _ = _features(tmp_path / 'ws.csv', '-o', tmp_path / 'out.csv')
    out = pd.read_csv(tmp_path / 'out.csv', dtype={'id': str}, keep_default_na=False).set_index('id')
    assert code == 0 and len(out) == 3
    assert abs(out.loc['a', 'period'] - 0.7) < 0.01 and abs(out.loc['a ', 'period'] - 3.3) < 0.05


def test_hash_inside_a_field_is_data(tmp_path):
    f = tmp_path / 'hash.csv'
    f.write_text('# a comment line\nid,mjd,mag,magerr\n' + '\n'.join(f"{s},{55000 + t:.3f},{12 + 0.2 * np.sin(t):.3f},0.02"
                                                                    for s in ('star#1', 'star#2', 'V* RR Lyr') for t in range(20)) + '\n')
    assert read_lightcurve(f).ids == ['V* RR Lyr', 'star#1', 'star#2']


def test_sentinel_is_one_rule_for_every_layout(tmp_path):
    rows = _curve('s', 'V', 0.7, 100)
    table, text = tmp_path / 'table.csv', tmp_path / 'text.csv'
    table.write_text('id,band,time,mag,err\n' + '\n'.join(rows) + '\n')
    text.write_text('time,mag,err\n' + '\n'.join(r.split(',', 2)[2] for r in rows) + '\n')
    n = int((pd.read_csv(table)['mag'] >= 12.2).sum())
    assert 0 < n < 50
    for f in (table, text):
        assert read_lightcurve(f, sentinel=12.2).meta['sentinel_dropped'].item() == n   # magnitudes >= sentinel, errors never
        with pytest.raises(LightCurveError, match=r"0 valid point\(s\)"): read_lightcurve(f, sentinel=0.02)
    code, _ = _features(table, '--sentinel', '12.2', '-o', tmp_path / 'out.csv')
    assert code == 0 and pd.read_csv(tmp_path / 'out.csv')['sentinel_dropped'].item() == n


def test_rows_without_band_are_left_out_and_counted(tmp_path):
    f = tmp_path / 'band_nan.csv'
    f.write_text('id,band,time,mag,err\n' + '\n'.join(_curve('s', '', 0.7) + _curve('s', 'V', 0.7, 70)) + '\n')
    got = read_lightcurve(f, errors='skip')
    assert got.keys == [('s', 'V')] and list(got.skipped) == ['band_nan.csv:rows without band']
    assert "30 row(s) without a band in column 'band' (the first is data row 1)" in got.skipped['band_nan.csv:rows without band']
    with pytest.raises(LightCurveError, match="30 row"): read_lightcurve(f)
    g = tmp_path / 'no_bands.csv'                        # a band column empty throughout: no bands, one curve
    g.write_text('id,band,time,mag,err\n' + '\n'.join(_curve('s', '', 0.7)) + '\n')
    assert read_lightcurve(g).keys == [('s', '')]


def test_missing_times_said_and_counted(tmp_path):
    f = tmp_path / 'neg.csv'
    f.write_text('id,band,time,mag,err\n' + '\n'.join(_curve('s', 'V', 0.7) + [f"neg,V,-99.99,12.{k},0.02" for k in range(20)]
                                                       + [f"s,V,-inf,12.{k},0.02" for k in range(5)]) + '\n')
    got = read_lightcurve(f, errors='skip')
    assert got.skipped == {'neg.csv:neg (V)': f"{f}: neg (V): no point left of 20: 20 time(s) <= -90 taken as missing-value codes"}
    assert got.meta[['nonfinite_dropped', 'sentinel_dropped']].values.tolist() == [[5, 0]]   # -inf: non-finite, not a sentinel


def test_calendar_dates_are_read(tmp_path):
    rows = [f"s,V,2009-06-{d:02d}T{h:02d}:00:00,{12 + 0.1 * np.sin(d + h / 24):.3f},0.02" for d in range(1, 21) for h in (0, 12)]
    f = tmp_path / 't_iso.csv'; f.write_text('id,band,time,mag,err\n' + '\n'.join(rows) + '\n')
    g = tmp_path / 't_iso3.csv'; g.write_text('time,mag,err\n' + '\n'.join(r.split(',', 2)[2] for r in rows) + '\n')
    for path, fmt in ((f, None), (f, 'isot'), (g, None), (g, 'isot')):
        got = read_lightcurve(path, time_format=fmt)
        assert np.allclose(got[0].time[:2], [54983.5, 54984.0]) and got.meta['time_ref'].item() == 'JD_UTC'
    with pytest.raises(LightCurveError, match="is not a number"): read_lightcurve(f, time_format='mjd')


def test_kelt_ipac_time_reference_and_single_band_columns():
    kelt = read_lightcurve(FIXTURES / 'KELT_N16_lc_012345_V01_east_raw.tbl')
    assert kelt.meta['time_ref'].item() == 'HJD' and len(kelt[0]) == 60 and 55_001 < kelt[0].time[0] < 55_202
    v = read_lightcurve(FIXTURES / 'star_hjd2450000_V.csv')
    assert v.keys == [('star_hjd2450000_V', 'V')] and v.meta['time_format'].item() == 'HJD-2450000 (inferred)'
    assert np.allclose(v[0].err, 0.004) and 57_000 < v[0].time[0] < 57_150
