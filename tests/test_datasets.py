"The dataset registry, fetcher and splits on the real data mirror (VARTRANSFER_MIRROR), with an empty cache."
import os
import shutil
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vartransfer.datasets import (SPLIT_FRACTIONS, SPLIT_SEEDS, ChecksumError, DownloadError, benchmark_split,
                                  benchmark_splits, download, fetch, fetch_file, get_dataset, list_datasets,
                                  load_dataset, ogle_url, read_ogle_ident, ztf_url)
from vartransfer.datasets.archives import _ztf_file
from vartransfer.taxonomy import (ASAS_RICHARDS_MAP, OGLE_MAP, SUPERCLASSES, UPSILONT, UPSILONT_CLASSES,
                                  UnmappedLabelsWarning, map_labels, superclass_of)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def cache(tmp_path, monkeypatch, mirror):
    "An empty cache, the real data as mirror, and no network."
    monkeypatch.setenv("VARTRANSFER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VARTRANSFER_MIRROR", str(mirror))
    monkeypatch.setenv("VARTRANSFER_OFFLINE", "1")
    return tmp_path / "home"


def test_taxonomy_order():
    assert UPSILONT_CLASSES[0] == "BV" and UPSILONT_CLASSES[16] == "RRL_ab" and UPSILONT_CLASSES[-1] == "T2CEPH"
    assert UPSILONT.superclasses == SUPERCLASSES
    assert [superclass_of(c) for c in ("CEPH_Other", "EB_ESD", "LPV_SRV_AGB_O", "QSO")] == ["CEPH", "EB", "LPV", "QSO"]
    assert UPSILONT.members("EB") == ("EB_EC", "EB_ED", "EB_ESD")


def test_unmapped_labels_are_reported():
    with pytest.warns(UnmappedLabelsWarning, match="'Nova': 2"):
        mapped, report = map_labels(pd.Series(["Mira", "Nova", "Nova"]), ASAS_RICHARDS_MAP)
    assert mapped.tolist()[0] == "LPV" and mapped.isna().sum() == 2
    assert report.set_index("label").loc["Nova", ["count", "status"]].tolist() == [2, "unknown"]


def test_asas_richards2012(cache):
    t0 = time.perf_counter()
    lcs, labels = load_dataset("asas_richards2012")
    first = time.perf_counter() - t0
    assert len(lcs) == 810 and len(labels) == 810 and sorted(lcs.ids) == sorted(labels.index)
    assert labels.index.name == "id" and isinstance(labels.index[0], str)
    assert labels["superclass"].value_counts().to_dict() == {"CEPH": 93, "T2CEPH": 37, "RRL": 117, "DSCT": 29, "EB": 129, "LPV": 203}
    assert labels["superclass"].notna().sum() == 608
    assert labels["label"].nunique() == 28 and lcs.bands == ["V"]
    assert list(cache.glob("asas_richards2012/parsed-*.parquet")), "parsed collection not cached"
    t0 = time.perf_counter()
    again, _ = load_dataset("asas_richards2012")
    assert time.perf_counter() - t0 < max(first, 3.0)
    pd.testing.assert_frame_equal(again.data, lcs.data)


def test_eros1_ramp(cache):
    lcs, labels = load_dataset("eros1_ramp")
    assert len(lcs.ids) == 3641 and lcs.bands == ["B", "R"]
    assert labels["superclass"].value_counts().to_dict() == {"EB": 439, "CEPH": 736, "RRL": 2231, "LPV": 235}
    raw = pd.concat([pd.read_csv(Path(os.environ["VARTRANSFER_MIRROR"]) / "eros1_ramp" / f, index_col=0) for f in ("train.csv", "test.csv")])
    np.testing.assert_allclose(labels.loc[raw.index, "period"], raw["period"] / raw["div_period"])
    assert labels["split"].value_counts().to_dict() == {"train": 2912, "test": 729}


def test_eros2_and_weights(cache, mirror):
    lcs, labels = load_dataset("eros2_samples")
    assert labels.loc["lm0134l19756", "upsilont_class"] == "RRL_ab" and len(lcs["lm0134l19756", "R"]) == 294
    assert fetch_file("upsilont_genesis", "state_dict.pt") == mirror / "upsilont_genesis" / "state_dict.pt"
    with pytest.raises(ValueError, match="use fetch_file"):
        load_dataset("upsilont_genesis")


def test_corrupt_mirror_is_refused(cache, tmp_path, mirror, monkeypatch):
    bad = tmp_path / "bad_mirror" / "asas_richards2012"
    bad.mkdir(parents=True)
    shutil.copy(mirror / "asas_richards2012" / "asas_training_set_classes.dat", bad)
    data = bytearray((mirror / "asas_richards2012" / "asas_training_set.tar.gz").read_bytes())
    data[1000] ^= 0xFF
    (bad / "asas_training_set.tar.gz").write_bytes(bytes(data))
    monkeypatch.setenv("VARTRANSFER_MIRROR", str(bad.parent))
    with pytest.raises(ChecksumError, match="asas_training_set.tar.gz: sha256 .* does not match the pinned 6c66c443"):
        load_dataset("asas_richards2012")
    assert not (cache / "asas_richards2012" / "asas_training_set.tar.gz").exists()


def test_offline_missing_file_names_url_and_mirror(cache, monkeypatch):
    monkeypatch.delenv("VARTRANSFER_MIRROR")
    url = get_dataset("eros1_ramp").file("train.csv").url
    with pytest.raises(DownloadError, match=f"Download {url}.*VARTRANSFER_MIRROR"):
        fetch_file("eros1_ramp", "train.csv")


def test_offline_remote_dataset_names_url(cache):
    with pytest.raises(DownloadError, match="https://ftp.astrouw.edu.pl/ogle/ogle3/OIII-CVS/lmc/rrlyr/ident.dat"):
        load_dataset("ogle3", var_class="rrlyr", target="lmc")
    with pytest.raises(DownloadError, match=r"nph_light_curves\?ID=123"):
        load_dataset("ztf", ids=[123])


def test_refused_connection_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("VARTRANSFER_OFFLINE", raising=False)
    with pytest.raises(DownloadError, match="could not download http://127.0.0.1:9/x.dat"):
        download("http://127.0.0.1:9/x.dat", tmp_path / "d" / "x.dat", timeout=5)
    assert list((tmp_path / "d").iterdir()) == []


def test_ogle_from_mirror(tmp_path, monkeypatch):
    m = tmp_path / "mirror"
    shutil.copytree(FIXTURES / "datasets" / "ogle3", m / "ogle3")
    phot = m / "ogle3" / "lmc" / "cep" / "phot" / "I"
    phot.mkdir(parents=True)
    shutil.copy(FIXTURES / "ogle_lmc_cep.dat", phot / "OGLE-LMC-CEP-0024.dat")
    monkeypatch.setenv("VARTRANSFER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VARTRANSFER_MIRROR", str(m))
    monkeypatch.setenv("VARTRANSFER_OFFLINE", "1")
    lcs, labels = load_dataset("ogle3", var_class="cep", subtypes=["F/1O"])
    assert lcs.keys == [("OGLE-LMC-CEP-0024", "I")]
    assert labels.loc["OGLE-LMC-CEP-0024", ["label", "superclass", "upsilont_class"]].tolist() == ["CEP F/1O", "CEPH", "CEPH_Other"]
    assert ogle_url("III", "lmc", "cep", "phot/I/OGLE-LMC-CEP-0024.dat").endswith("ogle3/OIII-CVS/lmc/cep/phot/I/OGLE-LMC-CEP-0024.dat")


def test_ogle_ident_layouts():
    cep = read_ogle_ident(FIXTURES / "datasets" / "ogle3" / "lmc" / "cep" / "ident.dat", "cep")
    rr = read_ogle_ident(FIXTURES / "datasets" / "ogle4" / "lmc" / "rrlyr" / "ident.dat", "rrlyr")
    assert cep["label"].tolist() == ["CEP 1O", "CEP F", "CEP 1O", "CEP F/1O"]
    assert (rr["label"] == "RRLYR RRab").all() and rr["dec"].lt(-70).all()
    _, report = map_labels(pd.concat([cep["label"], rr["label"]]), OGLE_MAP)
    assert set(report["status"]) == {"class"}


def test_ztf_from_mirror(tmp_path, monkeypatch):
    url = ztf_url(ra=279.2364, dec=5.3051)
    (tmp_path / "m" / "ztf").mkdir(parents=True)
    shutil.copy(FIXTURES / "ztf_irsa_lightcurve.csv", tmp_path / "m" / "ztf" / _ztf_file("star", url))
    monkeypatch.setenv("VARTRANSFER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("VARTRANSFER_MIRROR", str(tmp_path / "m"))
    monkeypatch.setenv("VARTRANSFER_OFFLINE", "1")
    lcs, labels = load_dataset("ztf", positions={"star": (279.2364, 5.3051)}, labels={"star": "EW"})
    assert lcs.ids == ["star"] and labels.loc["star", "upsilont_class"] == "EB_EC"
    assert "POS=CIRCLE%20279.2364000%205.3051000%20" in url and url.endswith("FORMAT=csv")


def test_benchmark_split(cache):
    _, labels = load_dataset("asas_richards2012")
    y = labels["superclass"]
    train, test = benchmark_split(y, 0.05, 3)
    assert (len(train), len(test)) == (30, 578) and train == sorted(train)
    assert benchmark_split(y.sample(frac=1, random_state=0), 0.05, 3) == (train, test)
    grid = list(benchmark_splits(y))
    assert len(grid) == len(SPLIT_FRACTIONS) * len(SPLIT_SEEDS) == 60
    assert {f for f, *_ in grid} == {0.05, 0.10, 0.20}


def test_registry_and_simulated_lazy_import(cache):
    table = list_datasets()
    assert {"asas_richards2012", "eros1_ramp", "eros2_samples", "upsilont_genesis", "ogle3", "ogle4", "ztf",
            "gaia_dr3", "asassn", "hipparcos"} <= set(table.index)
    assert table.loc["asas_richards2012", "where"] == "local" and table.loc["ztf", "where"] == "remote"
    try:
        import vartransfer.simulate  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="registered by vartransfer.simulate"):
            load_dataset("sim_ogle")
    else:
        with pytest.raises(KeyError, match="no dataset 'sim_nothing_by_this_name'"):
            load_dataset("sim_nothing_by_this_name")


@pytest.fixture
def http_mirror(mirror):
    "The data mirror served over HTTP on localhost (a real server: exercises the download path)."
    import functools
    import http.server
    import threading
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(mirror))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_checks_then_renames(tmp_path, http_mirror, monkeypatch):
    monkeypatch.delenv("VARTRANSFER_OFFLINE", raising=False)
    monkeypatch.setenv("VARTRANSFER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("VARTRANSFER_MIRROR", raising=False)
    spec = get_dataset("asas_richards2012").file("asas_training_set.tar.gz")
    url = f"{http_mirror}/asas_richards2012/asas_training_set.tar.gz"
    with pytest.raises(ChecksumError, match="expected 0000"):
        fetch("asas_richards2012", spec.name, url, "0" * 64)
    folder = tmp_path / "home" / "asas_richards2012"
    assert list(folder.iterdir()) == []                      # no corrupt or partial file left
    path = fetch("asas_richards2012", spec.name, url, spec.sha256)
    assert path == folder / spec.name and [p.name for p in folder.iterdir()] == [spec.name]
    assert fetch("asas_richards2012", spec.name, "http://127.0.0.1:9/unused", spec.sha256) == path   # from the cache now
    with pytest.raises(DownloadError, match="404") as e:
        download(f"{http_mirror}/no/such/file.dat", tmp_path / "x.dat")
    assert e.value.status == 404


def test_each_part_sees_every_dataset():
    "A part imported alone (not through the package) still finds the datasets the other parts register."
    import subprocess, sys
    code = ("from vartransfer.datasets.core import get_dataset, list_datasets; "
            "print(get_dataset('asas_richards2012').name, get_dataset('hipparcos').kind, len(list_datasets()))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ['asas_richards2012', 'service'] and int(out[2]) >= 20, out
