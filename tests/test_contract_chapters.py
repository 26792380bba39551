"""Every chapter of the manifest keeps the chapter contract (`workshop dev verify`, in-process).

A chapter whose files do not exist yet fails here, on purpose: the course is not done until
every chapter it declares is.
"""

import pytest

from workshop import checking, contract
from workshop.manifest import load_manifest

# Every chapter's suite twice (starter and solution): minutes; `workshop dev verify NN` checks one.
pytestmark = pytest.mark.slow

MANIFEST = load_manifest()


@pytest.mark.parametrize("chapter", MANIFEST.chapters, ids=lambda chapter: chapter.slug)
def test_chapter_keeps_the_contract(chapter):
    # The servers this chapter needs, resolved here once like `workshop dev verify` does.
    env = checking.service_environment(checking.resolve_services(chapter.services))

    verification = contract.verify_chapter(MANIFEST, chapter, env=env)

    if not verification.ok:
        problems = "\n".join(f"  [{f.rule}] {f.message}" for f in verification.findings)
        pytest.fail(f"chapter {chapter.slug} breaks the contract:\n{problems}", pytrace=False)
