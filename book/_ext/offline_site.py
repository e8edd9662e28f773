"""Sphinx extension of the course website: pages load nothing from other hosts.

Jupyter Book 1 always loads sphinx-thebe, which puts on every page a script
with the URL of thebe on unpkg.com (declared twice, a console error) and
sphinx-thebe.js. The site has no live-code button (thebe needs a remote
kernel and a CDN), so those scripts are dropped from every page.
"""

from __future__ import annotations


def _is_thebe_script(script) -> bool:
    filename = getattr(script, "filename", None) or str(script)
    body = (getattr(script, "attributes", None) or {}).get("body", "")
    return filename.endswith("sphinx-thebe.js") or "THEBE_JS_URL" in body


def drop_thebe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [s for s in scripts if not _is_thebe_script(s)]


def setup(app):
    app.connect("html-page-context", drop_thebe_scripts)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
