"""Links that hand the course to students: Binder badges and nbgitpuller links.

    python tools/share_links.py binder [--lesson PATH]           # from this clone's git remote
    python tools/share_links.py nbgitpuller --hub URL [--repo URL] [--lesson PATH] [--branch B]

A Binder link is derived from the repository's own ``origin`` remote (GitHub, GitLab or
any public git URL), so no placeholder has to be edited by hand; without a remote, or
with one that is not a web address (a local path), this says so and exits 1. An
nbgitpuller link makes a JupyterHub user's server clone (or update) the course into their
home folder and open a lesson there; ``--repo`` defaults to the same remote. ``--hub`` is
the hub's address (``https://hub.example.edu``); with ``--server`` instead, the link
targets one Jupyter server directly (no hub in front).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LESSON = "lessons/00-setup-check.ipynb"
BINDER = "https://mybinder.org"
BADGE_IMAGE = "https://mybinder.org/badge_logo.svg"

# git@host:owner/name(.git) and https://host/owner/name(.git), for the hosts Binder knows by name
_HOSTED = re.compile(
    r"^(?:https?://(?:[^@/]+@)?|ssh://git@|git@)(?P<host>github\.com|gitlab\.com)[:/]"
    r"(?P<path>[^?#]+?)(?:\.git)?/?$"
)


class NoRemote(RuntimeError):
    """This clone has no remote to derive a link from."""


def origin_url(repository: Path = ROOT, remote: str = "origin") -> str:
    result = subprocess.run(
        ["git", "-C", str(repository), "remote", "get-url", remote],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0 or not result.stdout.strip():
        raise NoRemote(
            f"This clone has no git remote named {remote!r}, so there is no public address "
            "to build a link from. Publish the course (e.g. push it to GitHub) and add the "
            "remote (`git remote add origin https://github.com/OWNER/NAME`), or pass the "
            "repository's URL with --repo."
        )
    return result.stdout.strip()


def https_url(remote: str) -> str:
    """The address a browser or a JupyterHub can clone anonymously (ssh remotes -> https)."""
    hosted = _HOSTED.match(remote)
    if hosted:
        return f"https://{hosted['host']}/{hosted['path']}"
    return remote


def public_url(remote: str) -> str | None:
    """The remote as a web address Binder or a browser can reach (https_url), or None
    for what only this machine or its users can reach: a local path (a clone of a
    clone), a file:// URL, another host's ssh address."""
    url = https_url(remote)
    return url if re.match(r"^https?://", url) else None


def binder_url(remote: str, lesson: str = DEFAULT_LESSON, ref: str = "HEAD") -> str:
    """mybinder.org's launch link for a repository, opening ``lesson`` in JupyterLab."""
    hosted = _HOSTED.match(remote)
    if hosted:
        provider = {"github.com": "gh", "gitlab.com": "gl"}[hosted["host"]]
        spec = hosted["path"] if provider == "gh" else quote(hosted["path"], safe="")
    else:
        provider, spec = "git", quote(remote, safe="")
    return f"{BINDER}/v2/{provider}/{spec}/{ref}?urlpath={quote(f'lab/tree/{lesson}')}"


def file_url(remote: str, path: str, ref: str = "HEAD") -> str | None:
    """A file's page on GitHub or GitLab; None for other hosts (no known URL scheme)."""
    hosted = _HOSTED.match(remote)
    if not hosted:
        return None
    separator = "blob" if hosted["host"] == "github.com" else "-/blob"
    return f"https://{hosted['host']}/{hosted['path']}/{separator}/{ref}/{quote(path)}"


def binder_badge(remote: str, lesson: str = DEFAULT_LESSON) -> str:
    return f"[![Binder]({BADGE_IMAGE})]({binder_url(remote, lesson)})"


def clone_folder(repo: str) -> str:
    """The folder in the user's home the course is cloned into: the repository's name."""
    return re.sub(r"\.git$", "", repo.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1])


def nbgitpuller_url(
    base: str,
    repo: str,
    lesson: str = DEFAULT_LESSON,
    *,
    branch: str = "main",
    through_hub: bool = True,
) -> str:
    """A link that clones or updates ``repo`` into the user's home and opens ``lesson``.

    ``base`` is the JupyterHub address (``through_hub``) or a single Jupyter server's.
    nbgitpuller merges the student's edits with upstream changes instead of overwriting.
    """
    folder = clone_folder(repo)
    query = urlencode(
        {
            "repo": repo,
            "branch": branch,
            # named explicitly: nbgitpuller's own default keeps a trailing ".git"
            "targetpath": folder,
            "urlpath": f"lab/tree/{folder}/{lesson}",
        }
    )
    prefix = "/hub/user-redirect" if through_hub else ""
    return f"{base.rstrip('/')}{prefix}/git-pull?{query}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/share_links.py", description=__doc__.split("\n")[0]
    )
    kinds = parser.add_subparsers(dest="kind", required=True)
    binder = kinds.add_parser("binder", help="Binder link and README badge from the git remote")
    puller = kinds.add_parser("nbgitpuller", help="a link that opens a lesson on a JupyterHub")
    where = puller.add_mutually_exclusive_group(required=True)
    where.add_argument("--hub", help="the JupyterHub's address, e.g. https://hub.example.edu")
    where.add_argument("--server", help="a single Jupyter server's address (no hub)")
    puller.add_argument("--branch", default="main")
    for sub in (binder, puller):
        sub.add_argument("--repo", help="repository URL (default: this clone's origin remote)")
        sub.add_argument("--lesson", default=DEFAULT_LESSON, help=f"default: {DEFAULT_LESSON}")
    args = parser.parse_args(argv)

    try:
        repo = args.repo or https_url(origin_url())
    except NoRemote as error:
        print(error, file=sys.stderr)
        return 1
    if args.kind == "binder":
        if public_url(repo) is None:  # an nbgitpuller link may name a hub-local path
            print(
                f"{repo} is not a web address, so Binder cannot fetch it (a clone of a local "
                "copy, say). Pass the published repository's URL with --repo.",
                file=sys.stderr,
            )
            return 1
        print(binder_url(repo, args.lesson))
        print(binder_badge(repo, args.lesson))
    else:
        print(
            nbgitpuller_url(
                args.hub or args.server,
                repo,
                args.lesson,
                branch=args.branch,
                through_hub=bool(args.hub),
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
