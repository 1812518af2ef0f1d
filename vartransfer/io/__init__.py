"""Survey light-curve readers: `core` (registry, parsing), `times` (time conventions), `answers` (JSON answers), `photometry` (OGLE, EROS, MACHO, SuperWASP, DASCH, Gaia Science Alerts),
`asas` (ASAS, ASAS-SN, Catalina, ATLAS, Pan-STARRS1, Hipparcos, AAVSO), `ztf` (ZTF, its data releases, ALeRCE, Gaia, Rubin),
`difference` (ZTF alerts from Fink and Lasair, ANTARES loci, ZTF forced photometry), `space` (TESS, Kepler, K2, lightkurve's files), `wise` (WISE, NEOWISE), `tables` (text, tables, FITS, parquet)
and `read` (detection, archives, `read_lightcurve`). Import names from those modules; the names are also
reachable here, lazily, for code written before the split."""

_WHERE = dict(READERS='core', register_reader='core', list_formats='core', NotALightCurve='core',
              JSON_MAX_BYTES='answers', parse_time_format='times', infer_time_format='times',
              read_ogle='photometry', read_eros2='photometry', read_eros1_ramp='photometry', read_macho='photometry',
              EROS2_SENTINEL='photometry', EROS1_CLAMP='photometry',
              read_superwasp='photometry', read_dasch='photometry', DASCH_BAD_AFLAGS='photometry', read_gaia_alerts='photometry',
              read_asas_acvs='asas', read_asas_richards='asas', read_asas_richards_tarball='asas', read_asassn='asas',
              read_catalina='asas', read_hipparcos='asas', read_atlas='asas', read_ps1='asas', read_aavso='asas', ASAS_SENTINEL='asas',
              read_tess_kepler='space', read_lightkurve='space', ZERO_POINTS='space', read_wise='wise', WISE_BANDS='wise',
              read_ztf='ztf', read_ztf_dr='ztf', read_alerce='ztf', read_gaia_epoch='ztf', read_rubin='ztf', GAIA_TIME_ZERO='ztf',
              read_ztf_alerts='difference', read_ztf_forced='difference', read_antares='difference', ANTARES_SURVEYS='difference',
              read_text='tables', read_table='tables', read_fits='tables', read_parquet='tables',
              guess_format='read', read_lightcurve='read', read_archive='read')

def __getattr__(name:str):
    "Names of the submodules, imported on first use (PEP 562)."
    if name not in _WHERE: raise AttributeError(f"module 'vartransfer.io' has no attribute {name!r}")
    import importlib
    if name in ('READERS', 'list_formats'): importlib.import_module("vartransfer.io.read")   # every reader registered first
    return getattr(importlib.import_module(f"vartransfer.io.{_WHERE[name]}"), name)
