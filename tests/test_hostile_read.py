"Hostile inputs of the light-curve readers: parquet conventions, damaged archive members, '#' rows, time zones."
import io
import tarfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vartransfer.io import guess_format, read_lightcurve
from vartransfer.lightcurve import LightCurveError
from helpers import run

FIXTURES = Path(__file__).parent / "fixtures"


def long_table(n_stars=2, n=60, seed=0) -> pd.DataFrame:
    "A long id,time,mag,err table of sinusoidal stars, times in reduced JD (59000...)."
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(n_stars):
        t = np.sort(59000 + rng.uniform(0, 200, n))
        rows.append(pd.DataFrame({"id": f"s{k}", "time": t, "mag": 15 + 0.3 * np.sin(2 * np.pi * t / (0.6 + k)), "err": 0.02}))
    return pd.concat(rows, ignore_index=True)


# 1. a parquet with id,time,mag,err that vartransfer did not write: times inferred as a CSV's
def test_foreign_parquet_times_are_inferred_like_csv(tmp_path):
    d = long_table()
    jd = d.assign(time=d["time"] + 2_400_000)
    jd.to_parquet(tmp_path / "jd.parquet", index=False); jd.to_csv(tmp_path / "jd.csv", index=False)
    assert guess_format(tmp_path / "jd.parquet") == "table"
    a, b = read_lightcurve(tmp_path / "jd.parquet"), read_lightcurve(tmp_path / "jd.csv")
    np.testing.assert_allclose(a.data["time"], b.data["time"])
    assert a.data["time"].max() < 100_000 and a[0].meta["time_format"] == "JD (inferred)"
    mjd = d.assign(time=d["time"] - 0.5)                     # MJD: half a day apart from reduced JD
    mjd.to_parquet(tmp_path / "mjd.parquet", index=False)
    np.testing.assert_allclose(read_lightcurve(tmp_path / "mjd.parquet").data["time"], d["time"])


def test_vartransfer_parquet_reads_as_before(tmp_path):
    coll = read_lightcurve(long_table())
    coll.to_parquet(tmp_path / "lc.parquet")
    assert guess_format(tmp_path / "lc.parquet") == "parquet"
    back = read_lightcurve(tmp_path / "lc.parquet")
    np.testing.assert_array_equal(back.data["time"], coll.data["time"])
    assert back.meta.equals(coll.meta)


@pytest.mark.parametrize("unit", ["ns", "ms"])
def test_datetime_parquet_is_read(tmp_path, unit):
    d = long_table(1)
    dates = pd.to_datetime(d["time"] - 0.5, unit="D", origin="1858-11-17")   # reduced JD - 0.5: MJD, days from 1858-11-17
    d.assign(time=dates.astype(f"datetime64[{unit}]")).to_parquet(tmp_path / "dt.parquet", index=False)
    got = read_lightcurve(tmp_path / "dt.parquet")
    np.testing.assert_allclose(got.data["time"], d["time"], atol=1e-6)
    assert got[0].meta["time_ref"] == "JD_UTC"


def test_integer_nanoseconds_parquet_is_a_time_convention_error(tmp_path):
    d = long_table(1)
    d.assign(time=(d["time"] * 86400e9).astype("int64")).to_parquet(tmp_path / "ns.parquet", index=False)
    with pytest.raises(LightCurveError, match="cannot tell the time convention of column 'time'"):
        read_lightcurve(tmp_path / "ns.parquet")


def test_cli_features_of_foreign_parquet(tmp_path):
    d = long_table(1)
    dates = pd.to_datetime(d["time"] - 0.5, unit="D", origin="1858-11-17")
    d.assign(time=dates).to_parquet(tmp_path / "dt.parquet", index=False)
    d.assign(time=(d["time"] * 86400e9).astype("int64")).to_parquet(tmp_path / "ns.parquet", index=False)
    code, out, err = run("features", tmp_path / "dt.parquet", tmp_path / "ns.parquet", "-o", tmp_path / "f.csv", "-q", "--jobs", "1")
    assert code == 0, err
    f = pd.read_csv(tmp_path / "f.csv")
    ok = f[f["source"].str.endswith("dt.parquet")]
    assert ok["error"].isna().all() and len(ok) == 1
    bad = f[f["source"].str.endswith("ns.parquet")]
    assert bad["error"].str.contains("cannot tell the time convention").all() and len(bad) == 1


# 2. one damaged archive member fails alone
def _archives(tmp_path) -> tuple[Path, Path]:
    d = long_table()
    good = {f"{s}.csv": g.drop(columns="id").to_csv(index=False).encode() for s, g in d.groupby("id")}
    macho = (FIXTURES / "macho_photometry_header.csv").read_text().replace("rerr", "r_err", 1).encode()
    tgz = tmp_path / "a.tar.gz"
    with tarfile.open(tgz, "w:gz") as tf:
        for name, data in {**good, "macho_renamed.csv": macho}.items():
            info = tarfile.TarInfo(name); info.size = len(data); tf.addfile(info, io.BytesIO(data))
    read_lightcurve(d).to_parquet(tmp_path / "lc.parquet")
    raw = bytearray((tmp_path / "lc.parquet").read_bytes())
    raw[4:200] = bytes(196)                                    # the data pages damaged, the footer intact
    z = tmp_path / "b.zip"
    with zipfile.ZipFile(z, "w") as zf:
        for name, data in {**good, "bad.parquet": bytes(raw)}.items(): zf.writestr(name, data)
    return tgz, z


def test_damaged_member_fails_alone(tmp_path):
    tgz, z = _archives(tmp_path)
    a = read_lightcurve(tgz, errors="skip")
    assert sorted(a.ids) == ["s0", "s1"]
    assert "missing column(s) ['rerr']" in a.skipped["macho_renamed.csv"]
    b = read_lightcurve(z, errors="skip")
    assert sorted(b.ids) == ["s0", "s1"]
    assert "bad.parquet" in b.skipped["bad.parquet"] and "not a readable parquet file" in b.skipped["bad.parquet"]
    assert b.skipped["bad.parquet"].isprintable()
    with pytest.raises(LightCurveError, match=r"macho_renamed.csv: missing column\(s\) \['rerr'\]"): read_lightcurve(tgz)


def test_cli_features_damaged_member_fails_alone(tmp_path):
    tgz, z = _archives(tmp_path)
    code, out, err = run("features", tgz, z, "-o", tmp_path / "f.csv", "-q", "--jobs", "1")
    assert code == 0, err
    f = pd.read_csv(tmp_path / "f.csv")
    assert f["error"].notna().sum() == 2 and (f["error"].isna()).sum() == 4
    assert f["error"].str.contains(r"missing column\(s\) \['rerr'\]").any()
    assert f["error"].str.contains("not a readable parquet file").any()


# 3. rows starting with '#' after the header are not dropped silently
HASH = "id,time,mag,err\n" + "".join(f"{s},{59000 + 3.1 * k:.3f},{15 + 0.3 * np.sin(k):.3f},0.02\n" for s in ("a", "#x") for k in range(30))


def test_hash_rows_after_header_are_reported(tmp_path):
    (tmp_path / "hash.csv").write_text(HASH)
    with pytest.warns(UserWarning, match=r"30 line\(s\) starting with '#' after the header .* e.g. line 32: '#x,59000.000"):
        got = read_lightcurve(tmp_path / "hash.csv")
    assert got.ids == ["a"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sorted(read_lightcurve(tmp_path / "hash.csv", comment=None).ids) == ["#x", "a"]


def test_comment_header_lines_stay_quiet(tmp_path):
    (tmp_path / "top.csv").write_text("# ASAS-SN style header\n# second line, 3, 4\n" + HASH.split("#x")[0].rstrip(","))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_lightcurve(tmp_path / "top.csv").ids == ["a"]


def test_cli_features_hash_rows_warned(tmp_path):
    (tmp_path / "hash.csv").write_text(HASH)
    code, out, err = run("features", tmp_path / "hash.csv", "-o", tmp_path / "f.csv", "-q", "--jobs", "1")
    assert code == 0, err
    assert "warning:" in err and "30 line(s) starting with '#' after the header" in err and "comment=None" in err


# 4. time zones and parquet column names in messages
def test_iso_dates_with_zones(tmp_path):
    t = pd.Timestamp("2020-06-07T12:00:00Z") + pd.to_timedelta(np.arange(20) * 1.3, unit="D")
    base = pd.DataFrame({"mag": 15 + 0.1 * np.sin(np.arange(20)), "err": 0.02})
    base.assign(date=t.strftime("%Y-%m-%dT%H:%M:%SZ")).to_csv(tmp_path / "z.csv", index=False)
    base.assign(date=t.tz_convert("Asia/Tokyo").strftime("%Y-%m-%dT%H:%M:%S+09:00")).to_csv(tmp_path / "tokyo.csv", index=False)
    base.assign(date=t.tz_convert("Asia/Tokyo")).to_parquet(tmp_path / "tokyo.parquet", index=False)
    want = (t - pd.Timestamp("1858-11-17", tz="UTC")) / pd.Timedelta(days=1) + 0.5   # MJD + 0.5: reduced JD
    for f in ("z.csv", "tokyo.csv", "tokyo.parquet"):
        np.testing.assert_allclose(read_lightcurve(tmp_path / f).data["time"], want.to_numpy(), atol=1e-6, err_msg=f)


def test_parquet_without_time_names_its_columns(tmp_path):
    pd.DataFrame({"objectid": [1, 2], "stuff": [[1, 2], [3]]}).to_parquet(tmp_path / "nested.parquet", index=False)
    with pytest.raises(LightCurveError, match=r"a table without a time column \(columns \['objectid', 'stuff'\]\)"):
        read_lightcurve(tmp_path / "nested.parquet")
