"""Labelled light-curve collections: `core` (sha256-checked fetching through cache, mirror and URL, the
registry, the simulated surveys, `load_dataset` and `make_labels`), `pinned` (the datasets of pinned public
files -- ASAS, EROS-1, EROS-2, the UPSILoN-T weights -- their parsed cache and the benchmark splits) and
`archives` (OGLE, ZTF, Gaia DR3, ASAS-SN and Hipparcos services). Each part registers its datasets when
imported; the names are also reachable here, lazily, and the first one asked for imports all three parts,
so the registry then holds every dataset."""

_PARTS = ('core', 'pinned', 'archives')
_WHERE = dict(HOME_ENV='core', MIRROR_ENV='core', OFFLINE_ENV='core', data_home='core', mirror_dir='core', offline='core',
              DownloadError='core', ChecksumError='core', sha256sum='core', download='core', fetch='core',
              RemoteFile='core', Dataset='core', register_dataset='core', get_dataset='core', list_datasets='core',
              fetch_file='core', SIMULATED_DATASETS='core', LABEL_COLUMNS='core', load_dataset='core', make_labels='core',
              SPLIT_FRACTIONS='pinned', SPLIT_SEEDS='pinned', benchmark_split='pinned', benchmark_splits='pinned',
              ASAS_FILES='pinned', EROS1_FILES='pinned', EROS2_FILES='pinned', UPSILONT_FILES='pinned',
              EROS2_SAMPLES_MAP='pinned',
              OGLE_ARCHIVES='archives', ogle_url='archives', read_ogle_ident='archives', load_ogle='archives',
              ZTF_LIGHTCURVE_API='archives', ztf_url='archives', load_ztf='archives',
              GAIA_TAP_URL='archives', gaia_classifier_query='archives', load_gaia_dr3='archives',
              ASASSN_SKYPATROL='archives', asassn_vsx_query='archives', load_asassn='archives',
              HIPPARCOS_EPOCH_URL='archives', hipparcos_url='archives', load_hipparcos='archives')

def __getattr__(name:str):
    "Names of the parts, imported on first use (PEP 562); every part is imported, so all datasets are registered."
    if name not in _WHERE: raise AttributeError(f"module 'vartransfer.datasets' has no attribute {name!r}")
    import importlib
    for part in _PARTS: importlib.import_module(f"vartransfer.datasets.{part}")
    return getattr(importlib.import_module(f"vartransfer.datasets.{_WHERE[name]}"), name)
