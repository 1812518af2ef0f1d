#!/usr/bin/env python
"""Build the documentation pages without Quarto and check them in a headless browser.

    python scripts/check_docs.py [--out docs-check]

1. Each notebook is processed as `nbdev-proc-nbs` does (nbdev's processors, into `_proc/`): the
   notebooks Quarto would render, API docs (`show_doc`) executed. One process per notebook, so
   every failing notebook is named.
2. Each processed notebook is rendered to HTML with nbconvert (`OUT/html/...`), with its title,
   description and a sidebar of every page.
3. Debian's headless Chromium (`apt-get install chromium`) loads each page; the page must load,
   carry its title (`<title>` and the `<h1>`), show every `show_doc` of the processed notebook
   (its heading), and every figure the notebook holds must be decoded as an image by the browser.
4. Screenshots of the home page and of tutorial 2 go to `OUT/index.png` and `OUT/tutorial.png`;
   the findings to `OUT/report.txt`. Exit code 1 on any problem."""
import argparse
import html
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS, PROC = ROOT / "nbs", ROOT / "_proc"
SCREENSHOTS = {"index.ipynb": "index.png", "tutorials/02_transfer_asas.ipynb": "tutorial.png"}

# Runs in the browser once the page has loaded: how many images decoded, for the check to read.
_PROBE = """<script>
window.addEventListener('load', () => {
  const imgs = [...document.querySelectorAll('img')];
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0).length;
  document.body.setAttribute('data-images', ok + '/' + imgs.length);
});
</script>"""
_STYLE = """<style>
body { margin: 0; } #sidebar { position: fixed; top: 0; left: 0; width: 230px; height: 100%; overflow: auto;
  padding: 12px; font: 13px sans-serif; background: #f6f8fa; border-right: 1px solid #ddd; box-sizing: border-box; }
#sidebar a { display: block; padding: 2px 0; color: #0366d6; text-decoration: none; } #sidebar b { display: block; margin-top: 8px; }
#page { margin-left: 240px; } .page-description { font-size: 1.15em; color: #555; }
</style>"""


def chromium() -> str:
    "The headless browser's executable."
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if (exe := shutil.which(name)): return exe
    sys.exit("check_docs: Chromium not found; install it: apt-get install -y chromium")


def pages() -> list[Path]:
    "The notebooks that become pages, relative to nbs/."
    return sorted(p.relative_to(NBS) for p in NBS.rglob("*.ipynb")
                  if not any(part.startswith(("_", ".")) for part in p.relative_to(NBS).parts))


# ------------------------------------------------------------------------------------- processing
def process(timeout: int = 900) -> dict[str, str]:
    """Process every notebook into `_proc/` as `nbdev-proc-nbs` does (its processors, `FilterDefaults`),
    one notebook per fresh process so that every failing notebook is named and a hang is cut off;
    return {page: error}. (Run as one pool, `nbdev-proc-nbs` can hang at exit, and it rewrites the
    curated `nbs/sidebar.yml`.)"""
    code = ("import sys; from pathlib import Path; import nbdev.serve_drv as d; from nbdev.processors import FilterDefaults;"
            "d.main((Path(sys.argv[1]), Path(sys.argv[2]), FilterDefaults))")
    errors = {}
    for page in pages():
        (PROC / page).parent.mkdir(parents=True, exist_ok=True)
        (PROC / page).unlink(missing_ok=True)
        try: r = subprocess.run([sys.executable, "-c", code, str(NBS / page), str(PROC / page)], cwd=ROOT,
                                capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired: errors[str(page)] = f"processing took over {timeout} s"; continue
        if r.returncode or not (PROC / page).exists():
            found = re.findall(r"^Exception: (Error.*?)(?:\n\n|\Z)", r.stderr, re.M | re.S)
            errors[str(page)] = (found or [r.stderr.strip().splitlines()[-1] if r.stderr.strip() else "failed"])[-1][:600]
    return errors


# ------------------------------------------------------------------------------------- rendering
def frontmatter(nb) -> dict:
    "The YAML front matter nbdev puts in the first raw cell (title, description)."
    import yaml
    for cell in nb.cells:
        if cell.cell_type == "raw" and cell.source.strip().startswith("---"):
            return yaml.safe_load(cell.source.strip().strip("-")) or {}
    return {}


def _sidebar(current: Path, titles: dict) -> str:
    "Links to every page, tutorials first, from the notebook it is on."
    depth = len(current.parts) - 1
    links = []
    for page in sorted(titles, key=lambda p: (p.name != "index.ipynb", not str(p).startswith("tutorials"), str(p))):
        href = "../" * depth + str(page.with_suffix(".html"))
        links.append(f'<a href="{href}">{html.escape(titles[page])}</a>')
    return '<nav id="sidebar"><b>vartransfer</b>' + "".join(links) + "</nav>"


def render(page: Path, out: Path, titles: dict) -> dict:
    "Render the processed notebook of `page` to `out`; return what the browser must find."
    import nbformat
    from nbconvert import HTMLExporter
    nb = nbformat.read(PROC / page, as_version=4)
    fm, api, figures = frontmatter(nb), [], 0
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "raw": continue
        if cell.cell_type == "code":
            directives = dict(re.findall(r"^#\|\s*([\w-]+):?\s*(.*)$", cell.source, re.M))
            cell.source = "\n".join(l for l in cell.source.splitlines() if not l.startswith("#|")).strip()
            if "show_doc(" in cell.source:
                name = re.search(r"show_doc\(([\w.]+)", cell.source).group(1)
                api.append(name)
            if directives.get("echo") == "false" or "show_doc(" in cell.source: cell.metadata["tags"] = ["remove_input"]
            for o in cell.get("outputs", []):
                data = o.get("data", {})
                if any(k.startswith("image/") for k in data): figures += 1
                if "text/markdown" in data:   # Quarto attribute syntax means nothing to a markdown renderer
                    data["text/markdown"] = re.sub(r"\{target=[^}]*\}", "", data["text/markdown"])
        for key in set(cell) - {"cell_type", "id", "metadata", "source", "outputs", "execution_count", "attachments"}:
            del cell[key]   # nbdev's bookkeeping, which nbformat's validation refuses
        cell.metadata.pop("execution", None)
        cells.append(cell)
    title = str(fm.get("title", page.stem))
    head = f"# {title}\n\n" + (f'<p class="page-description">{html.escape(str(fm["description"]))}</p>' if fm.get("description") else "")
    nb.cells = [nbformat.v4.new_markdown_cell(head)] + cells
    nb.metadata["title"] = title
    from nbconvert.preprocessors import TagRemovePreprocessor
    exporter = HTMLExporter(template_name="lab")
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={"remove_input"}), enabled=True)
    exporter.exclude_input_prompt = exporter.exclude_output_prompt = True
    body, _ = exporter.from_notebook_node(nb)
    body = re.sub(r"(<body[^>]*>)", r"\1" + _sidebar(page, titles) + '<div id="page">', body, count=1)
    body = body.replace("</body>", "</div>" + _PROBE + "</body>").replace("</head>", _STYLE + "</head>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(body)
    return {"title": title, "api": api, "figures": figures}


# ------------------------------------------------------------------------------------- browsing
def _browser(args: list[str], timeout: int = 60) -> subprocess.CompletedProcess:
    base = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--hide-scrollbars", "--run-all-compositor-stages-before-draw", "--virtual-time-budget=5000",
            f"--user-data-dir={tempfile.mkdtemp(prefix='docs-check-chromium-')}"]
    return subprocess.run(base + args, capture_output=True, text=True, timeout=timeout)


def check_page(html_path: Path, expect: dict) -> list[str]:
    "Problems of the page at `html_path` as the browser shows it."
    r = _browser(["--dump-dom", html_path.as_uri()])
    dom = r.stdout
    if r.returncode or "<body" not in dom: return [f"did not load (chromium exit {r.returncode}): {r.stderr.strip()[-300:]}"]
    problems = []
    page_title = re.search(r"<title>(.*?)</title>", dom, re.S)
    if not page_title or html.unescape(page_title.group(1)).strip().replace("`", "") != expect["title"].replace("`", ""):
        problems.append(f"<title> is {page_title.group(1) if page_title else None!r}, not {expect['title']!r}")
    h1 = [html.unescape(re.sub(r"<[^>]+>", "", h)).replace("¶", "").strip() for h in re.findall(r"<h1[^>]*>(.*?)</h1>", dom, re.S)]
    if expect["title"].replace("`", "") not in h1: problems.append(f"no <h1> with the title {expect['title']!r} (h1: {h1[:3]})")
    headings = {html.unescape(re.sub(r"<[^>]+>", "", h)).replace("¶", "").strip()
                for h in re.findall(r"<h[2-4][^>]*>(.*?)</h[2-4]>", dom, re.S)}
    bare = lambda name: name.split(".")[-1].replace("_", "")   # markdown turns `__call__` into a bold "call"
    missing = [name for name in expect["api"] if not any(bare(h) == bare(name) for h in headings)]
    if missing: problems.append(f"API docs missing on the page: {missing}")
    images = re.search(r'data-images="(\d+)/(\d+)"', dom)
    if not images: problems.append("the page's load handler did not run")
    else:
        ok, total = map(int, images.groups())
        if ok < total: problems.append(f"{total - ok} of {total} images did not load")
        if ok < expect["figures"]: problems.append(f"{expect['figures']} figures in the notebook, {ok} images on the page")
    return problems


def screenshot(html_path: Path, png: Path):
    "A full-width screenshot of the top of the page."
    _browser([f"--screenshot={png}", "--window-size=1280,2000", html_path.as_uri()])


def main(out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    lines, bad = [], 0
    errors = process()
    import nbformat
    titles = {}
    for page in pages():
        if (PROC / page).exists() and str(page) not in errors:
            titles[page] = str(frontmatter(nbformat.read(PROC / page, as_version=4)).get("title", page.stem))
    for page in pages():
        if str(page) in errors:
            bad += 1; lines.append(f"FAIL {page}: nbdev-proc-nbs: {errors[str(page)]}"); continue
        html_path = out / "html" / page.with_suffix(".html")
        expect = render(page, html_path, titles)
        problems = check_page(html_path, expect)
        if str(page) in SCREENSHOTS: screenshot(html_path, out / SCREENSHOTS[str(page)])
        bad += bool(problems)
        lines.append(f"{'FAIL' if problems else 'ok  '} {page}: title {expect['title']!r}, {len(expect['api'])} API docs, "
                     f"{expect['figures']} figures" + "".join(f"\n     - {p}" for p in problems))
    for png in SCREENSHOTS.values():
        if not (out / png).exists() or (out / png).stat().st_size < 1000:
            bad += 1; lines.append(f"FAIL screenshot {png} was not written")
    report = "\n".join(lines) + f"\n{len(pages()) - bad if bad <= len(pages()) else 0} of {len(pages())} pages pass\n"
    (out / "report.txt").write_text(report)
    print(report, end="")
    return 1 if bad else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs-check", help="folder for the HTML, screenshots and report")
    sys.exit(main(parser.parse_args().out.resolve()))
