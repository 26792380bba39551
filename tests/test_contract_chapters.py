"""Every chapter of the manifest keeps the chapter contract (`workshop dev verify`, in-process).

A chapter whose files do not exist yet fails here, on purpose: the course is not done until
every chapter it declares is.
"""

import pytest

from workshop import checking, contract
from workshop.manifest import load_manifest

MANIFEST = load_manifest()


@pytest.fixture(scope="module")
def service_env() -> dict[str, str]:
    """The servers every chapter may need, resolved once like `workshop dev verify` does."""
    return checking.service_environment(checking.resolve_services(MANIFEST.services))


@pytest.mark.parametrize("chapter", MANIFEST.chapters, ids=lambda chapter: chapter.slug)
def test_chapter_keeps_the_contract(chapter, service_env):
    verification = contract.verify_chapter(MANIFEST, chapter, env=service_env)

    if not verification.ok:
        problems = "\n".join(f"  [{f.rule}] {f.message}" for f in verification.findings)
        pytest.fail(f"chapter {chapter.slug} breaks the contract:\n{problems}", pytrace=False)
