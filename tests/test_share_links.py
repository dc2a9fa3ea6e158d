"""tools/share_links.py: Binder and nbgitpuller links derived from a repository's address."""

import importlib.util
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("share_links", ROOT / "tools" / "share_links.py")
share_links = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(share_links)

SETUP_CHECK = "?urlpath=lab/tree/lessons/00-setup-check.ipynb"


@pytest.mark.parametrize(
    "remote",
    [
        "https://github.com/ada/nn-course",
        "https://github.com/ada/nn-course.git",
        "git@github.com:ada/nn-course.git",
        "ssh://git@github.com/ada/nn-course.git",
    ],
)
def test_binder_link_from_any_spelling_of_a_github_remote(remote):
    assert share_links.binder_url(remote) == (
        "https://mybinder.org/v2/gh/ada/nn-course/HEAD" + SETUP_CHECK
    )
    assert share_links.https_url(remote) == "https://github.com/ada/nn-course"


def test_binder_link_for_gitlab_and_for_any_other_git_host():
    assert share_links.binder_url("git@gitlab.com:group/sub/nn-course.git") == (
        "https://mybinder.org/v2/gl/group%2Fsub%2Fnn-course/HEAD" + SETUP_CHECK
    )
    assert share_links.binder_url("https://git.example.edu/nn-course.git") == (
        "https://mybinder.org/v2/git/https%3A%2F%2Fgit.example.edu%2Fnn-course.git/HEAD"
        + SETUP_CHECK
    )


def test_badge_is_markdown_linking_to_the_lesson():
    badge = share_links.binder_badge("https://github.com/ada/nn-course", "lessons/05-x.ipynb")
    assert badge == (
        "[![Binder](https://mybinder.org/badge_logo.svg)]"
        "(https://mybinder.org/v2/gh/ada/nn-course/HEAD?urlpath=lab/tree/lessons/05-x.ipynb)"
    )


def test_nbgitpuller_link_goes_through_the_hub_and_names_its_target_folder():
    link = share_links.nbgitpuller_url(
        "https://hub.example.edu/", "https://github.com/ada/nn-course.git", "lessons/01-p.ipynb"
    )
    parts = urlsplit(link)
    assert (parts.netloc, parts.path) == ("hub.example.edu", "/hub/user-redirect/git-pull")
    assert parse_qs(parts.query) == {
        "repo": ["https://github.com/ada/nn-course.git"],
        "branch": ["main"],
        "targetpath": ["nn-course"],
        "urlpath": ["lab/tree/nn-course/lessons/01-p.ipynb"],
    }
    direct = share_links.nbgitpuller_url(
        "http://127.0.0.1:8888", "file:///srv/c.git", "x.ipynb", through_hub=False
    )
    assert urlsplit(direct).path == "/git-pull"


def test_without_a_remote_the_tool_says_so_and_fails(tmp_path):
    subprocess.run(["git", "init", "--quiet", str(tmp_path)], check=True)
    with pytest.raises(share_links.NoRemote, match="no git remote named 'origin'"):
        share_links.origin_url(tmp_path)


def test_command_line_prints_link_and_badge_for_a_given_repository(capsys):
    assert share_links.main(["binder", "--repo", "git@github.com:ada/nn-course.git"]) == 0
    url, badge = capsys.readouterr().out.splitlines()
    assert url == "https://mybinder.org/v2/gh/ada/nn-course/HEAD" + SETUP_CHECK
    assert badge.endswith(f"({url})")


def test_file_links_for_github_and_gitlab_and_none_elsewhere():
    path = "lessons/exercises/solutions/01 perceptron.py"
    assert share_links.file_url("https://github.com/ada/nn-course", path) == (
        "https://github.com/ada/nn-course/blob/HEAD/lessons/exercises/solutions/01%20perceptron.py"
    )
    assert share_links.file_url("git@gitlab.com:group/nn-course.git", "README.md") == (
        "https://gitlab.com/group/nn-course/-/blob/HEAD/README.md"
    )
    assert share_links.file_url("https://git.example.edu/nn-course.git", "README.md") is None


@pytest.mark.parametrize(
    "remote", ["/work/nn-course", "file:///srv/nn-course.git", "ada@school.example:nn-course"]
)
def test_a_local_or_private_remote_is_no_web_address_and_gets_no_binder_link(remote, capsys):
    assert share_links.public_url(remote) is None
    assert share_links.main(["binder", "--repo", remote]) == 1
    assert "Binder cannot fetch it" in capsys.readouterr().err


def test_web_addresses_are_public_and_ssh_spellings_of_hosted_remotes_become_https():
    assert share_links.public_url("git@github.com:ada/nn-course.git") == (
        "https://github.com/ada/nn-course"
    )
    assert share_links.public_url("https://git.example.edu/nn-course.git") == (
        "https://git.example.edu/nn-course.git"
    )
